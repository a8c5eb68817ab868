"""Flow-level SLAs end to end (semantics 8): MAX_DURATION deadlines woken by the real
scheduler process and enforced by real workers, EXECUTION_ASSERTION through the workers
alone, with each behavior (FAIL, CANCEL, NONE)."""
from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from kestra_lite.model.state import State, parse_iso
from kestra_lite.services import executions as execution_service
from kestra_lite.services import flows as flow_service
from kestra_lite.store import executions as execution_store
from kestra_lite.store import logs as log_store

from tests.e2e.conftest import start_scheduler, start_workers
from tests.faults.faults import running_attempt, wait_until

TENANT = "main"
WAIT = 30
MAX_DETECTION_LAG = timedelta(seconds=1.5)
SLEEP_SECONDS = 5

SLOW = """
    id: slow-{behavior}
    namespace: company.team
    sla:
      - id: one-second
        type: MAX_DURATION
        behavior: {behavior}
        duration: PT1S
        labels:
          sla: missed
    tasks:
      - id: sleep
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT{seconds}S
      - id: after
        type: io.kestra.plugin.core.log.Log
        message: done
"""

ENDS = {"FAIL": State.FAILED, "CANCEL": State.CANCELLED, "NONE": State.SUCCESS}


def deploy(runtime, source: str):
    return flow_service.deploy(runtime, TENANT, textwrap.dedent(source))


def ended(execution_id: str):
    execution = execution_store.load_execution(TENANT, execution_id)
    return execution if execution.current.is_terminated else None


def logs(execution_id: str, level: str) -> list[dict]:
    return [line for line in log_store.execution_logs(TENANT, execution_id)
            if line["level"] == level]


def violation_log(execution_id: str, sla_id: str) -> dict:
    [line] = [line for line in logs(execution_id, "WARN")
              if line["message"].startswith(f"SLA '{sla_id}' violated: ")]
    return line


@pytest.mark.parametrize("behavior", ["FAIL", "CANCEL", "NONE"])
def test_a_max_duration_sla_is_enforced_by_the_scheduler_tick_within_a_second_and_a_half(
        runtime, processes, behavior):
    """One worker, busy with the 5 s Sleep: the scheduler runs the deadline's executor pass
    itself, so the violation does not wait for a free worker."""
    start_workers(runtime, processes)
    start_scheduler(runtime, processes)
    flow = deploy(runtime, SLOW.format(behavior=behavior, seconds=SLEEP_SECONDS))
    execution = execution_service.create_execution(runtime, flow)
    attempt = wait_until(lambda: running_attempt(runtime, execution.id, "sleep"), WAIT,
                         "a worker to hold the sleep task", processes)

    final = wait_until(lambda: ended(execution.id), WAIT, "the execution to end", processes)

    assert final.current is ENDS[behavior]
    assert final.label("sla") == "missed"
    deadline = final.state.start_date + timedelta(seconds=1)
    violation = violation_log(execution.id, "one-second")
    assert "exceed the maximum duration of PT1S" in violation["message"]
    lag = parse_iso(violation["timestamp"]) - deadline
    assert timedelta(0) <= lag < MAX_DETECTION_LAG, lag
    [record] = final.meta["slaViolations"]
    assert (record["id"], record["type"], record["behavior"]) == \
        ("one-second", "MAX_DURATION", behavior)
    sleep = final.task_runs[0]
    if behavior == "NONE":
        assert [(t.task_id, t.current) for t in final.task_runs] == \
            [("sleep", State.SUCCESS), ("after", State.SUCCESS)]
        assert logs(execution.id, "ERROR") == []
        return
    # the running Sleep, the last task run of the list, takes the execution's state (Kestra
    # sets the last one); its attempt is KILLED and its worker stops at once, long before
    # the Sleep would have ended
    assert [t.task_id for t in final.task_runs] == ["sleep"]
    assert sleep.current is ENDS[behavior]
    assert sleep.attempts[-1].state.current is State.KILLED
    wait_until(lambda: not runtime.has_heartbeat(attempt), 2, "the worker to drop the Sleep",
               processes)
    assert final.state.end_date - final.state.start_date < timedelta(seconds=SLEEP_SECONDS - 2)
    failed_logs = [line["message"] for line in logs(execution.id, "ERROR")]
    if behavior == "FAIL":
        assert failed_logs == ["Execution failed due to SLA 'one-second' violated: "
                               + violation["message"].split("violated: ", 1)[1]]
    else:
        assert failed_logs == []


ASSERTED = """
    id: asserted-{behavior}
    namespace: company.team
    sla:
      - id: good-value
        type: EXECUTION_ASSERTION
        behavior: {behavior}
        assert: "{{{{ (outputs.value.value ?? 'good') == 'good' }}}}"
        labels:
          sla: broken
    tasks:
      - id: value
        type: io.kestra.plugin.core.debug.Return
        format: bad
      - id: after
        type: io.kestra.plugin.core.log.Log
        message: done
"""


@pytest.mark.parametrize("behavior", ["FAIL", "CANCEL", "NONE"])
def test_an_execution_assertion_is_checked_on_every_pass_by_the_workers_alone(
        runtime, processes, behavior):
    start_workers(runtime, processes)
    flow = deploy(runtime, ASSERTED.format(behavior=behavior))
    execution = execution_service.create_execution(runtime, flow)

    final = wait_until(lambda: ended(execution.id), WAIT, "the execution to end", processes)

    assert final.current is ENDS[behavior]
    assert final.label("sla") == "broken"
    violation = violation_log(execution.id, "good-value")
    assert violation["message"].endswith("assertion is false: "
                                         "{{ (outputs.value.value ?? 'good') == 'good' }}.")
    tasks = [(t.task_id, t.current) for t in final.task_runs]
    if behavior == "NONE":
        assert tasks == [("value", State.SUCCESS), ("after", State.SUCCESS)]
    else:
        # violated on the pass after `value` ended: nothing else starts
        assert tasks == [("value", State.SUCCESS)]
