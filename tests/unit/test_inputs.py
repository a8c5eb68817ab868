"""Input declarations and resolution (semantics 2.2; conformance inputs.yaml scenarios)."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import yaml

from kestra_lite.errors import InvalidFlow, InvalidInput
from kestra_lite.model.flow_parser import parse_flow
from kestra_lite.model.inputs import (Input, parse_input_specs, parse_typed_value,
                                      resolve_inputs)

CONFORMANCE = Path("/work/shared/conformance")
FLOWS = CONFORMANCE / "flows"


@functools.lru_cache(maxsize=None)
def _expectations() -> dict:
    return yaml.load((CONFORMANCE / "expectations.yaml").read_text(),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@functools.lru_cache(maxsize=None)
def _inputs_flow():
    return parse_flow((FLOWS / "inputs.yaml").read_text(), "inputs.yaml")


def _base_inputs(tmp_path) -> dict:
    base = dict(_expectations()["flows"]["inputs.yaml"]["base_inputs"])
    local = tmp_path / "application-test.yml"
    local.write_text("hello: world\n")
    base["file"] = str(local)
    return base


def _store_file(input_id, value):
    name = Path(value).name if isinstance(value, str) else value[0]
    return f"kestra:///io/kestra/tests/inputs/executions/exec1/inputs/{input_id}/{name}"


def _encrypt(text):
    return "ENC(" + text[::-1] + ")"


def _resolve(provided, **kwargs):
    return resolve_inputs(_inputs_flow().inputs, provided, store_file=_store_file,
                          encrypt=_encrypt, **kwargs)


def test_the_base_inputs_parse_to_their_typed_values(tmp_path):
    result = _resolve(_base_inputs(tmp_path))
    assert result["string"] == "myString"
    assert result["enum"] == "ENUM_VALUE"
    assert result["int"] == 42
    assert result["float"] == 42.42
    assert result["bool"] is False
    assert result["instant"] == "2019-10-06T18:27:49Z"
    assert result["instantDefaults"] == "2013-08-09T14:19:00Z"
    assert result["date"] == "2019-10-06"
    assert result["time"] == "18:27:49"
    assert result["duration"] == "PT5M6S"
    assert result["file"] == ("kestra:///io/kestra/tests/inputs/executions/exec1/inputs/file/"
                              "application-test.yml")
    assert result["json"] == {"a": "b"}
    assert result["uri"] == "https://www.google.com"
    assert result["nested"] == {"string": "a string", "bool": True, "more": {"int": 123}}
    assert result["validatedString"] == "A123"
    assert result["validatedInt"] == 12
    assert result["validatedFloat"] == 0.42
    assert result["validatedDate"] == "2023-01-02"
    assert result["validatedDateTime"] == "2023-01-01T00:00:10Z"
    assert result["validatedDuration"] == "PT15S"
    assert result["validatedTime"] == "11:27:49"
    assert result["secret"] != "secret" and result["secret"] == _encrypt("secret")
    assert result["array"] == [1, 2, 3]
    assert result["yaml"] == {"some": "property", "alist": ["of", "values"]}
    assert result["empty"] == ""
    json.dumps(result)  # JSON-serialisable


def test_an_optional_input_without_value_is_present_with_null(tmp_path):
    provided = _base_inputs(tmp_path)
    del provided["bool"]
    result = _resolve(provided)
    assert "bool" in result and result["bool"] is None
    assert result["optional"] is None
    assert result["optionalFile"] is None


def test_an_empty_json_object_stays_an_empty_object(tmp_path):
    provided = dict(_base_inputs(tmp_path), json="{}")
    assert _resolve(provided)["json"] == {}


def test_yaml_defaults_given_as_a_map_are_kept(tmp_path):
    provided = _base_inputs(tmp_path)
    del provided["yaml"]
    assert _resolve(provided)["yaml"]["list"][0] == {"key": "key1", "value": "value1"}


def _override_cases():
    scenarios = _expectations()["flows"]["inputs.yaml"]["scenarios"]
    errors = next(s for s in scenarios if s["name"] == "validation-errors")
    return list(errors["expect"]["errors_by_override"].items())


@pytest.mark.parametrize("override,expected", _override_cases())
def test_each_validation_error_of_the_conformance_scenario_has_kestras_message(
        tmp_path, override, expected):
    key, _, value = override.partition("=")
    provided = _base_inputs(tmp_path)
    provided[key] = None if value == "null" else value
    with pytest.raises(InvalidInput) as info:
        _resolve(provided)
    message = info.value.message
    if ", but received `" in expected:
        assert message == expected
    else:
        assert message.startswith(expected)


def test_native_values_are_accepted_as_well_as_strings():
    specs = [Input("i", "INT"), Input("f", "FLOAT"), Input("b", "BOOLEAN"),
             Input("a", "ARRAY", props={"itemType": "STRING"}), Input("j", "JSON")]
    result = resolve_inputs(specs, {"i": 5, "f": 1, "b": True, "a": ["x", "y"],
                                    "j": [1, {"k": None}]})
    assert result == {"i": 5, "f": 1.0, "b": True, "a": ["x", "y"], "j": [1, {"k": None}]}


def test_boolean_strings_other_than_true_are_false():
    specs = [Input("a", "BOOLEAN"), Input("b", "BOOLEAN"), Input("c", "BOOLEAN")]
    assert resolve_inputs(specs, {"a": "TRUE", "b": "yes", "c": "false"}) == \
        {"a": True, "b": False, "c": False}


def test_an_unparsable_int_names_the_expected_type():
    with pytest.raises(InvalidInput) as info:
        resolve_inputs([Input("n", "INT")], {"n": "abc"})
    assert info.value.message == ("Invalid input for `n`, Expected `INT` but received `abc`, "
                                  "but received `abc`")


def test_dotted_ids_become_nested_maps():
    specs = [Input("nested.more.int", "INT"), Input("nested.string", "STRING"),
             Input("top", "STRING", required=False)]
    assert resolve_inputs(specs, {"nested.more.int": "123", "nested.string": "s"}) == \
        {"nested": {"more": {"int": 123}, "string": "s"}, "top": None}


def test_dotted_ids_can_also_be_provided_as_nested_maps():
    specs = [Input("nested.more.int", "INT")]
    assert resolve_inputs(specs, {"nested": {"more": {"int": "7"}}}) == \
        {"nested": {"more": {"int": 7}}}


def _dependent_specs():
    return parse_input_specs([
        {"id": "cloud", "type": "SELECT", "values": ["AWS", "GCP"]},
        {"id": "region", "type": "STRING", "required": False,
         "dependsOn": {"inputs": ["cloud"], "condition": "{{ inputs.cloud == 'AWS' }}"}},
        {"id": "zone", "type": "STRING", "defaults": "z1",
         "dependsOn": {"inputs": ["region"]}},
    ])


def _render(expression, inputs):
    assert expression == "{{ inputs.cloud == 'AWS' }}"
    assert set(inputs) == {"cloud"}
    return inputs["cloud"] == "AWS"


def test_an_input_whose_dependency_condition_is_true_is_resolved():
    result = resolve_inputs(_dependent_specs(), {"cloud": "AWS", "region": "eu"},
                            render=_render)
    assert result == {"cloud": "AWS", "region": "eu", "zone": "z1"}


def test_an_input_whose_dependency_condition_is_false_is_dropped_with_its_dependents():
    result = resolve_inputs(_dependent_specs(), {"cloud": "GCP", "region": "eu"},
                            render=_render)
    assert result == {"cloud": "GCP"}


def test_without_a_renderer_dependency_conditions_count_as_true():
    result = resolve_inputs(_dependent_specs(), {"cloud": "GCP"})
    assert result == {"cloud": "GCP", "region": None, "zone": "z1"}


def test_dependencies_declared_later_are_resolved_first():
    specs = parse_input_specs([
        {"id": "b", "type": "STRING", "dependsOn": {"inputs": ["a"], "condition": "c"}},
        {"id": "a", "type": "INT"},
    ])
    seen = {}

    def render(expression, inputs):
        seen.update(inputs)
        return True

    assert resolve_inputs(specs, {"a": "1", "b": "x"}, render=render) == {"b": "x", "a": 1}
    assert seen == {"a": 1}


def test_select_values_can_come_from_a_rendered_expression():
    specs = parse_input_specs([{"id": "s", "type": "SELECT", "expression": "{{ kv('x') }}"}])
    render = lambda expression, inputs: '["one", "two"]'  # noqa: E731
    assert resolve_inputs(specs, {"s": "two"}, render=render) == {"s": "two"}
    with pytest.raises(InvalidInput) as info:
        resolve_inputs(specs, {"s": "three"}, render=render)
    assert "it must match the values `[one, two]`" in info.value.message


def test_multiselect_accepts_a_json_array_string_and_checks_each_value():
    specs = parse_input_specs([{"id": "m", "type": "MULTISELECT", "values": ["a", "b", "c"]}])
    assert resolve_inputs(specs, {"m": '["a", "c"]'}) == {"m": ["a", "c"]}
    with pytest.raises(InvalidInput):
        resolve_inputs(specs, {"m": ["a", "z"]})


def test_a_file_already_in_internal_storage_is_kept_without_a_store_callback():
    specs = [Input("f", "FILE")]
    assert resolve_inputs(specs, {"f": "kestra:///a/b.txt"}) == {"f": "kestra:///a/b.txt"}


def test_file_uploads_are_stored_through_the_callback():
    specs = [Input("f", "FILE")]
    result = resolve_inputs(specs, {"f": ("data.csv", b"a,b")},
                            store_file=lambda i, v: f"kestra:///x/{i}/{v[0]}")
    assert result == {"f": "kestra:///x/f/data.csv"}


def test_email_inputs_are_validated():
    specs = [Input("e", "EMAIL")]
    assert resolve_inputs(specs, {"e": "a@b.io"}) == {"e": "a@b.io"}
    with pytest.raises(InvalidInput):
        resolve_inputs(specs, {"e": "nope"})


def test_flow_outputs_reuse_the_typed_parsing():
    assert parse_typed_value("INT", "42", "out") == 42
    assert parse_typed_value("ARRAY", ["a", "b"], "out") == ["a", "b"]
    assert parse_typed_value("STRING", '{"value":"x"}', "out") == '{"value":"x"}'
    with pytest.raises(InvalidInput) as info:
        parse_typed_value("INT", "x", "out")
    assert info.value.message.startswith("Invalid input for `out`")


def test_declarations_accept_the_deprecated_name_property():
    specs = parse_input_specs([{"name": "legacy", "type": "STRING"}])
    assert specs[0].id == "legacy" and specs[0].required is True


def test_declaration_problems_are_all_reported():
    with pytest.raises(InvalidFlow) as info:
        parse_input_specs([
            {"id": "a", "type": "NOPE"},
            {"id": "b", "type": "ARRAY"},
            {"id": "c", "type": "ENUM"},
            {"id": "d", "type": "INT", "min": "x"},
            {"id": "d", "type": "STRING"},
            {"id": "e f", "type": "STRING"},
            {"id": "g", "type": "STRING", "dependsOn": {"inputs": ["h"]}},
            {"id": "h", "type": "STRING", "dependsOn": {"inputs": ["g"]}},
        ])
    text = str(info.value)
    assert "Invalid type `NOPE`" in text
    assert "`ARRAY` requires `itemType`" in text
    assert "`ENUM` requires a non-empty `values`" in text
    assert "Invalid `min` of input `d`" in text
    assert "Duplicate input id with name [d]" in text
    assert "Invalid input id `e f`" in text
    assert "Cyclic dependency detected between inputs: g, h" in text
