from datetime import datetime, timedelta, timezone

from kestra_lite.store import db as store_db
from kestra_lite.store import triggers

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def set_schema_version(version: int) -> None:
    """Make the database say it is at `version` (one row: on PostgreSQL the schema_version
    table outlives each test's truncation)."""
    store_db.SchemaVersion.delete().execute()
    store_db.SchemaVersion.create(version=version, name="test", applied_at=NOW)


def test_migrate_is_idempotent_and_records_the_latest_version(db):
    latest = store_db.MIGRATIONS[-1].version
    assert store_db.migrate() == latest
    assert store_db.schema_version() == latest
    tables = set(db.get_tables())
    assert {"flows", "executions", "task_runs", "logs", "kv", "triggers",
            "trigger_events", "flow_trigger_windows", "schema_version"} <= tables
    assert "trigger_state" not in tables


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


def _trigger(**changes) -> triggers.Trigger:
    values = dict(tenant="main", namespace="ns", flow_id="flow", trigger_id="cron",
                  kind="Schedule", revision=1, definition={"cron": "0 * * * *"},
                  next_fire_at=NOW, next_date=NOW, updated=NOW)
    return triggers.Trigger(**dict(values, **changes))


def test_a_trigger_row_is_changed_only_by_who_read_its_version(db):
    triggers.insert_trigger(_trigger())
    first = triggers.get_trigger("main", "ns", "flow", "cron")
    second = triggers.get_trigger("main", "ns", "flow", "cron")
    first.next_fire_at = NOW + timedelta(hours=1)
    assert triggers.update_trigger(first, NOW) is True and first.version == 2
    second.disabled = True
    assert triggers.update_trigger(second, NOW) is False          # stale version
    stored = triggers.get_trigger("main", "ns", "flow", "cron")
    assert stored.next_fire_at == NOW + timedelta(hours=1) and stored.disabled is False
    assert triggers.due_triggers(NOW) == []
    assert [t.trigger_id for t in triggers.due_triggers(NOW + timedelta(hours=1))] == ["cron"]
    assert triggers.delete_triggers("main", "ns", "flow") == 1
    assert triggers.get_trigger("main", "ns", "flow", "cron") is None


def test_only_enabled_flow_triggers_are_listeners(db):
    triggers.insert_trigger(_trigger(trigger_id="on", kind="Flow", next_fire_at=None))
    triggers.insert_trigger(_trigger(trigger_id="off", kind="Flow", disabled=True,
                                     next_fire_at=None))
    triggers.insert_trigger(_trigger(trigger_id="yaml-off", kind="Flow", source_disabled=True,
                                     next_fire_at=None))
    assert [t.trigger_id for t in triggers.listeners("main")] == ["on"]
    assert triggers.listeners("other") == []


def test_flow_trigger_windows_accumulate_and_expire(db):
    end = NOW + timedelta(days=1)
    window = triggers.lock_window("main", "ns", "flow", "pre", window_start=NOW,
                                  window_end=end)
    window.results = {"a": True}
    triggers.put_window_results(window)
    again = triggers.lock_window("main", "ns", "flow", "pre", window_start=NOW, window_end=end)
    assert again.results == {"a": True}
    assert triggers.current_window("main", "ns", "flow", "pre", NOW + timedelta(hours=1)) \
        .results == {"a": True}
    assert triggers.delete_expired_windows(end) == 0
    assert triggers.delete_expired_windows(end + timedelta(milliseconds=1)) == 1
    assert triggers.list_windows("main", "ns", "flow") == []


def test_trigger_events_are_claimed_once(db):
    event_id = triggers.add_event("main", "exec-1", "SUCCESS", NOW).id
    assert [e.id for e in triggers.stale_events(NOW + timedelta(seconds=1))] == [event_id]
    assert triggers.claim_event(event_id) is True
    assert triggers.claim_event(event_id) is False


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


def test_migration_4_replaces_the_unused_trigger_state_table(db):
    db.execute_sql('DROP TABLE "triggers"')
    db.execute_sql('DROP TABLE "trigger_events"')
    db.execute_sql('CREATE TABLE "trigger_state" (id INTEGER PRIMARY KEY)')
    set_schema_version(3)
    assert store_db.migrate() == store_db.MIGRATIONS[-1].version
    tables = set(db.get_tables())
    assert {"triggers", "trigger_events"} <= tables and "trigger_state" not in tables


def test_migration_5_puts_end_date_in_the_by_flow_index(db):
    from kestra_lite.store import executions
    db.execute_sql(f'DROP INDEX "{executions.BY_FLOW}"')
    db.execute_sql(f'CREATE INDEX "{executions.BY_FLOW}" ON "executions" (tenant, namespace, '
                   'flow_id, state, start_date)')
    set_schema_version(4)
    assert store_db.migrate() == 5
    [index] = [i for i in db.get_indexes("executions") if i.name == executions.BY_FLOW]
    assert index.columns[-1] == "end_date"
