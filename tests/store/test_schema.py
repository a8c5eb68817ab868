from datetime import datetime, timedelta, timezone

from kestra_lite.store import db as store_db
from kestra_lite.store import triggers

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_migrate_is_idempotent_and_records_the_latest_version(db):
    latest = store_db.MIGRATIONS[-1].version
    assert store_db.migrate() == latest
    assert store_db.schema_version() == latest
    tables = set(db.get_tables())
    assert {"flows", "executions", "task_runs", "logs", "kv", "trigger_state",
            "flow_trigger_windows", "schema_version"} <= tables


def test_every_table_has_a_tenant_column(db):
    for model in store_db.all_models():
        columns = {c.name for c in db.get_columns(model._meta.table_name)}
        assert "tenant" in columns, model._meta.table_name


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db):
    if not store_db.is_sqlite():
        return
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 1   # NORMAL


def test_trigger_state_round_trips_and_is_due_by_next_fire_at(db):
    triggers.put_trigger_state("main", "ns", "flow", "cron", next_fire_at=NOW,
                               data={"last": "x"}, now=NOW)
    triggers.put_trigger_state("main", "ns", "flow", "cron",
                               next_fire_at=NOW + timedelta(hours=1), data={"last": "y"},
                               now=NOW)
    state = triggers.get_trigger_state("main", "ns", "flow", "cron")
    assert state.next_fire_at == NOW + timedelta(hours=1) and state.data == {"last": "y"}
    assert triggers.due_triggers(NOW) == []
    assert [t.trigger_id for t in triggers.due_triggers(NOW + timedelta(hours=1))] == ["cron"]
    assert triggers.delete_trigger_state("main", "ns", "flow") == 1
    assert triggers.get_trigger_state("main", "ns", "flow", "cron") is None


def test_flow_trigger_windows_round_trip(db):
    end = NOW + timedelta(days=1)
    triggers.put_window("main", "ns", "flow", "pre", window_start=NOW, window_end=end,
                        results={"a": True})
    triggers.put_window("main", "ns", "flow", "pre", window_start=NOW, window_end=end,
                        results={"a": True, "b": True})
    window = triggers.get_window("main", "ns", "flow", "pre", NOW)
    assert window.results == {"a": True, "b": True} and window.window_end == end
    assert len(triggers.list_windows("main", "ns", "flow")) == 1
    assert [w.precondition_id for w in triggers.expired_windows(end)] == ["pre"]
    assert triggers.delete_window("main", "ns", "flow", "pre", NOW) is True


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(db):
    import os
    from kestra_lite.store import flows
    flows.save_flow("main", "ns", "parent", "v1")   # the parent's connection is open
    pid = os.fork()
    if pid == 0:   # child: must not reuse (or close) the parent's connection
        code = 1
        try:
            flows.save_flow("main", "ns", "child", "v1")
            store_db.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [f.flow_id for f in flows.list_flows("main", "ns")] == ["child", "parent"]
