"""The scheduler's tick and watchdog, with `now` injected (no sleeping)."""
from __future__ import annotations

from datetime import timedelta

from kestra_lite import scheduler
from kestra_lite.model.state import State, utcnow
from kestra_lite.services import executions as service
from kestra_lite.store import executions as store
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
    assert store.load_execution(TENANT, execution.id).current is State.PAUSED  # job only queued
