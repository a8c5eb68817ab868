"""The engine end to end: real database, real Redis, a real RQ worker (in burst mode)."""
from __future__ import annotations

import textwrap

import pytest

from kestra_lite.errors import IllegalTransition, InvalidInput
from kestra_lite.model.state import State
from kestra_lite.services import executions as service
from kestra_lite.services import flows as flow_service
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store

TENANT = "main"


def deploy(runtime, source: str):
    return flow_service.deploy(runtime, TENANT, textwrap.dedent(source))


def run(runtime, flow, **kwargs):
    execution = service.create_execution(runtime, flow, **kwargs)
    run_until_settled(runtime, TENANT, execution.id)
    return store.load_execution(TENANT, execution.id)


def states(execution) -> dict:
    return {t.task_id: t.current.value for t in execution.task_runs}


def messages(execution) -> list[str]:
    return [log["message"] for log in log_store.execution_logs(TENANT, execution.id)]


def test_forty_log_tasks_run_in_order_and_succeed(runtime):
    tasks = "\n".join(f"""
      - id: log{i}
        type: io.kestra.plugin.core.log.Log
        message: "line {i} of {{{{ flow.id }}}}" """ for i in range(40))
    flow = deploy(runtime, "id: forty\nnamespace: company.team\ntasks:" + textwrap.indent(
        textwrap.dedent(tasks), "  "))
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    assert [t.task_id for t in execution.task_runs] == [f"log{i}" for i in range(40)]
    assert [m for m in messages(execution) if m.startswith("line")] == [
        f"line {i} of forty" for i in range(40)]


def test_kill_interrupts_the_running_task_and_kills_subflows_in_cascade(runtime):
    deploy(runtime, """
        id: child
        namespace: company.team
        tasks:
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
    """)
    parent = deploy(runtime, """
        id: parent
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: child
    """)
    execution = service.create_execution(runtime, parent)
    run_until_settled(runtime, TENANT, execution.id)
    [child] = store.children_of(TENANT, execution.id)
    assert store.load_execution(TENANT, child.id).current is State.PAUSED
    service.kill(runtime, TENANT, execution.id)
    run_until_settled(runtime, TENANT, execution.id)
    assert store.load_execution(TENANT, execution.id).current is State.KILLED
    assert store.load_execution(TENANT, child.id).current is State.KILLED


def test_a_task_timeout_fails_the_attempt_and_retry_applies(runtime):
    flow = deploy(runtime, """
        id: slow
        namespace: company.team
        tasks:
          - id: sleep
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT5S
            timeout: PT0.2S
            retry:
              type: constant
              interval: PT0.1S
              maxAttempt: 2
    """)
    execution = run(runtime, flow)
    assert execution.current is State.FAILED
    assert len(execution.task_runs[0].attempts) == 2
    assert any("Timeout" in m for m in messages(execution))


def test_retry_create_new_execution_replays_the_flow_with_a_new_attempt_number(runtime):
    flow = deploy(runtime, """
        id: flaky
        namespace: company.team
        tasks:
          - id: fail
            type: io.kestra.plugin.core.execution.Fail
            retry:
              type: constant
              interval: PT0.05S
              maxAttempt: 3
              behavior: CREATE_NEW_EXECUTION
    """)
    first = run(runtime, flow)
    assert first.current is State.RETRIED
    for _ in range(3):
        found = store.search_executions(TENANT, namespace="company.team", flow_id="flaky")
        for execution in found:
            run_until_settled(runtime, TENANT, execution.id)
    by_attempt = sorted(store.search_executions(TENANT, namespace="company.team", flow_id="flaky"),
                        key=lambda e: e.attempt_number)
    assert [e.current for e in by_attempt] == [State.RETRIED, State.RETRIED, State.FAILED]
    assert by_attempt[1].parent_id == by_attempt[0].id


def test_concurrency_fail_behavior_fails_the_second_execution(runtime):
    flow = deploy(runtime, """
        id: single
        namespace: company.team
        concurrency:
          limit: 1
          behavior: FAIL
        tasks:
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
    """)
    first = service.create_execution(runtime, flow)
    run_until_settled(runtime, TENANT, first.id)
    second = run(runtime, flow)
    assert second.current is State.FAILED
    assert "Flow is FAILED due to concurrency limit exceeded" in messages(second)


def test_replay_from_a_task_run_keeps_what_came_before(runtime):
    flow = deploy(runtime, """
        id: replayed
        namespace: company.team
        tasks:
          - id: first
            type: io.kestra.plugin.core.debug.Return
            format: one
          - id: second
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.first.value }}-two"
    """)
    original = run(runtime, flow)
    second_run = original.task_runs[1]
    replay = service.replay(runtime, TENANT, original.id, second_run.id)
    run_until_settled(runtime, TENANT, replay.id)
    replay = store.load_execution(TENANT, replay.id)
    assert replay.current is State.SUCCESS
    assert replay.parent_id == original.id
    assert [t.task_id for t in replay.task_runs] == ["first", "second"]
    assert replay.task_runs[0].state.histories == original.task_runs[0].state.histories
    assert store.load_execution(TENANT, original.id).task_runs[0].execution_id == original.id
    assert replay.task_runs[1].outputs == {"value": "one-two"}


def test_wait_for_repeats_its_tasks_until_the_condition_holds(runtime):
    flow = deploy(runtime, """
        id: waiting
        namespace: company.team
        tasks:
          - id: loop
            type: io.kestra.plugin.core.flow.WaitFor
            condition: "{{ outputs.loop.iterationCount >= 3 }}"
            checkFrequency:
              interval: PT0.05S
            tasks:
              - id: step
                type: io.kestra.plugin.core.debug.Return
                format: "{{ outputs.loop.iterationCount }}"
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    assert execution.task_runs[0].outputs == {"iterationCount": 3}


def test_dag_runs_tasks_after_their_dependencies(runtime):
    flow = deploy(runtime, """
        id: dag
        namespace: company.team
        tasks:
          - id: dag
            type: io.kestra.plugin.core.flow.Dag
            tasks:
              - task: {id: last, type: io.kestra.plugin.core.debug.Return, format: "{{ outputs.first.value }}"}
                dependsOn: [first]
              - task: {id: first, type: io.kestra.plugin.core.debug.Return, format: one}
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    assert [t.task_id for t in execution.task_runs] == ["dag", "first", "last"]


def test_bad_inputs_are_refused_with_kestra_s_message_and_nothing_is_stored(runtime):
    flow = deploy(runtime, """
        id: typed
        namespace: company.team
        inputs:
          - id: count
            type: INT
            min: 10
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{ inputs.count }}"
    """)
    with pytest.raises(InvalidInput, match="it must be more than `10`, but received `9`"):
        service.create_execution(runtime, flow, inputs={"count": "9"})
    assert store.search_executions(TENANT, namespace="company.team") == []


def test_a_manual_pause_stops_scheduling_until_resume(runtime):
    flow = deploy(runtime, """
        id: pausable
        namespace: company.team
        tasks:
          - id: one
            type: io.kestra.plugin.core.debug.Return
            format: one
          - id: two
            type: io.kestra.plugin.core.debug.Return
            format: two
    """)
    execution = service.create_execution(runtime, flow)
    service.pause(runtime, TENANT, execution.id)
    run_until_settled(runtime, TENANT, execution.id)
    paused = store.load_execution(TENANT, execution.id)
    assert paused.current is State.PAUSED
    assert states(paused) == {"one": "SUCCESS"}
    service.resume(runtime, TENANT, execution.id)
    run_until_settled(runtime, TENANT, execution.id)
    assert store.load_execution(TENANT, execution.id).current is State.SUCCESS
    with pytest.raises(IllegalTransition, match="is not paused"):
        service.resume(runtime, TENANT, execution.id)


def test_secrets_from_the_environment_are_masked_in_logs(runtime):
    runtime.secrets._values["PASSWORD"] = "c2VjcmV0LXZhbHVl"     # base64 of secret-value
    flow = deploy(runtime, """
        id: secretive
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "password is {{ secret('password') }}"
    """)
    execution = run(runtime, flow)
    assert "password is **masked****" in messages(execution)


def test_queued_executions_run_one_at_a_time_in_creation_order(runtime):
    flow = deploy(runtime, """
        id: one-at-a-time
        namespace: company.team
        concurrency:
          limit: 1
        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT0.05S
    """)
    created = [service.create_execution(runtime, flow) for _ in range(3)]
    for execution in created:
        run_until_settled(runtime, TENANT, execution.id)
    done = [store.load_execution(TENANT, e.id) for e in created]
    assert [e.current for e in done] == [State.SUCCESS] * 3
    for execution in done[1:]:
        assert [h.state for h in execution.state.histories[:3]] == [
            State.CREATED, State.QUEUED, State.RUNNING]
    periods = sorted((e.state.last_date(State.RUNNING), e.state.end_date) for e in done)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(periods, periods[1:]))


def test_a_secret_input_is_decrypted_for_conditions_and_masked_in_every_log(runtime):
    flow = deploy(runtime, """
        id: secret-input
        namespace: company.team
        inputs:
          - id: pwd
            type: SECRET
        tasks:
          - id: check
            type: io.kestra.plugin.core.flow.If
            condition: "{{ inputs.pwd == 'hunter2-long' }}"
            then:
              - id: say
                type: io.kestra.plugin.core.log.Log
                message: "pwd={{ inputs.pwd }}"
          - id: switch
            type: io.kestra.plugin.core.flow.Switch
            value: "{{ inputs.pwd }}"
            cases:
              other: []
    """)
    execution = run(runtime, flow, inputs={"pwd": "hunter2-long"})
    assert execution.inputs["pwd"] != "hunter2-long"          # encrypted at rest
    assert execution.task_runs[0].outputs == {"evaluationResult": True}
    logs = messages(execution)
    assert "pwd=**masked****" in logs
    assert not any("hunter2-long" in m for m in logs)
    assert any("no case for value `**masked****`" in m for m in logs)   # an executor log


def test_a_subflow_cancelled_by_its_concurrency_limit_ends_its_parent_task(runtime):
    child = deploy(runtime, """
        id: limited
        namespace: company.team
        concurrency:
          limit: 1
          behavior: CANCEL
        tasks:
          - id: wait
            type: io.kestra.plugin.core.flow.Pause
    """)
    parent = deploy(runtime, """
        id: caller
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: limited
    """)
    blocker = service.create_execution(runtime, child)
    run_until_settled(runtime, TENANT, blocker.id)
    execution = run(runtime, parent)
    # the parent is told and ends (CANCELLED is not a state transmitFailed passes on)
    assert execution.current is State.SUCCESS
    assert execution.task_runs[0].outputs["state"] == "CANCELLED"


def test_a_failed_subflow_task_is_retried_with_a_new_child_each_attempt(runtime):
    deploy(runtime, """
        id: always-fails
        namespace: company.team
        tasks:
          - id: fail
            type: io.kestra.plugin.core.execution.Fail
    """)
    parent = deploy(runtime, """
        id: insists
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: always-fails
            retry:
              type: constant
              interval: PT0.05S
              maxAttempt: 3
    """)
    execution = run(runtime, parent)
    assert execution.current is State.FAILED
    assert [a.state.current for a in execution.task_runs[0].attempts] == [State.FAILED] * 3
    assert len(store.children_of(TENANT, execution.id)) == 3
