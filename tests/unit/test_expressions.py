"""Unit tests for kestra_lite.engine.expressions (Kestra's Pebble dialect)."""
import datetime as dt
import re
import time

import pytest

from kestra_lite.engine.expressions import (
    ExpressionError, Hooks, is_truthy, nest_dotted, render, render_typed, render_value,
    render_value_typed, to_text,
)


class FakeHooks(Hooks):
    def __init__(self, logs=None, kv_store=None, secrets=None):
        self.logs = logs or []
        self.kv_store = kv_store or {}
        self.secrets = secrets or {}
        self.calls = []

    def secret(self, key):
        return self.secrets.get(key)

    def kv(self, namespace, key, error_on_missing):
        self.calls.append(("kv", namespace, key, error_on_missing))
        if (namespace, key) in self.kv_store:
            return self.kv_store[(namespace, key)]
        if error_on_missing:
            raise ExpressionError(f"The key '{key}' does not exist in the namespace '{namespace}'.")
        return None

    def read(self, path):
        return f"content of {path}"

    def file_uri(self, path):
        return f"kestra:///ns/{path}"

    def file_size(self, path):
        return 42

    def error_logs(self):
        return self.logs


VARS = {
    "flow": {"id": "my-flow", "namespace": "io.kestra.tests", "revision": 1},
    "execution": {"id": "exec1", "startDate": "2024-01-02T03:04:05.123456Z"},
    "task": {"id": "t1", "type": "io.kestra.plugin.core.log.Log"},
    "taskrun": {"id": "tr1", "value": "v1", "attemptsCount": 3},
    "inputs": {"x": 1, "s": "Hello World", "l": [3, 1, 2], "m": {"a": 1, "b": 2},
               "d": "2024-01-02T03:04:05.123456Z", "empty": "", "none": None, "f": 42.42,
               "json": '{"key": "my-key", "value": {"sub": 1}}'},
    "outputs": {"error-t1": {"value": "from error"}, "ret": {"values": {"one": 1}},
                "each": {"s1": {"a a": {"v1": {"value": "deep"}}}}},
    "labels": {"system.correlationId": "corr-1", "some": "label"},
    "parents": [{"taskrun": {"value": "a a"}}, {"taskrun": {"value": "s1"}}],
    "vars": {"tpl": "{{ inputs.x }}", "nested": "{{ vars.tpl }}"},
}


def r(template, variables=VARS, hooks=None):
    return render(template, variables, hooks)


def error_of(template, variables=VARS, hooks=None):
    with pytest.raises(ExpressionError) as info:
        render(template, variables, hooks)
    return str(info.value)


# ---------------------------------------------------------------- plain strings

def test_a_string_without_braces_is_returned_unchanged():
    s = "plain text with no template at all"
    assert r(s) is s


def test_a_string_with_a_lone_brace_is_text():
    assert r('{"a": 1}') == '{"a": 1}'


def test_trailing_newlines_and_whitespace_are_kept():
    assert r("a {{ inputs.x }}\n\n") == "a 1\n\n"


def test_simple_variables_are_rendered():
    assert r("{{task.id}} > {{ flow.namespace ~ '.' ~ flow.id }}") == "t1 > io.kestra.tests.my-flow"


def test_values_are_data_and_never_re_rendered():
    assert r("{{ vars.tpl }}") == "{{ inputs.x }}"


# ---------------------------------------------------------------- undefined

def test_an_undefined_variable_raises_kestras_message():
    assert error_of("{{missingVar}}") == \
        "Unable to find `missingVar` used in the expression `{{missingVar}}` at line 1"


def test_a_missing_root_names_the_root_variable():
    assert "Unable to find `inputs` used in the expression `{{inputs.invalid}}`" in \
        error_of("{{inputs.invalid}}", {})


def test_a_missing_key_names_the_key():
    assert error_of("{{ outputs.notexists == 2 }}").startswith("Unable to find `notexists`")


def test_the_error_reports_the_line_of_the_undefined_variable():
    assert error_of("line one\nline two {{ nope }}").endswith("at line 2")


def test_an_undefined_variable_in_an_if_condition_raises():
    assert "`nope`" in error_of("{% if nope %}x{% endif %}")


def test_a_missing_list_index_raises():
    assert "Unable to find" in error_of("{{ inputs.l[10] }}")


def test_attribute_of_null_raises():
    assert "`field`" in error_of("{{ inputs.none.field }}")


def test_error_messages_are_a_single_user_facing_line():
    msg = error_of("{{ 'a' + 1 }}")
    assert "Traceback" not in msg and "\n" not in msg


# ---------------------------------------------------------------- ?? and ???

def test_null_coalescing_uses_the_right_side_for_undefined_chains():
    assert r("{{ outputs.default.value ?? outputs['error-t1'].value }}") == "from error"


def test_null_coalescing_uses_the_right_side_for_null():
    assert r("{{ inputs.none ?? 'N' }}") == "N"


def test_null_coalescing_keeps_a_defined_left_side():
    assert r("{{ inputs.x ?? 'N' }}") == "1"


def test_null_coalescing_with_empty_string_fallback():
    assert r("{{ outputs.not_existing ?? '' }}") == ""


def test_null_coalescing_chains_left_to_right():
    assert r("{{ a ?? b ?? 'c' }}") == "c"


def test_null_coalescing_does_not_evaluate_the_right_side_when_not_needed():
    hooks = FakeHooks()
    assert r("{{ inputs.x ?? kv('k', errorOnMissing=true) }}", hooks=hooks) == "1"
    assert hooks.calls == []


def test_null_coalescing_binds_tighter_than_comparison():
    assert r("{{ nope ?? 2 == 2 }}") == "true"


def test_undefined_coalescing_only_replaces_undefined():
    assert r("{{ nope ??? 'U' }}") == "U"
    assert r("{{ inputs.none ??? 'U' }}") == ""


def test_null_coalescing_on_a_kv_miss_renders_empty():
    assert r("{{ kv('my-key').field ?? null }}", hooks=FakeHooks()) == ""


# ---------------------------------------------------------------- output writer

def test_maps_and_lists_render_as_compact_json():
    assert r("{{ inputs.m }}|{{ inputs.l }}") == '{"a":1,"b":2}|[3,1,2]'


def test_booleans_null_and_floats_render_like_java():
    assert r("{{ true }}|{{ null }}|{{ inputs.f }}|{{ 1.0 }}") == "true||42.42|1.0"


def test_concatenation_writes_values_like_the_output_writer():
    assert r("{{ 'a' ~ true ~ null ~ [1] }}") == "atrue[1]"


def test_to_text_formats_datetimes_as_iso_instants():
    value = dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=dt.timezone.utc)
    assert to_text(value) == "2024-01-02T03:04:05.123Z"


def test_to_text_writes_json_without_ascii_escaping():
    assert to_text({"k": "é", "n": None, "b": False}) == '{"k":"é","n":null,"b":false}'


def test_to_text_of_none_is_empty_and_large_floats_use_java_notation():
    assert to_text(None) == ""
    assert to_text(1e7) == "1.0E7"


# ---------------------------------------------------------------- truthiness

@pytest.mark.parametrize("value", [None, False, "false", "0", "-0", "", 0])
def test_falsy_values(value):
    assert is_truthy(value) is False


@pytest.mark.parametrize("value", [True, "true", "False", "no", "null", 1, "x", 0.0, [], {}])
def test_truthy_values(value):
    assert is_truthy(value) is True


# ---------------------------------------------------------------- operators & tags

def test_ternary_is_lazy_on_the_branch_not_taken():
    assert r("{{ taskrun.attemptsCount == 3 ? 'ok' : ko}}") == "ok"
    assert "`ko`" in error_of("{{ taskrun.attemptsCount == 2 ? 'ok' : ko}}")


def test_nested_ternaries_are_right_associative():
    assert r("{{ false ? 'a' : true ? 'b' : 'c' }}") == "b"


def test_equals_operator_and_comparisons():
    assert r("{{ taskrun.value equals 'v1' }}|{{ inputs.x != 1 }}") == "true|false"


def test_contains_operator_on_lists_strings_and_maps():
    assert r("{{ inputs.l contains 2 }}|{{ 'abc' contains 'b' }}|{{ inputs.m contains 'z' }}") == \
        "true|true|false"


def test_contains_combines_with_boolean_operators():
    assert r("{{ inputs.l contains 5 or inputs.l contains 1 }}") == "true"


def test_range_operator_is_inclusive():
    assert r("{{ 1..3 }}|{% for i in 0..2 %}{{ i }}{% endfor %}") == "[1,2,3]|012"


def test_integer_division_truncates_like_java():
    assert r("{{ 7 / 2 }}|{{ -7 / 2 }}|{{ 7.0 / 2 }}|{{ -7 % 3 }}") == "3|-3|3.5|-1"


def test_tests_defined_null_empty_json_and_more():
    assert r("{{ inputs.m.a is defined }}{{ inputs.zz.deep is defined }}{{ inputs.none is null }}"
             "{{ inputs.x is not null }}{{ inputs.empty is empty }}{{ 3 is odd }}{{ 4 is even }}"
             "{{ inputs.m is map }}{{ inputs.l is iterable }}{{ inputs.json is json }}"
             "{{ 'value 1' is json }}{{ inputs.x is sameas(1) }}") == \
        "truefalsetruetruetruetruetruetruetruetruefalsetrue"


def test_elseif_chain():
    t = "{% if inputs.x == 2 %}two{% elseif inputs.x == 1 %}one{% else %}other{% endif %}"
    assert r(t) == "one"


def test_for_loop_with_zero_based_loop_index_and_else():
    assert r("{% for i in inputs.l %}{{ loop.index }}:{{ i }}{% if not loop.last %},{% endif %}{% endfor %}") == \
        "0:3,1:1,2:2"
    assert r("{% for i in [] %}x{% else %}empty{% endfor %}") == "empty"


def test_for_loop_over_a_map_yields_entries():
    assert r("{% for e in inputs.m %}{{ e.key }}={{ e.value }};{% endfor %}") == "a=1;b=2;"
    assert r("{% for k, v in inputs.m %}{{ k }}{{ v }}{% endfor %}") == "a1b2"


def test_for_loop_over_null_renders_nothing():
    assert r("{% for i in inputs.none %}x{% endfor %}") == ""


def test_set_macro_and_filter_tags():
    t = ("{% set y = inputs.x + 1 %}{{ y }}|{% macro hi(name='you') %}hi {{ name }}{% endmacro %}"
         "{{ hi() }} {{ hi('bob') }}|{% filter upper %}loud{% endfilter %}")
    assert r(t) == "2|hi you hi bob|LOUD"


def test_whitespace_control_trims_like_pebble():
    assert r("a  {%- if true -%}  b  {%- endif -%}  c") == "abc"
    assert r("[ {{- inputs.x -}} ]") == "[1]"


def test_error_logs_loop_from_the_semantics_example():
    hooks = FakeHooks(logs=[{"taskId": "failed", "message": "Task failure", "level": "ERROR"}])
    template = ("{%- for log in errorLogs() -%}\n- task: {{ log.taskId }}, message: {{ log.message }}\n"
                "{%- endfor -%}\n")
    assert r(template, hooks=hooks) == "- task: failed, message: Task failure"


def test_error_logs_outside_the_worker_raises():
    assert "can only be used in the Worker" in error_of("{{ errorLogs() }}")


def test_raw_blocks_are_kept_literal():
    assert r("{% raw %}{{ inputs.x }}{% endraw %} {{ inputs.x }}") == "{{ inputs.x }} 1"


def test_verbatim_blocks_are_kept_literal():
    assert r("{% verbatim %}{{ nope }}{% endverbatim %}") == "{{ nope }}"


def test_comments_are_removed():
    assert r("a{# hidden #}b") == "ab"


def test_string_interpolation_in_double_quotes():
    assert r('{{ "x=#{inputs.x + 1}!" }}') == "x=2!"


def test_map_literals_with_nested_braces():
    assert r("{{ {'a': {'b': [1, 2]}} }}") == '{"a":{"b":[1,2]}}'


@pytest.mark.parametrize("tag", ["include 'x'", "extends 'x'", "import 'x' as y", "autoescape",
                                 "cache 'x'", "flush", "parallel"])
def test_removed_tags_are_rejected(tag):
    assert "tag" in error_of("{% " + tag + " %}")


def test_syntax_errors_become_expression_errors_with_a_line():
    msg = error_of("ok\n{{ 1 + }}")
    assert msg.endswith("at line 2")


def test_unknown_filters_are_reported():
    assert "Filter [nope] does not exist" in error_of("{{ 1 | nope }}")


# ---------------------------------------------------------------- labels / dotted keys

def test_dotted_label_keys_are_reachable_as_nested_attributes():
    assert r("{{labels.system.correlationId}}|{{ labels['system'].correlationId }}") == "corr-1|corr-1"
    assert r("{{ labels.some == 'label' }}") == "true"


def test_nest_dotted_builds_nested_maps():
    assert nest_dotted({"system.correlationId": "c", "a": 1}) == {"system": {"correlationId": "c"}, "a": 1}


def test_a_key_named_values_is_data_not_a_python_method():
    assert r("{{ outputs.ret.values.one }}") == "1"


# ---------------------------------------------------------------- sandbox

@pytest.mark.parametrize("template", [
    "{{ ''.__class__ }}", "{{ inputs.s.upper() }}", "{{ inputs.m.items() }}",
    "{{ range.__globals__ }}", "{{ inputs.__class__.__mro__ }}", "{{ loop }}",
])
def test_python_internals_are_not_reachable(template):
    with pytest.raises(ExpressionError):
        r(template)


# ---------------------------------------------------------------- typed rendering

def test_typed_rendering_returns_native_values():
    assert render_typed("{{ inputs.m }}", VARS) == {"a": 1, "b": 2}
    assert render_typed("  {{ inputs.l | length }}\n", VARS) == 3
    assert render_typed("{{ inputs.none }}", VARS) is None
    assert render_typed("{{ inputs.x == 1 }}", VARS) is True


def test_typed_rendering_of_mixed_text_is_a_string():
    assert render_typed("n={{ inputs.x }}", VARS) == "n=1"
    assert render_typed("{{ inputs.x }}{{ inputs.x }}", VARS) == "11"


def test_typed_rendering_raises_on_undefined():
    with pytest.raises(ExpressionError, match="Unable to find `nope`"):
        render_typed("{{ nope }}", VARS)


def test_render_value_renders_nested_structures_and_keys():
    value = {"{{ task.id }}": ["{{ inputs.x }}", 3, {"k": "{{ inputs.l }}"}], "n": None}
    assert render_value(value, VARS) == {"t1": ["1", 3, {"k": "[3,1,2]"}], "n": None}
    assert render_value_typed(value, VARS) == {"t1": [1, 3, {"k": [3, 1, 2]}], "n": None}


# ---------------------------------------------------------------- dates

def test_date_filter_default_iso_format():
    assert r("{{ inputs.d | date }}") == "2024-01-02T03:04:05.123456Z"


def test_date_filter_java_patterns():
    assert r("{{ inputs.d | date(\"yyyy-MM-dd'T'HH:mm:ss.SSS EEE EEEE MMM MMMM a hh XXX Z\") }}") == \
        "2024-01-02T03:04:05.123 Tue Tuesday Jan January AM 03 Z +0000"


def test_date_filter_with_time_zone():
    assert r("{{ inputs.d | date('yyyy-MM-dd HH:mm XXX', timeZone='Europe/Paris') }}") == \
        "2024-01-02 04:04 +01:00"


def test_date_filter_named_formats():
    t = "{{ inputs.d | date('iso_sec') }}|{{ inputs.d | date('sql') }}|{{ inputs.d | date('iso_local_date') }}"
    assert r(t) == "2024-01-02T03:04:05Z|2024-01-02 03:04:05.123456|2024-01-02"


def test_date_filter_accepts_epoch_seconds_and_existing_format():
    assert r("{{ 1704164645 | date('iso_sec') }}") == "2024-01-02T03:04:05Z"
    assert r("{{ '02/01/2024 10:30' | date('yyyy-MM-dd HH:mm', existingFormat='dd/MM/yyyy HH:mm') }}") == \
        "2024-01-02 10:30"


def test_date_filter_converts_offsets_to_utc_by_default():
    assert r("{{ '2024-01-02T05:00:00+02:00' | date('HH:mm') }}") == "03:00"


def test_date_add_and_timestamps():
    assert r("{{ inputs.d | dateAdd(1, 'DAYS') }}") == "2024-01-03T03:04:05.123456Z"
    assert r("{{ inputs.d | dateAdd(-2, 'HOURS', 'HH:mm') }}") == "01:04"
    assert r("{{ '2024-01-31T00:00:00Z' | dateAdd(1, 'MONTHS', 'yyyy-MM-dd') }}") == "2024-02-29"
    assert r("{{ inputs.d | timestamp }}|{{ inputs.d | timestampMicro }}|{{ inputs.d | timestampNano }}") == \
        "1704164645|1704164645123456|1704164645123456000"


def test_now_function_formats_the_current_time():
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    value = r("{{ now() }}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", value)
    assert dt.datetime.fromisoformat(value) >= before
    assert re.fullmatch(r"\d{4}", r("{{ now(format='yyyy', timeZone='Asia/Tokyo') }}"))


def test_an_unparsable_date_raises():
    assert "Unable to parse date" in error_of("{{ 'not a date' | date }}")


# ---------------------------------------------------------------- jq and json

def test_jq_always_returns_a_list_and_parses_json_strings():
    assert r("{{ inputs.json | jq('.key') }}") == '["my-key"]'
    assert r("{{ inputs.json | jq('.value') | first }}") == '{"sub":1}'
    assert r("{{ inputs.m | jq('.a') | first }}") == "1"


def test_jq_errors_are_expression_errors():
    assert "jq" in error_of("{{ inputs.m | jq('.[') }}").lower()


def test_json_filters_and_functions():
    assert r("{{ inputs.m | json }}|{{ inputs.none | toJson }}") == '{"a":1,"b":2}|null'
    assert r("{{ fromJson('{\"a\":[1,2]}').a[1] }}|{{ json('[5]')[0] }}") == "2|5"


def test_yaml_filter_and_function():
    assert r("{{ {'a': {'b': 1}} | yaml }}") == "a:\n  b: 1\n"
    assert r("{{ yaml('a: [1, 2]').a[1] }}") == "2"


# ---------------------------------------------------------------- other filters

@pytest.mark.parametrize("template,expected", [
    ("{{ inputs.s | upper }}", "HELLO WORLD"),
    ("{{ inputs.s | lower }}", "hello world"),
    ("{{ 'hello wORLD' | title }}", "Hello World"),
    ("{{ 'hello world' | capitalize }}", "Hello world"),
    ("{{ '  x  ' | trim }}", "x"),
    ("{{ inputs.l | sort }}", "[1,2,3]"),
    ("{{ inputs.l | rsort | join(',') }}", "3,2,1"),
    ("{{ inputs.l | reverse }}", "[2,1,3]"),
    ("{{ inputs.m | keys }}{{ inputs.m | values }}", '["a","b"][1,2]'),
    ("{{ inputs.l | length }}{{ inputs.s | length }}", "311"),
    ("{{ inputs.l | first }}{{ inputs.l | last }}{{ inputs.s | first }}", "32H"),
    ("{{ inputs.s | slice(0, 5) }}|{{ inputs.l | slice(1) }}", "Hello|[1,2]"),
    ("{{ 'a,b,,' | split(',') }}", '["a","b"]'),
    ("{{ 'a.b.c' | split('\\\\.', 2) }}", '["a","b.c"]'),
    ("{{ [1, 2] | merge([3]) }}|{{ {'a': 1} | merge({'b': 2}) }}", '[1,2,3]|{"a":1,"b":2}'),
    ("{{ inputs.empty | default('d') }}|{{ nope | default('u') }}|{{ inputs.x | default('d') }}", "d|u|1"),
    ("{{ 'abcdefgh' | abbreviate(6) }}", "abc..."),
    ("{{ (0 - 3) | abs }}", "3"),
    ("{{ 'hi' | base64encode }}|{{ 'aGk=' | base64decode }}", "aGk=|hi"),
    ("{{ 'a b&c~' | urlencode }}|{{ 'a+b%26c' | urldecode }}", "a+b%26c%7E|a b&c"),
    ("{{ 'hello' | md5 }}", "5d41402abc4b2a76b9719d911017c592"),
    ("{{ 'hello' | sha1 }}", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
    ("{{ 'hello' | sha256 | abbreviate(11) }}", "2cf24dba..."),
    ("{{ 'hello' | sha512 | length }}", "128"),
    ("{{ 'Hello World ÉTÉ' | slugify }}", "hello-world-ete"),
    ("{{ 'a/b/c' | substringBefore('/') }}|{{ 'a/b/c' | substringAfter('/') }}", "a|b/c"),
    ("{{ 'a/b/c' | substringBeforeLast('/') }}|{{ 'a/b/c' | substringAfterLast('/') }}", "a/b|c"),
    ("{{ 'abc' | substringBefore('z') }}|{{ 'abc' | substringAfter('z') }}", "abc|"),
    ("{{ 'abc' | startsWith('ab') }}{{ 'abc' | endsWith('b') }}", "truefalse"),
    ("{{ [[1, 2], [3], 4] | flatten }}", "[1,2,3,4]"),
    ("{{ [1, 2, 3, 4, 5] | chunk(2) }}", "[[1,2],[3,4],[5]]"),
    ("{{ 'a\nb' | indent(2) }}", "a\n  b"),
    ("{{ 'a\nb' | nindent(2) }}", "\n  a\n  b"),
    ("{{ \"it's\" | escapeChar('single') }}|{{ 'say \"x\"' | escapeChar('double') }}", "it\\'s|say \\\"x\\\""),
    ("{{ \"it's\" | escapeChar('shell') }}", "it'\\''s"),
    ("{{ 'abc' | replace({'a': 'x', 'b': 'y'}) }}", "xyc"),
    ("{{ 'a1b22' | replace({'(\\\\d+)': '<$1>'}, regexp=true) }}", "a<1>b<22>"),
    ("{{ 'x' | className }}|{{ 1 | className }}|{{ inputs.m | className }}",
     "java.lang.String|java.lang.Integer|java.util.LinkedHashMap"),
    ("{{ '42' | number + 1 }}|{{ '1.5' | number }}|{{ '7' | number('DOUBLE') }}", "43|1.5|7.0"),
    ("{{ 1234567.891 | numberFormat('#,##0.00') }}|{{ 3 | numberFormat('000') }}", "1,234,567.89|003"),
])
def test_filters(template, expected):
    assert r(template) == expected


# ---------------------------------------------------------------- functions

def test_render_function_renders_recursively():
    assert r("{{ render(vars.nested) }}|{{ render(vars.nested, recursive=false) }}") == \
        "1|{{ inputs.x }}"


def test_render_once_renders_a_single_time():
    assert r("{{ renderOnce(vars.nested) }}") == "{{ inputs.x }}"


def test_render_function_keeps_raw_content_literal():
    variables = dict(VARS, vars={"r": "{% raw %}{{ inputs.x }}{% endraw %}"})
    assert r("{{ render(vars.r) }}", variables) == "{{ inputs.x }}"


def test_render_function_sees_set_variables():
    assert r("{% set t = '{{ inputs.x }}' %}{{ render(t) }}") == "1"


def test_current_each_output_walks_parents_then_own_value():
    assert r("{{ currentEachOutput(outputs.each).value }}") == "deep"


def test_current_each_output_without_parents():
    variables = {"outputs": {"o": {"v1": {"value": "x"}}}, "taskrun": {"value": "v1"}, "parents": []}
    assert r("{{ currentEachOutput(outputs.o).value }}", variables) == "x"


def test_kv_uses_the_flow_namespace_by_default_and_accepts_positional_args():
    hooks = FakeHooks(kv_store={("io.kestra.tests", "my-key"): {"field": "value"}})
    assert r("{{ kv('my-key').field }}", hooks=hooks) == "value"
    assert r("{{ kv('my-key', 'io.kestra.tests', true).field }}", hooks=hooks) == "value"
    assert r("{{ kv(key='my-key', namespace='io.kestra.tests').field }}", hooks=hooks) == "value"
    assert hooks.calls[0] == ("kv", "io.kestra.tests", "my-key", False)


def test_kv_error_on_missing_surfaces_the_hook_message():
    msg = error_of("{{ kv('my-key', flow.namespace, true).field }}", hooks=FakeHooks())
    assert msg == "The key 'my-key' does not exist in the namespace 'io.kestra.tests'."


def test_secret_read_file_uri_and_file_size_go_through_hooks():
    hooks = FakeHooks(secrets={"PASSWORD": "s3cr3t"})
    assert r("{{ secret('PASSWORD') }}|{{ read('a.txt') }}|{{ fileURI('a.txt') }}|{{ fileSize('a.txt') }}",
             hooks=hooks) == "s3cr3t|content of a.txt|kestra:///ns/a.txt|42"


def test_functions_needing_hooks_fail_cleanly_without_them():
    assert "not available" in error_of("{{ secret('x') }}")


def test_max_min_and_range_functions():
    assert r("{{ max(1, 5, 3) }}|{{ min(4, 2) }}|{{ range(1, 3) }}|{{ range(0, 6, 2) }}") == \
        "5|2|[1,2,3]|[0,2,4,6]"


def test_fetch_and_print_context_expose_variables_only():
    ctx = render_typed("{{ fetchContext() }}", {"a": 1})
    assert ctx == {"a": 1}
    assert r("{{ printContext() }}", {"a": 1}) == '{"a":1}'


# ---------------------------------------------------------------- performance

def test_rendering_a_cached_simple_template_is_fast():
    variables = {"inputs": {"x": "hello"}}
    render("{{ inputs.x }}", variables)
    n = 5000
    start = time.perf_counter()
    for _ in range(n):
        render("{{ inputs.x }}", variables)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 50e-6


def test_carriage_returns_in_text_are_preserved():
    assert r("a\r\n{{ inputs.x }}\r\n") == "a\r\n1\r\n"


def test_typed_errors_report_the_line_of_the_expression():
    with pytest.raises(ExpressionError, match="at line 3"):
        render_typed("\n\n{{ nope }}", VARS)


def test_nanosecond_fractions_are_kept_by_the_date_filter():
    assert r("{{ '2024-01-02T03:04:05.123456789Z' | date('ss.SSSSSSSSS') }}") == "05.123456789"


def test_deeply_nested_each_outputs_by_explicit_keys():
    variables = {"outputs": {"1-1-1_output": {"a": {"b": {"c": {"value": "ok"}}}}},
                 "parents": [{"taskrun": {"value": "b"}}, {"taskrun": {"value": "a"}}],
                 "taskrun": {"value": "c"}}
    t = "{{ outputs['1-1-1_output'][parents[1].taskrun.value][parents[0].taskrun.value][taskrun.value].value }}"
    assert r(t, variables) == "ok"
