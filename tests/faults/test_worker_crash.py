"""A worker killed with SIGKILL in the middle of a task: the watchdog (in a real scheduler
process) resubmits the attempt, another worker runs it, the execution ends SUCCESS."""
from __future__ import annotations

import signal
import threading

from kestra_lite.model.state import State
from kestra_lite.services import task_runner
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store

from tests.faults.faults import (TENANT, create, deploy_sleeper, ended, running_attempt,
                                 wait_until)


def test_a_task_whose_worker_is_sigkilled_is_resubmitted_and_the_execution_succeeds(
        runtime, processes):
    flow = deploy_sleeper(runtime, seconds=2)
    doomed = processes.start("worker")
    processes.start("scheduler")
    execution = create(runtime, flow)
    wait_until(lambda: running_attempt(runtime, execution.id, "sleep"), 30,
               "the worker to hold the sleep task", processes)

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    processes.start("worker")

    final = wait_until(lambda: ended(execution.id), 60, "the execution to end", processes)
    assert final.current is State.SUCCESS, processes.output()
    sleep = next(t for t in final.task_runs if t.task_id == "sleep")
    assert len(sleep.attempts) == 1 and sleep.attempts[0].state.current is State.SUCCESS
    warnings = [log["message"] for log in log_store.execution_logs(TENANT, execution.id)
                if log["level"] == "WARN"]
    assert any("worker lost" in message and "resubmitted" in message for message in warnings)


def test_running_an_attempt_twice_at_once_keeps_one_result(runtime):
    """A resubmitted attempt whose first worker was only slow: both runs finish, the first
    result is merged, the second is ignored; task runs, attempts and outputs stay whole."""
    from kestra_lite.services import flows as flow_service
    flow = flow_service.deploy(runtime, TENANT, """
id: twice
namespace: company.team
tasks:
  - id: value
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.id }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.value.value }}"
""")
    execution = create(runtime, flow)
    runtime.queue.empty()                    # the jobs are run by hand below
    [task_run] = store.load_execution(TENANT, execution.id).task_runs
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        task_runner.run_task(runtime, TENANT, execution.id, task_run.id, 1)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    final = store.load_execution(TENANT, execution.id)
    assert final.current is State.SUCCESS
    assert [t.task_id for t in final.task_runs] == ["value", "after"]
    value = final.task_runs[0]
    assert len(value.attempts) == 1 and value.outputs == {"value": execution.id}
    assert value.current is State.SUCCESS
