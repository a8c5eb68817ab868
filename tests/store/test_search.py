"""Store searches behind the list pages: executions (each filter, combinations, paging,
capped counts, the execution_labels table), the histogram, logs, flows, autocomplete."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kestra_lite.model.execution import Execution, new_id
from kestra_lite.model.filters import parse_filters
from kestra_lite.model.state import State, StateInfo
from kestra_lite.store import db as store_db
from kestra_lite.store import execution_search
from kestra_lite.store import executions as store
from kestra_lite.store import flows as flow_store
from kestra_lite.store import logs as log_store
from kestra_lite.store import search
from kestra_lite.store.executions import ExecutionLabelRow

from tests.store.test_schema import set_schema_version

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def execution(namespace="company", flow_id="hello", state=State.SUCCESS, hours_ago=0,
              labels=None, trigger_id=None, tenant="main", execution_id=None) -> Execution:
    made = Execution(id=execution_id or new_id(), namespace=namespace, flow_id=flow_id,
                     flow_revision=1,
                     state=StateInfo.new(state, NOW - timedelta(hours=hours_ago)),
                     labels=[{"key": k, "value": v} for k, v in (labels or {}).items()],
                     trigger=({"id": "subflow", "type": "io.kestra.plugin.core.flow.Subflow",
                               "variables": {"executionId": trigger_id}}
                              if trigger_id else None))
    store.insert_execution(tenant, made)
    return made


def found(query, **kwargs):
    return execution_search.search("main", parse_filters(query, "executions", now=NOW), **kwargs)


def ids(query, **kwargs):
    return [e.id for e in found(query, **kwargs).results]


@pytest.fixture
def spread(db):
    """Nine executions across namespaces, flows, states, labels and time."""
    return {
        "a": execution("company", "hello", State.SUCCESS, 1, {"env": "prod", "team": "data"}),
        "b": execution("company.team", "hello", State.FAILED, 2, {"env": "prod"}),
        "c": execution("company.team", "etl", State.FAILED, 3, {"env": "dev"}),
        "d": execution("companyx", "hello", State.RUNNING, 4, {"env": "prod west"}),
        "e": execution("system", "cleanup", State.SUCCESS, 5),
        "f": execution("system.audit", "cleanup", State.WARNING, 30),
        "g": execution("other", "child", State.SUCCESS, 40, trigger_id="parent1"),
        "h": execution("other", "child", State.KILLED, 50, trigger_id="parent2"),
        "i": execution("other", "zeta", State.SUCCESS, 24 * 10),
    }


def test_no_filter_lists_every_execution_newest_first(spread):
    assert ids("") == [spread[k].id for k in "abcdefghi"]
    assert found("").total == 9 and not found("").capped


def test_results_carry_their_data_but_not_their_task_runs(spread):
    first = found("flow:etl").results[0]
    assert first.namespace == "company.team" and first.labels == [{"key": "env", "value": "dev"}]
    with pytest.raises(ValueError):
        store.save_execution("main", first, wake_at=None)


def test_states_match_any_of_them(spread):
    assert ids("state:FAILED") == [spread["b"].id, spread["c"].id]
    assert ids("state:FAILED,KILLED") == [spread[k].id for k in "bch"]


def test_a_namespace_matches_itself_and_its_children_only(spread):
    assert ids("namespace:company") == [spread[k].id for k in "abc"]
    assert ids("namespace:company.team") == [spread[k].id for k in "bc"]


def test_flow_matches_the_flow_id_exactly(spread):
    assert ids("flow:hello") == [spread[k].id for k in "abd"]
    assert ids("flow:hell") == []


def test_labels_must_all_match(spread):
    assert ids("label:env=prod") == [spread[k].id for k in "ab"]
    assert ids("label:env=prod label:team=data") == [spread["a"].id]
    assert ids('label:"env=prod west"') == [spread["d"].id]
    assert ids("label:env=nope") == []


def test_since_from_and_to_bound_the_start_date(spread):
    assert ids("since:3h") == [spread[k].id for k in "abc"]
    assert ids("from:2026-05-01T06:30 to:2026-05-01T10:00") == [spread[k].id for k in "bcde"]
    assert ids("to:2026-04-22") == [spread["i"].id]


def test_scope_splits_system_namespaces_from_the_rest(spread):
    assert ids("scope:SYSTEM") == [spread["e"].id, spread["f"].id]
    assert len(ids("scope:USER")) == 7


def test_child_and_trigger_select_by_the_parent_execution(spread):
    assert ids("child:CHILD") == [spread["g"].id, spread["h"].id]
    assert len(ids("child:MAIN")) == 7 and len(ids("child:ALL")) == 9
    assert ids("trigger:parent2") == [spread["h"].id]


def test_free_text_matches_namespace_or_flow_id_in_any_case_or_the_start_of_the_id(spread):
    assert ids("CLEAN") == [spread["e"].id, spread["f"].id]
    assert ids("team etl") == [spread["c"].id]
    assert ids(spread["i"].id[:9]) == [spread["i"].id]
    assert ids(spread["i"].id) == [spread["i"].id]
    assert ids(spread["i"].id[3:12]) == []
    assert ids("100%_") == []


def test_filters_combine(spread):
    assert ids("namespace:company state:FAILED label:env=prod") == [spread["b"].id]
    assert ids("flow:hello since:2h state:SUCCESS,FAILED") == [spread["a"].id, spread["b"].id]
    assert ids("scope:USER child:MAIN hello") == [spread[k].id for k in "abd"]


def test_pages_follow_each_other_and_sorting_is_accepted(spread):
    first = found("", page=1, size=4)
    second = found("", page=2, size=4)
    third = found("", page=3, size=4)
    assert [e.id for e in first.results + second.results + third.results] == \
        [spread[k].id for k in "abcdefghi"]
    assert first.total == 9 and len(third.results) == 1
    assert found("", page=9, size=4).results == []
    assert ids("", sort="start_date:asc")[0] == spread["i"].id
    by_namespace = found("namespace:company", sort="namespace:desc").results
    assert [e.namespace for e in by_namespace] == ["company.team", "company.team", "company"]
    assert set(ids("", sort="state.duration:desc")) == {spread[k].id for k in "abcdefghi"}


def test_an_unknown_sort_is_refused(spread):
    from kestra_lite.errors import InvalidInput
    with pytest.raises(InvalidInput, match="cannot sort executions by 'nope'"):
        found("", sort="nope:asc")


def test_counts_stop_at_the_cap(spread, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    page = found("", size=3)
    assert (page.total, page.capped, page.total_text) == (5, True, "5+")
    assert len(page.results) == 3
    assert found("state:FAILED").capped is False


def test_other_tenants_are_invisible(spread):
    execution(tenant="other", namespace="company")
    assert found("namespace:company").total == 3


def test_the_labels_table_follows_inserts_saves_and_deletes(db):
    made = execution(labels={"env": "prod"})
    assert ids("label:env=prod") == [made.id]
    loaded = store.load_execution("main", made.id)
    loaded.set_label("env", "dev")
    loaded.set_label("team", "a")
    assert store.save_execution("main", loaded, wake_at=None)
    assert ids("label:env=prod") == [] and ids("label:env=dev label:team=a") == [made.id]
    rows = ExecutionLabelRow.select().where(ExecutionLabelRow.execution_id == made.id).count()
    assert rows == 2
    store.delete_execution("main", made.id)
    assert ExecutionLabelRow.select().count() == 0


def test_a_save_that_leaves_the_labels_alone_does_not_rewrite_them(db):
    made = execution(labels={"env": "prod"})
    loaded = store.load_execution("main", made.id)
    loaded.state.set(State.RUNNING, NOW)
    ExecutionLabelRow.update(value="tampered").execute()    # a rewrite would repair this
    assert store.save_execution("main", loaded, wake_at=None)
    assert [row.value for row in ExecutionLabelRow.select()] == ["tampered"]


def test_set_labels_of_the_service_keeps_the_labels_table_right(runtime):
    from kestra_lite.services import flows as flow_service
    from kestra_lite.services.executions import create_execution, set_labels
    from kestra_lite.services.flow_test import run_until_settled
    flow = flow_service.deploy(runtime, "main", (
        "id: hello\nnamespace: company\nlabels:\n  env: prod\ntasks:\n"
        "  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"))
    created = create_execution(runtime, flow)
    run_until_settled(runtime, "main", created.id)
    assert ids("label:env=prod") == [created.id]
    set_labels(runtime, "main", created.id, [{"key": "env", "value": "staging"},
                                            {"key": "owner", "value": "jane"}])
    assert ids("label:env=prod") == []
    assert ids("label:env=staging label:owner=jane") == [created.id]
    assert ids(f"label:system.correlationId={created.id}") == [created.id]


def test_migration_3_indexes_the_executions_a_version_2_database_holds(db):
    made = execution(namespace="company", flow_id="hello", labels={"env": "prod", "team": "a"})
    for name in (store.BY_DATE, store.BY_STATE, store.BY_FLOW):     # back to version 2
        db.execute_sql(f'DROP INDEX "{name}"')
    db.execute_sql("ALTER TABLE executions DROP COLUMN label_text")
    db.execute_sql("DROP TABLE execution_labels")
    db.execute_sql("DROP TABLE execution_flows")
    set_schema_version(2)
    assert store_db.migrate() == store_db.MIGRATIONS[-1].version
    assert ids("label:env=prod label:team=a") == [made.id]
    assert ids("hell") == [made.id]
    assert store.ExecutionRow.get_by_id(made.id).label_text == "\x1fenv\x1eprod\x1fteam\x1ea\x1f"
    indexes = {index.name for index in db.get_indexes("executions")}
    assert {store.BY_DATE, store.BY_STATE, store.BY_FLOW} <= indexes
    assert not set(store.REPLACED_INDEXES) & indexes


def test_label_filters_fall_back_to_the_labels_table_when_label_text_is_too_long(db):
    long = execution(labels={"env": "prod", "note": "x" * 600})
    short = execution(labels={"env": "prod"}, hours_ago=1)
    assert store.ExecutionRow.get_by_id(long.id).label_text is None
    assert ids("label:env=prod") == [long.id, short.id]
    assert ids(f"label:note={'x' * 600}") == [long.id]
    assert ids("label:env=prod state:SUCCESS") == [long.id, short.id]


def test_the_histogram_counts_per_bucket_and_state(spread):
    rows = execution_search.histogram("main", parse_filters("since:6h", "executions", now=NOW),
                           buckets=3, now=NOW)
    assert rows == [
        (NOW - timedelta(hours=6), "SUCCESS", 1),
        (NOW - timedelta(hours=4), "FAILED", 1), (NOW - timedelta(hours=4), "RUNNING", 1),
        (NOW - timedelta(hours=2), "FAILED", 1), (NOW - timedelta(hours=2), "SUCCESS", 1),
    ]
    everything = execution_search.histogram("main", parse_filters("", "executions", now=NOW),
                                 buckets=10, now=NOW)
    assert sum(count for _, _, count in everything) == 9
    assert everything[0][0] == NOW - timedelta(hours=240)
    failed = execution_search.histogram("main", parse_filters("state:FAILED", "executions", now=NOW),
                             buckets=2, now=NOW)
    assert sum(count for _, _, count in failed) == 2


def log(execution_id, level, message, seconds, namespace="company", flow_id="hello"):
    return {"executionId": execution_id, "namespace": namespace, "flowId": flow_id,
            "taskId": "t", "level": level, "message": message,
            "timestamp": NOW + timedelta(seconds=seconds)}


@pytest.fixture
def logs(db):
    log_store.append_logs("main", [
        log("e1", "INFO", "starting", 0), log("e1", "WARN", "slow disk", 1),
        log("e1", "ERROR", "Connection refused", 2),
        log("e2", "DEBUG", "details", 3, "company.team", "etl"),
        log("e2", "ERROR", "boom", 4, "company.team", "etl"),
        log("e3", "INFO", "other place", 5, "other", "x"),
    ])


def messages(query, **kwargs):
    page = log_store.search_logs("main", parse_filters(query, "logs", now=NOW), **kwargs)
    return [line["message"] for line in page.results]


def test_log_search_filters_by_level_namespace_flow_execution_time_and_text(logs):
    assert messages("") == ["other place", "boom", "details", "Connection refused",
                            "slow disk", "starting"]
    assert messages("level:WARN") == ["boom", "Connection refused", "slow disk"]
    assert messages("namespace:company level:ERROR") == ["boom", "Connection refused"]
    assert messages("flow:etl") == ["boom", "details"]
    assert messages("execution:e1 level:INFO") == ["Connection refused", "slow disk", "starting"]
    assert messages("from:2026-05-01T12:00:02 to:2026-05-01T12:00:04") == [
        "boom", "details", "Connection refused"]
    assert messages("connection") == ["Connection refused"]
    assert messages("e2") == ["boom", "details"]


def test_log_search_pages_by_number_or_after_an_id(logs):
    first = log_store.search_logs("main", parse_filters("", "logs"), size=2)
    assert first.total == 6 and [l["message"] for l in first.results] == ["other place", "boom"]
    older = log_store.search_logs("main", parse_filters("", "logs"), size=2,
                                  after_id=first.results[-1]["id"])
    assert [l["message"] for l in older.results] == ["details", "Connection refused"]
    assert messages("", page=2, size=2) == ["details", "Connection refused"]


def test_execution_logs_page_after_an_id_and_keep_the_old_shape_by_default(logs):
    everything = log_store.execution_logs("main", "e1")
    assert [l["message"] for l in everything] == ["starting", "slow disk", "Connection refused"]
    assert "id" not in everything[0]
    first = log_store.execution_logs("main", "e1", limit=2)
    assert [l["message"] for l in first] == ["starting", "slow disk"]
    rest = log_store.execution_logs("main", "e1", after_id=first[-1]["id"], limit=2)
    assert [l["message"] for l in rest] == ["Connection refused"]
    assert log_store.count_execution_logs("main", "e1", min_level="WARN") == 2


@pytest.fixture
def flows(db):
    flow_store.save_flow("main", "company", "hello", "id: hello\n# greets", labels={"env": "prod"})
    flow_store.save_flow("main", "company", "hello", "id: hello\n# greets v2",
                         labels={"env": "prod"})
    flow_store.save_flow("main", "company.team", "etl", "id: etl\n# loads",
                         labels=[{"key": "env", "value": "dev"}])
    flow_store.save_flow("main", "system", "cleanup", "id: cleanup")
    flow_store.save_flow("main", "company", "gone", "id: gone")
    flow_store.delete_flow("main", "company", "gone")


def flow_names(query, **kwargs):
    page = flow_store.search_flows("main", parse_filters(query, "flows"), **kwargs)
    return [(f.namespace, f.flow_id, f.revision) for f in page.results]


def test_flow_search_lists_the_latest_revision_of_flows_not_deleted(flows):
    assert flow_names("") == [("company", "hello", 2), ("company.team", "etl", 1),
                              ("system", "cleanup", 1)]


def test_flow_search_filters_by_namespace_labels_scope_and_text(flows):
    assert flow_names("namespace:company") == [("company", "hello", 2),
                                               ("company.team", "etl", 1)]
    assert flow_names("label:env=dev") == [("company.team", "etl", 1)]
    assert flow_names("scope:SYSTEM") == [("system", "cleanup", 1)]
    assert flow_names("scope:USER") == [("company", "hello", 2), ("company.team", "etl", 1)]
    assert flow_names("TEAM") == [("company.team", "etl", 1)]
    assert flow_names("greets") == []
    assert flow_names("v2", source_text=True) == [("company", "hello", 2)]
    page = flow_store.search_flows("main", parse_filters("", "flows"), page=2, size=2)
    assert page.total == 3 and [f.flow_id for f in page.results] == ["cleanup"]


def test_autocomplete_sources_walk_distinct_values(spread):
    flow_store.save_flow("main", "acme.ops", "deploy", "id: deploy")
    assert search.distinct_namespaces("main") == [
        "acme", "acme.ops", "company", "company.team", "companyx", "other", "system",
        "system.audit"]
    assert search.distinct_namespaces("main", "company.") == ["company.team"]
    assert search.flow_ids("main", "de") == ["deploy"]
    assert search.label_keys("main") == ["env", "team"]
    assert search.label_values("main", "env") == ["dev", "prod", "prod west"]
    assert search.label_values("main", "env", "prod") == ["prod", "prod west"]
    assert search.label_keys("other") == []
