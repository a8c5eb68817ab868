"""The scheduler's tick and watchdog, with `now` injected (no sleeping)."""
from __future__ import annotations

from datetime import timedelta

from kestra_lite import scheduler
from kestra_lite.model.state import State, utcnow
from kestra_lite.services import executions as service
from kestra_lite.services import watchdog
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store
from kestra_lite.store import triggers as trigger_store
from kestra_lite.worker import build_worker

from tests.engine.test_engine import TENANT, deploy

LOG_FLOW = """
    id: hello
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: hello
"""


def work(runtime):
    build_worker(runtime).work(burst=True, logging_level="WARNING")


def test_watchdog_resubmits_a_task_whose_job_was_lost(runtime):
    flow = deploy(runtime, LOG_FLOW)
    execution = service.create_execution(runtime, flow)   # dispatches `log` to the queue
    runtime.queue.empty()                                  # as if Redis had been flushed
    work(runtime)
    assert store.load_execution(TENANT, execution.id).current is State.RUNNING
    scheduler.watchdog(runtime, utcnow())     # first pass: reconciles (advances) everything
    work(runtime)
    assert scheduler.watchdog(runtime, utcnow()) == 0      # too recent to be judged lost
    assert scheduler.watchdog(runtime, utcnow() + timedelta(minutes=1)) >= 1
    work(runtime)
    assert store.load_execution(TENANT, execution.id).current is State.SUCCESS


def test_tick_wakes_a_pause_when_its_delay_has_passed(runtime):
    flow = deploy(runtime, """
        id: delayed
        namespace: company.team
        tasks:
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
            delay: PT1H
    """)
    execution = service.create_execution(runtime, flow)
    work(runtime)
    assert store.load_execution(TENANT, execution.id).current is State.PAUSED
    assert scheduler.tick(runtime, utcnow()) == 0
    assert scheduler.tick(runtime, utcnow() + timedelta(hours=2)) == 1
    # the tick's own executor pass resumed it (the Pause was the last task)
    assert store.load_execution(TENANT, execution.id).current is State.SUCCESS


def _lose_jobs_until_the_watchdog_gives_up(runtime, execution_id):
    """Every resubmitted job is lost again (as if its worker died each time)."""
    scheduler.watchdog(runtime, utcnow())                 # first pass: reconcile
    later = utcnow() + timedelta(minutes=1)
    for _ in range(watchdog.MAX_RESUBMITS):
        runtime.queue.empty()
        assert scheduler.watchdog(runtime, later) >= 1    # resubmitted
    runtime.queue.empty()
    scheduler.watchdog(runtime, later)                    # once too many: the attempt ends


def test_a_task_whose_worker_keeps_dying_fails_with_a_log_line_saying_why(runtime):
    flow = deploy(runtime, LOG_FLOW)
    execution = service.create_execution(runtime, flow)
    _lose_jobs_until_the_watchdog_gives_up(runtime, execution.id)
    work(runtime)
    final = store.load_execution(TENANT, execution.id)
    assert final.current is State.FAILED
    assert len(final.task_runs[0].attempts) == 1
    errors = [log["message"] for log in log_store.execution_logs(TENANT, execution.id)
              if log["level"] == "ERROR"]
    assert any("worker running this task was lost 4 times" in m for m in errors)


def test_an_execution_whose_flow_can_no_longer_be_loaded_ends_failed_saying_why(runtime):
    """E.g. its revision uses a task type this installation no longer has."""
    from kestra_lite.store.flows import FlowRow
    flow = deploy(runtime, LOG_FLOW)
    execution = service.create_execution(runtime, flow)
    runtime.queue.empty()
    FlowRow.update(source=LOG_FLOW.replace("core.log.Log", "gone.Plugin")).execute()
    runtime._flows.clear()                                 # as in a freshly started process
    scheduler.watchdog(runtime, utcnow())                  # first pass advances everything
    work(runtime)
    final = store.load_execution(TENANT, execution.id)
    assert final.current is State.FAILED
    assert any("can no longer be loaded" in log["message"]
               for log in log_store.execution_logs(TENANT, execution.id))


def test_a_date_that_comes_while_a_tick_runs_is_due_at_once(runtime):
    deploy(runtime, """
        id: every-second
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: tick
        triggers:
          - id: each
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "* * * * * *"
            withSeconds: true
    """)
    date = trigger_store.get_trigger(TENANT, "company.team", "every-second", "each").next_fire_at
    ms = timedelta(milliseconds=1)
    # the tick ran at date - 2 ms (not due yet) and ended at date + 3 ms: tick again now
    assert scheduler._pause(date - 2 * ms, now=date + 3 * ms) == 0
    # the tick ran at the date (fired it): the next date is a second away, the tick period
    assert scheduler._pause(date, now=date + 3 * ms) == scheduler.TICK_SECONDS
    assert scheduler._pause(date - 50 * ms, now=date - 40 * ms) == 0.04
