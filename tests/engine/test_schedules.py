"""Schedule triggers fired by the scheduler tick with `now` injected: exact dates, locks,
missed dates, late dates, conditions, inputs, backfills, stopAfter. Real database, Redis
and a burst RQ worker."""
from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from kestra_lite import scheduler
from kestra_lite.errors import Conflict, InvalidInput
from kestra_lite.model.state import State
from kestra_lite.services import flows as flow_service
from kestra_lite.services import schedules
from kestra_lite.services import triggers as trigger_service
from kestra_lite.store import executions as execution_store
from kestra_lite.store import logs as log_store
from kestra_lite.store import triggers as trigger_store
from kestra_lite.worker import build_worker

TENANT = "main"
NS = "company.team"
# a fixed hour well in the future: the real clock never makes these dates due by itself
T0 = datetime(2031, 3, 4, 10, 0, tzinfo=timezone.utc)   # a Tuesday


def deploy(runtime, source: str, now: datetime = T0):
    flow = flow_service.deploy(runtime, TENANT, textwrap.dedent(source))
    trigger_service.sync_flow(runtime, flow, now)    # as if deployed at `now`
    for trigger in trigger_store.flow_triggers(TENANT, flow.namespace, flow.id):
        if trigger.kind == "Schedule":
            from kestra_lite.model.schedule import next_date
            trigger_service.change(trigger, now, lambda row: setattr(
                row, "next_date", next_date(row.definition, now)))
    return flow


def hourly(extra: str = "", tasks: str = "") -> str:
    tasks = tasks or """
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{ trigger.date }}"
    """
    return f"""
        id: hourly
        namespace: {NS}
        tasks:{textwrap.indent(textwrap.dedent(tasks), "          ")}
        triggers:
          - id: every-hour
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "0 * * * *"
{textwrap.indent(textwrap.dedent(extra), "            ")}
    """


def row(flow_id: str = "hourly", trigger_id: str = "every-hour"):
    return trigger_store.get_trigger(TENANT, NS, flow_id, trigger_id)


def executions(flow_id: str = "hourly"):
    return sorted(execution_store.search_executions(TENANT, NS, flow_id, limit=1000),
                  key=lambda e: e.trigger["variables"]["date"])


def work(runtime):
    build_worker(runtime).work(burst=True, logging_level="WARNING")


def trigger_logs(flow_id: str = "hourly") -> list[str]:
    return [line["message"] for line in
            reversed(log_store.trigger_logs(TENANT, NS, flow_id, limit=1000))]


def test_a_schedule_fires_its_date_once_with_the_trigger_variables(runtime):
    deploy(runtime, hourly())
    assert row().next_date == T0 + timedelta(hours=1)
    assert scheduler.tick(runtime, T0 + timedelta(minutes=59)) == 0
    assert schedules.fire_due(runtime, T0 + timedelta(hours=1, milliseconds=50)) == 1
    assert schedules.fire_due(runtime, T0 + timedelta(hours=1, milliseconds=80)) == 0
    [execution] = executions()
    assert execution.trigger["type"] == "io.kestra.plugin.core.trigger.Schedule"
    assert execution.trigger["variables"] == {"date": "2031-03-04T11:00:00Z",
                                              "next": "2031-03-04T12:00:00Z",
                                              "previous": "2031-03-04T10:00:00Z"}
    work(runtime)
    assert execution_store.load_execution(TENANT, execution.id).current is State.SUCCESS
    assert row().last_date == T0 + timedelta(hours=1)
    assert row().next_date == T0 + timedelta(hours=2)


def test_a_locked_schedule_waits_for_its_execution_then_fires_the_waiting_date(runtime):
    deploy(runtime, hourly(tasks="""
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
    """))
    schedules.fire_due(runtime, T0 + timedelta(hours=1))
    work(runtime)
    [first] = executions()
    assert execution_store.load_execution(TENANT, first.id).current is State.PAUSED
    assert row().execution_id == first.id
    assert schedules.fire_due(runtime, T0 + timedelta(hours=2)) == 0     # locked: parked
    assert row().next_date == T0 + timedelta(hours=2)
    assert row().next_fire_at == T0 + timedelta(hours=2, minutes=1)      # the lock re-check
    from kestra_lite.services import executions as execution_service
    execution_service.kill(runtime, TENANT, first.id)
    work(runtime)
    assert row().execution_id is None                     # released when it ended
    assert row().next_fire_at == T0 + timedelta(hours=2)
    assert schedules.fire_due(runtime, T0 + timedelta(hours=2, seconds=30)) == 1
    assert [e.trigger["variables"]["date"] for e in executions()] == [
        "2031-03-04T11:00:00Z", "2031-03-04T12:00:00Z"]


def test_a_lock_whose_execution_vanished_is_dropped_at_the_next_check(runtime):
    deploy(runtime, hourly(tasks="""
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
    """))
    schedules.fire_due(runtime, T0 + timedelta(hours=1))
    [first] = executions()
    execution_store.delete_execution(TENANT, first.id)      # no end event will come
    assert schedules.fire_due(runtime, T0 + timedelta(hours=1, seconds=30)) == 0
    assert schedules.fire_due(runtime, T0 + timedelta(hours=1, minutes=1)) == 0
    assert row().execution_id is None                        # dropped at the re-check
    assert schedules.fire_due(runtime, T0 + timedelta(hours=2)) == 1


def test_unlock_frees_a_schedule_whose_execution_is_stuck(runtime):
    deploy(runtime, hourly(tasks="""
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
    """))
    schedules.fire_due(runtime, T0 + timedelta(hours=1))
    trigger = trigger_service.unlock(runtime, TENANT, NS, "hourly", "every-hour",
                                     now=T0 + timedelta(hours=1, minutes=1))
    assert trigger.execution_id is None
    assert schedules.fire_due(runtime, T0 + timedelta(hours=2)) == 1


@pytest.mark.parametrize("policy, fired, skipped", [
    ("ALL", ["11", "12", "13", "14", "15"], None),
    ("LAST", ["14", "15"], "Skipped 3 missed schedule date(s) from 2031-03-04T11:00:00Z to "
                           "2031-03-04T14:00:00Z (recoverMissedSchedules: LAST)"),
    ("NONE", ["15"], "Skipped 4 missed schedule date(s) from 2031-03-04T11:00:00Z to "
                     "2031-03-04T14:00:00Z (recoverMissedSchedules: NONE)"),
])
def test_missed_dates_follow_recover_missed_schedules(runtime, policy, fired, skipped):
    deploy(runtime, hourly(f"recoverMissedSchedules: {policy}"))
    now = T0 + timedelta(hours=5, seconds=1)    # the scheduler was down 5 hours
    for _ in range(8):
        schedules.fire_due(runtime, now)
        work(runtime)                           # each execution ends: the lock is released
    assert [e.trigger["variables"]["date"][11:13] for e in executions()] == fired
    if skipped:
        assert skipped in trigger_logs()


def test_a_date_later_than_late_maximum_delay_is_skipped_and_logged(runtime):
    deploy(runtime, hourly("lateMaximumDelay: PT2S"))
    assert schedules.fire_due(runtime, T0 + timedelta(hours=1, seconds=5)) == 0
    assert executions() == []
    assert ("Schedule date 2031-03-04T11:00:00Z skipped: late by PT5S, more than "
            "lateMaximumDelay PT2S") in trigger_logs()
    assert row().next_date == T0 + timedelta(hours=2)


def test_conditions_skip_the_dates_they_reject(runtime):
    deploy(runtime, hourly("""
        conditions:
          - type: io.kestra.plugin.core.condition.Weekend
    """))
    assert schedules.fire_due(runtime, T0 + timedelta(hours=1)) == 0   # a Tuesday
    assert row().data["lastSkipped"]["reason"] == "conditions not met"
    saturday = datetime(2031, 3, 8, 10, 0, tzinfo=timezone.utc)
    trigger_service.change(row(), saturday, lambda r: setattr(r, "next_date", saturday))
    assert schedules.fire_due(runtime, saturday) == 1


def test_inputs_are_rendered_with_the_date_and_validated(runtime):
    deploy(runtime, """
        id: hourly
        namespace: company.team
        inputs:
          - id: day
            type: STRING
          - id: count
            type: INT
            defaults: 3
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{ inputs.day }}"
        triggers:
          - id: every-hour
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "0 * * * *"
            inputs:
              day: "{{ trigger.date | date('yyyy-MM-dd') }}"
    """)
    schedules.fire_due(runtime, T0 + timedelta(hours=1))
    [execution] = executions()
    assert execution.inputs == {"day": "2031-03-04", "count": 3}


def test_a_date_whose_inputs_are_invalid_is_skipped_with_the_reason(runtime):
    deploy(runtime, """
        id: hourly
        namespace: company.team
        inputs:
          - id: count
            type: INT
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: hi
        triggers:
          - id: every-hour
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "0 * * * *"
            inputs:
              count: not a number
    """)
    assert schedules.fire_due(runtime, T0 + timedelta(hours=1)) == 0
    [line] = [m for m in trigger_logs() if "skipped" in m]
    assert line.startswith("Schedule date 2031-03-04T11:00:00Z skipped: invalid inputs:")
    assert "count" in line
    assert row().data["lastError"]["message"].startswith("invalid inputs")


def test_a_timezone_moves_the_dates(runtime):
    deploy(runtime, """
        id: hourly
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: hi
        triggers:
          - id: every-hour
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "0 9 * * *"
            timezone: Europe/Paris
    """)
    assert row().next_date == datetime(2031, 3, 5, 8, 0, tzinfo=timezone.utc)   # 09:00 CET
    schedules.fire_due(runtime, datetime(2031, 3, 5, 8, 0, tzinfo=timezone.utc))
    [execution] = executions()
    assert execution.trigger["variables"]["date"] == "2031-03-05T09:00:00+01:00"


def test_a_disabled_schedule_does_not_fire_and_does_not_catch_up_when_enabled(runtime):
    deploy(runtime, hourly())
    trigger_service.set_disabled(runtime, TENANT, NS, "hourly", "every-hour", True, now=T0)
    assert row().next_fire_at is None
    assert schedules.fire_due(runtime, T0 + timedelta(hours=3)) == 0
    later = T0 + timedelta(hours=3, minutes=30)
    trigger_service.set_disabled(runtime, TENANT, NS, "hourly", "every-hour", False, now=later)
    assert row().next_date == T0 + timedelta(hours=4)


def test_a_trigger_disabled_in_yaml_cannot_be_enabled_from_the_ui(runtime):
    deploy(runtime, hourly("disabled: true"))
    assert row().source_disabled and row().next_fire_at is None
    with pytest.raises(Conflict, match="disabled in the flow source"):
        trigger_service.set_disabled(runtime, TENANT, NS, "hourly", "every-hour", False)


def test_stop_after_disables_the_trigger_when_its_execution_ends_in_that_state(runtime):
    deploy(runtime, hourly("stopAfter: [FAILED]", tasks="""
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
    """))
    schedules.fire_due(runtime, T0 + timedelta(hours=1))
    work(runtime)
    assert row().disabled is True
    assert schedules.fire_due(runtime, T0 + timedelta(hours=2)) == 0


def test_a_backfill_fires_each_date_of_its_range_once_in_order(runtime):
    deploy(runtime, hourly())
    start, end = T0 - timedelta(hours=3), T0 - timedelta(hours=1)
    trigger = trigger_service.start_backfill(runtime, TENANT, NS, "hourly", "every-hour",
                                             start=start, end=end, labels={"run": "backfill"},
                                             now=T0)
    assert trigger_service.backfill_progress(trigger)["total"] == 3
    for _ in range(6):
        schedules.fire_due(runtime, T0 + timedelta(seconds=1))
        work(runtime)
    fired = executions()
    assert [e.trigger["variables"]["date"][11:13] for e in fired] == ["07", "08", "09"]
    assert all(e.label("run") == "backfill" for e in fired)
    assert row().backfill is None and row().data["lastBackfill"]["fired"] == 3
    assert row().next_date == T0 + timedelta(hours=1)     # the live schedule goes on


def test_a_paused_backfill_stops_firing_until_resumed_and_can_be_deleted(runtime):
    deploy(runtime, hourly())
    trigger_service.start_backfill(runtime, TENANT, NS, "hourly", "every-hour",
                                   start=T0 - timedelta(hours=5), end=T0, now=T0)
    schedules.fire_due(runtime, T0)
    work(runtime)
    trigger_service.pause_backfill(runtime, TENANT, NS, "hourly", "every-hour", now=T0)
    assert schedules.fire_due(runtime, T0 + timedelta(seconds=1)) == 0
    trigger_service.resume_backfill(runtime, TENANT, NS, "hourly", "every-hour", now=T0)
    assert schedules.fire_due(runtime, T0 + timedelta(seconds=2)) == 1
    work(runtime)
    trigger_service.delete_backfill(runtime, TENANT, NS, "hourly", "every-hour", now=T0)
    assert schedules.fire_due(runtime, T0 + timedelta(seconds=3)) == 0
    assert len(executions()) == 2
    with pytest.raises(Conflict):
        trigger_service.pause_backfill(runtime, TENANT, NS, "hourly", "every-hour")


def test_a_backfill_refuses_a_bad_range_and_bad_inputs_and_stores_nothing(runtime):
    deploy(runtime, hourly())
    with pytest.raises(InvalidInput, match="before its start"):
        trigger_service.start_backfill(runtime, TENANT, NS, "hourly", "every-hour",
                                       start=T0, end=T0 - timedelta(hours=1), now=T0)
    with pytest.raises(InvalidInput, match="more than 10,000 dates"):
        trigger_service.start_backfill(runtime, TENANT, NS, "hourly", "every-hour",
                                       start=T0 - timedelta(days=1000), end=T0, now=T0)
    assert row().backfill is None


def test_redeploying_keeps_the_schedule_and_a_new_cron_restarts_it(runtime):
    deploy(runtime, hourly())
    schedules.fire_due(runtime, T0 + timedelta(hours=1))
    work(runtime)
    flow_service.deploy(runtime, TENANT, textwrap.dedent(hourly()).replace(
        "- id: log", "- id: log2"))
    assert row().next_date == T0 + timedelta(hours=2) and row().revision == 2
    flow_service.deploy(runtime, TENANT, textwrap.dedent(hourly()).replace(
        '"0 * * * *"', '"30 * * * *"'))
    assert row().next_date.minute == 30
    flow_service.delete(TENANT, NS, "hourly")
    assert row() is None


def test_a_starting_scheduler_repairs_rows_a_dead_deploy_or_delete_left_wrong(runtime):
    deploy(runtime, hourly())
    trigger_store.delete_triggers(TENANT, NS, "hourly")            # deploy died before sync
    trigger_store.insert_trigger(trigger_store.Trigger(             # delete died before sync
        tenant=TENANT, namespace=NS, flow_id="gone", trigger_id="old", kind="Flow",
        revision=1, definition={}, updated=T0))
    assert trigger_service.sync_all(runtime, T0) == 1
    assert row() is not None and row().next_date == T0 + timedelta(hours=1)
    assert trigger_store.flow_triggers(TENANT, NS, "gone") == []


def test_a_backfill_over_dates_the_live_schedule_missed_runs_each_of_them_once(runtime):
    deploy(runtime, hourly(), now=T0)            # next live date 11:00
    later = T0 + timedelta(hours=3, minutes=30)  # the scheduler was down until 13:30
    trigger_service.start_backfill(runtime, TENANT, NS, "hourly", "every-hour",
                                   start=T0, end=T0 + timedelta(hours=3), now=later)
    for _ in range(8):
        schedules.fire_due(runtime, later)
        work(runtime)
    hours = [e.trigger["variables"]["date"][11:13] for e in executions()]
    assert hours == ["10", "11", "12", "13"]     # each once: none again from the live side
    assert row().next_date == T0 + timedelta(hours=4)


def test_a_backfill_cannot_end_in_the_future(runtime):
    deploy(runtime, hourly())
    with pytest.raises(InvalidInput, match="in the future"):
        trigger_service.start_backfill(runtime, TENANT, NS, "hourly", "every-hour",
                                       start=T0, end=T0 + timedelta(hours=5), now=T0)


def test_a_backfill_refuses_secret_and_file_inputs_it_would_have_to_keep(runtime):
    deploy(runtime, """
        id: hourly
        namespace: company.team
        inputs:
          - id: password
            type: SECRET
            required: false
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: hi
        triggers:
          - id: every-hour
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "0 * * * *"
    """)
    with pytest.raises(InvalidInput, match="`password` is a SECRET"):
        trigger_service.start_backfill(runtime, TENANT, NS, "hourly", "every-hour",
                                       start=T0 - timedelta(hours=2), end=T0,
                                       inputs={"password": "hunter2"}, now=T0)
    assert row().backfill is None
