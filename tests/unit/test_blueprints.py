"""The bundled blueprints: valid Kestra 0.20 flows, indexed, searchable."""
from __future__ import annotations

from importlib import resources

import pytest
import yaml

from kestra_lite.blueprints import (Blueprint, INDEX_FILE, all_blueprints, all_tags,
                                    get_blueprint, search_blueprints)
from kestra_lite.model import catalog
from kestra_lite.model.flow_parser import parse_flow

BLUEPRINTS = all_blueprints()
IDS = [bp.id for bp in BLUEPRINTS]


def package_files() -> set[str]:
    root = resources.files("kestra_lite.blueprints")
    return {entry.name for entry in root.iterdir()
            if entry.name.endswith(".yaml") and entry.name != INDEX_FILE}


def index_entries() -> list[dict]:
    text = resources.files("kestra_lite.blueprints").joinpath(INDEX_FILE).read_text()
    return yaml.safe_load(text)


def test_there_are_at_least_15_blueprints():
    assert len(BLUEPRINTS) >= 15


def test_blueprint_ids_are_unique():
    assert len(IDS) == len(set(IDS))


def test_the_index_lists_every_flow_file_exactly_once():
    files = [entry["file"] for entry in index_entries()]
    assert len(files) == len(set(files))
    assert set(files) == package_files()


def test_every_index_entry_has_a_title_a_description_and_tags():
    for entry in index_entries():
        assert set(entry) == {"id", "title", "description", "tags", "file"}, entry
        assert entry["title"] and entry["description"] and entry["tags"], entry
        assert entry["file"] == f"{entry['id']}.yaml"


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=IDS)
def test_every_blueprint_is_a_valid_flow(blueprint: Blueprint):
    flow = parse_flow(blueprint.source, f"{blueprint.id}.yaml", tenant="main")
    assert flow.id == blueprint.id
    assert flow.namespace.startswith("company")
    assert flow.description
    for task in flow.walk():
        assert catalog.lookup(task.type).type == task.type, task.type


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=IDS)
def test_blueprint_sources_have_no_comments(blueprint: Blueprint):
    assert not any(line.lstrip().startswith("#") for line in blueprint.source.splitlines())


def test_the_subflow_parent_calls_a_bundled_blueprint():
    parent = parse_flow(get_blueprint("subflow_parent").source, tenant="main")
    call = next(task for task in parent.walk() if task.type.endswith("flow.Subflow"))
    assert get_blueprint(call.props["flowId"]) is not None


def test_get_blueprint_finds_by_id_or_returns_none():
    assert get_blueprint("hello_world").title == "Hello world"
    assert get_blueprint("no_such_blueprint") is None


def test_all_blueprints_returns_a_fresh_list_from_the_cache():
    first = all_blueprints()
    first.clear()
    assert all_blueprints() == BLUEPRINTS


def test_search_without_criteria_returns_everything():
    assert search_blueprints() == BLUEPRINTS
    assert search_blueprints("  ", []) == BLUEPRINTS


def test_search_is_a_case_insensitive_substring_over_every_field():
    assert [bp.id for bp in search_blueprints("HELLO WORLD")] == ["hello_world"]
    by_source = search_blueprints("io.kestra.plugin.core.kv.Set")
    assert "kv_store" in [bp.id for bp in by_source]
    by_tag = {bp.id for bp in search_blueprints("human in the")}
    assert by_tag == {"manual_approval"}
    assert search_blueprints("zzz-nothing-matches") == []


def test_search_requires_every_tag():
    triggers = search_blueprints(tags=["Triggers"])
    assert {"schedule_trigger", "webhook_trigger"} <= {bp.id for bp in triggers}
    both = search_blueprints(tags=["triggers", "HTTP"])
    assert [bp.id for bp in both] == ["webhook_trigger"]
    assert search_blueprints(tags=["Triggers", "No such tag"]) == []


def test_search_combines_text_and_tags():
    found = search_blueprints("webhook", tags=["Triggers"])
    assert [bp.id for bp in found] == ["webhook_trigger"]


def test_all_tags_are_sorted_and_unique():
    tags = all_tags()
    assert tags == sorted(set(tags), key=str.lower)
    for expected in ("Getting started", "Inputs", "Scripts", "Triggers", "Error handling",
                     "SLA", "KV store", "HTTP"):
        assert expected in tags


@pytest.mark.parametrize("type_string", [
    "io.kestra.plugin.core.log.Log", "io.kestra.plugin.core.flow.Parallel",
    "io.kestra.plugin.core.flow.Sequential", "io.kestra.plugin.core.flow.If",
    "io.kestra.plugin.core.flow.Switch", "io.kestra.plugin.core.flow.ForEach",
    "io.kestra.plugin.core.flow.Subflow", "io.kestra.plugin.core.flow.Pause",
    "io.kestra.plugin.core.kv.Set", "io.kestra.plugin.core.kv.Get",
    "io.kestra.plugin.core.http.Request", "io.kestra.plugin.core.http.Download",
    "io.kestra.plugin.core.execution.Labels", "io.kestra.plugin.core.execution.Fail",
    "io.kestra.plugin.core.output.OutputValues", "io.kestra.plugin.scripts.python.Script",
    "io.kestra.plugin.scripts.shell.Commands", "io.kestra.plugin.core.trigger.Schedule",
    "io.kestra.plugin.core.trigger.Flow", "io.kestra.plugin.core.trigger.Webhook",
])
def test_the_blueprints_cover_the_main_types(type_string):
    assert search_blueprints(f"type: {type_string}\n"), type_string


@pytest.mark.parametrize("feature", [
    "type: STRING", "type: INT", "type: BOOLEAN", "type: SELECT", "type: MULTISELECT",
    "type: DATETIME", "type: FILE", "type: JSON", "dependsOn:", "outputs:\n  - id:",
    "concurrencyLimit:", "type: constant", "type: exponential", "runIf:", "allowFailure:",
    "allowWarning:", "errorLogs()", "kv('", "secret('", "Kestra.outputs(", "outputFiles:",
    "onResume:", "MAX_DURATION", "EXECUTION_ASSERTION", "concurrency:\n  limit:",
    "preconditions:", "ttl:", "kvType:",
])
def test_the_blueprints_cover_the_main_features(feature):
    assert search_blueprints(feature), feature
