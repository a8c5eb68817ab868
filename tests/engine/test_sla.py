"""Flow-level SLAs (semantics 8) through the service layer and a real RQ burst worker, with
time injected: the scheduler's tick runs the executor pass of a due execution at its own
`now` (services.executions.advance takes `now` too); executions start at the real time."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kestra_lite import scheduler
from kestra_lite.errors import InvalidFlow
from kestra_lite.model.state import State
from kestra_lite.services import executions as service
from kestra_lite.store import executions as store
from kestra_lite.store import flows as flow_store
from kestra_lite.store import logs as log_store

from tests.engine.test_engine import TENANT, deploy, run
from tests.engine.test_scheduler import work

HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def max_duration_flow(behavior: str, task: str = "pause") -> str:
    tasks = {"pause": """
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
            delay: PT10H""", "sleep": """
          - id: sleep
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT1H""", "log": """
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: quick"""}[task]
    return f"""
        id: slow
        namespace: company.team
        sla:
          - id: maxDuration
            type: MAX_DURATION
            behavior: {behavior}
            duration: PT1H
            labels:
              sla: miss
        tasks:{tasks}
    """


def assertion_flow(behavior: str, extra_sla: str = "") -> str:
    return f"""
        id: checked
        namespace: company.team
        inputs:
          - id: mode
            type: STRING
            defaults: good
        sla:
          - id: goodMode
            type: EXECUTION_ASSERTION
            behavior: {behavior}
            assert: "{{{{ inputs.mode == 'good' }}}}"
            labels:
              sla: violated
{extra_sla}
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "mode {{{{ inputs.mode }}}}"
    """


def logs(execution_id: str, level: str | None = None) -> list[str]:
    return [line["message"] for line in log_store.execution_logs(TENANT, execution_id)
            if level is None or line["level"] == level]


def sla_logs(execution_id: str, level: str = "WARN") -> list[str]:
    return [m for m in logs(execution_id, level) if "SLA '" in m]


def is_due(execution_id: str, now) -> bool:
    return (TENANT, execution_id) in store.due_executions(now, limit=1000)



def paused_past_its_deadline(runtime, behavior: str):
    """A paused execution of the PT1H MAX_DURATION flow, advanced by the scheduler's tick 1 s
    after its deadline."""
    execution = service.create_execution(runtime, deploy(runtime, max_duration_flow(behavior)))
    work(runtime)
    assert store.load_execution(TENANT, execution.id).current is State.PAUSED
    deadline = execution.state.start_date + HOUR
    assert is_due(execution.id, deadline) and not is_due(execution.id, deadline - SECOND)
    assert scheduler.tick(runtime, deadline + SECOND) == 1
    work(runtime)
    return store.load_execution(TENANT, execution.id)


# -- MAX_DURATION -------------------------------------------------------------------------------

@pytest.mark.parametrize("behavior, state, task_state", [
    ("FAIL", State.FAILED, State.FAILED), ("CANCEL", State.CANCELLED, State.CANCELLED),
    ("NONE", State.PAUSED, State.PAUSED)])
def test_max_duration_applies_its_behavior_once_the_tick_passes_the_deadline(
        runtime, behavior, state, task_state):
    execution = paused_past_its_deadline(runtime, behavior)
    assert execution.current is state
    assert execution.task_runs[0].current is task_state
    assert sla_logs(execution.id) == [
        "SLA 'maxDuration' violated: execution duration of PT1H1S exceed the maximum "
        "duration of PT1H."]
    assert execution.label("sla") == "miss"


def test_max_duration_fail_logs_an_error_saying_which_sla_failed_the_execution(runtime):
    execution = paused_past_its_deadline(runtime, "FAIL")
    assert sla_logs(execution.id, "ERROR") == [
        "Execution failed due to SLA 'maxDuration' violated: execution duration of PT1H1S "
        "exceed the maximum duration of PT1H."]


def test_max_duration_cancel_and_none_log_no_error(runtime):
    for behavior in ("CANCEL", "NONE"):
        execution = paused_past_its_deadline(runtime, behavior)
        assert sla_logs(execution.id, "ERROR") == []


def test_a_violation_is_recorded_with_its_sla_reason_and_date(runtime):
    execution = paused_past_its_deadline(runtime, "NONE")
    assert execution.meta["slaViolated"] == ["maxDuration#0"]
    [record] = execution.meta["slaViolations"]
    violated_at = execution.state.start_date + HOUR + SECOND
    assert record == {
        "id": "maxDuration", "type": "MAX_DURATION", "behavior": "NONE",
        "reason": "execution duration of PT1H1S exceed the maximum duration of PT1H.",
        "date": violated_at.isoformat().replace("+00:00", "Z")}


def test_max_duration_none_is_violated_once_and_then_waits_for_the_pause(runtime):
    execution = paused_past_its_deadline(runtime, "NONE")
    start = execution.state.start_date
    assert not is_due(execution.id, start + 2 * HOUR)      # the next date: the Pause's delay
    resumed = start + 10 * HOUR + SECOND           # the Pause started a moment after `start`
    assert is_due(execution.id, resumed)
    service.advance(runtime, TENANT, execution.id, resumed)      # as the tick does
    final = store.load_execution(TENANT, execution.id)
    assert final.current is State.SUCCESS
    assert len(sla_logs(execution.id)) == 1
    assert [label["key"] for label in final.labels].count("sla") == 1


def test_max_duration_fail_kills_the_running_task_run(runtime):
    execution = service.create_execution(runtime, deploy(runtime, max_duration_flow(
        "FAIL", task="sleep")))               # `sleep` is dispatched: its job waits in Redis
    [sleep] = store.load_execution(TENANT, execution.id).task_runs
    assert sleep.current is State.RUNNING
    assert scheduler.tick(runtime, execution.state.start_date + HOUR + SECOND) == 1
    failed = store.load_execution(TENANT, execution.id)
    assert failed.current is State.FAILED
    [sleep] = failed.task_runs
    assert sleep.current is State.FAILED and sleep.attempts[-1].state.current is State.KILLED
    assert runtime.is_killed(f"{sleep.id}:1")
    work(runtime)                             # the task's job finds its run over: it is skipped
    assert store.load_execution(TENANT, execution.id).current is State.FAILED
    assert not any(m.startswith("Waiting for") for m in logs(execution.id))


def test_max_duration_is_not_violated_when_the_execution_ends_in_time(runtime):
    execution = service.create_execution(runtime, deploy(runtime, max_duration_flow(
        "FAIL", task="log")))
    work(runtime)
    assert store.load_execution(TENANT, execution.id).current is State.SUCCESS
    deadline = execution.state.start_date + HOUR
    scheduler.tick(runtime, deadline + SECOND)     # a wake left by a pass before the end
    final = store.load_execution(TENANT, execution.id)
    assert final.current is State.SUCCESS and final.label("sla") is None
    assert sla_logs(execution.id) == [] and not final.meta.get("slaViolations")
    assert not is_due(execution.id, deadline + 1000 * HOUR)      # wake_at cleared


def test_a_pass_before_the_deadline_leaves_the_execution_alone(runtime):
    """E.g. a worker's pass, or the tick of a scheduler whose clock is a little behind."""
    execution = service.create_execution(runtime, deploy(runtime, max_duration_flow("FAIL")))
    work(runtime)
    deadline = execution.state.start_date + HOUR
    assert scheduler.tick(runtime, deadline - SECOND) == 0
    service.advance(runtime, TENANT, execution.id, deadline - SECOND)
    still = store.load_execution(TENANT, execution.id)
    assert still.current is State.PAUSED and sla_logs(execution.id) == []
    assert is_due(execution.id, deadline) and not is_due(execution.id, deadline - SECOND)


# -- EXECUTION_ASSERTION --------------------------------------------------------------------------

@pytest.mark.parametrize("behavior, state", [
    ("FAIL", State.FAILED), ("CANCEL", State.CANCELLED), ("NONE", State.SUCCESS)])
def test_a_false_assertion_applies_its_behavior_and_adds_labels(runtime, behavior, state):
    execution = run(runtime, deploy(runtime, assertion_flow(behavior)), inputs={"mode": "bad"})
    assert execution.current is state
    assert sla_logs(execution.id) == [
        "SLA 'goodMode' violated: assertion is false: {{ inputs.mode == 'good' }}."]
    assert execution.label("sla") == "violated"
    errors = sla_logs(execution.id, "ERROR")
    assert errors == (["Execution failed due to SLA 'goodMode' violated: assertion is false: "
                       "{{ inputs.mode == 'good' }}."] if behavior == "FAIL" else [])
    ran = [t.task_id for t in execution.task_runs]
    assert ran == (["log"] if behavior == "NONE" else [])     # checked before the first task


def test_a_true_assertion_lets_the_execution_succeed_untouched(runtime):
    execution = run(runtime, deploy(runtime, assertion_flow("FAIL")))
    assert execution.current is State.SUCCESS
    assert execution.label("sla") is None and sla_logs(execution.id) == []


def test_an_assertion_that_turns_false_mid_run_stops_the_execution(runtime):
    flow = deploy(runtime, """
        id: drifting
        namespace: company.team
        sla:
          - id: stillOk
            type: EXECUTION_ASSERTION
            behavior: CANCEL
            assert: "{{ (outputs.check.value ?? 'ok') == 'ok' }}"
        tasks:
          - id: check
            type: io.kestra.plugin.core.debug.Return
            format: drifted
          - id: after
            type: io.kestra.plugin.core.log.Log
            message: never
    """)
    execution = run(runtime, flow)
    assert execution.current is State.CANCELLED
    assert [t.task_id for t in execution.task_runs] == ["check"]
    assert execution.task_runs[0].current is State.SUCCESS     # it had ended: left as it was


def test_an_assertion_that_fails_to_render_is_logged_and_ignored(runtime):
    flow = deploy(runtime, """
        id: unreadable
        namespace: company.team
        sla:
          - id: broken
            type: EXECUTION_ASSERTION
            behavior: FAIL
            assert: "{{ outputs.missing.value == 'x' }}"
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: fine
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    warnings = sla_logs(execution.id)
    assert warnings and all(m.startswith("Unable to evaluate SLA 'broken': ") for m in warnings)
    assert not execution.meta.get("slaViolations")


def test_two_slas_violated_in_one_pass_are_both_logged_but_only_the_first_sets_the_state(
        runtime):
    second = """
          - id: alsoGood
            type: EXECUTION_ASSERTION
            behavior: FAIL
            assert: "{{ inputs.mode != 'bad' }}"
            labels:
              sla: violated
              second: label"""
    execution = run(runtime, deploy(runtime, assertion_flow("CANCEL", second)),
                    inputs={"mode": "bad"})
    assert execution.current is State.CANCELLED
    assert [m.split(":")[0] for m in sla_logs(execution.id)] == [
        "SLA 'goodMode' violated", "SLA 'alsoGood' violated"]
    assert sla_logs(execution.id, "ERROR") == []
    assert [r["id"] for r in execution.meta["slaViolations"]] == ["goodMode", "alsoGood"]
    assert execution.meta["slaViolated"] == ["goodMode#0", "alsoGood#1"]
    keys = [label["key"] for label in execution.labels]
    assert keys.count("sla") == 1 and execution.label("second") == "label"


def test_labels_already_on_the_execution_are_not_added_twice(runtime):
    execution = run(runtime, deploy(runtime, assertion_flow("NONE")), inputs={"mode": "bad"},
                    labels={"sla": "violated"})
    assert [label["key"] for label in execution.labels].count("sla") == 1


def test_two_slas_sharing_an_id_are_two_slas(runtime):
    """As in Kestra's own sla-execution-condition flow."""
    twin = """
          - id: goodMode
            type: EXECUTION_ASSERTION
            behavior: NONE
            assert: "{{ inputs.mode != 'bad' }}\""""
    execution = run(runtime, deploy(runtime, assertion_flow("NONE", twin)),
                    inputs={"mode": "bad"})
    assert execution.meta["slaViolated"] == ["goodMode#0", "goodMode#1"]
    assert len(sla_logs(execution.id)) == 2


# -- validation at deploy -----------------------------------------------------------------------

@pytest.mark.parametrize("duration, expected", [
    ("P999999D", "longer than 100 years"), ("PT10000000H", "longer than 100 years"),
    ("P400D", "must be at most 365 days"), ("PT0S", "must be positive"),
    ("soon", "Invalid duration `soon`")])
def test_an_absurd_sla_duration_is_refused_at_deploy_with_a_clear_message(
        runtime, duration, expected):
    source = max_duration_flow("FAIL").replace("duration: PT1H", f"duration: {duration}", 1)
    with pytest.raises(InvalidFlow) as refused:
        deploy(runtime, source)
    message = str(refused.value)
    assert "`duration` of SLA `maxDuration`" in message and expected in message
    assert flow_store.get_flow(TENANT, "company.team", "slow") is None
