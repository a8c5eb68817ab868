"""Running one attempt of a runnable task on a worker, then recording its result."""
from __future__ import annotations

import logging
import threading
import time

from kestra_lite.model.flow import task_index
from kestra_lite.engine.expressions import ExpressionError
from kestra_lite.engine.variables import OutputsIndex, execution_variables, task_variables
from kestra_lite.errors import KestraLiteError
from kestra_lite.model.durations import parse_duration
from kestra_lite.model.execution import Execution, TaskRun
from kestra_lite.model.flow import Flow, Task
from kestra_lite.model.state import State, utcnow
from kestra_lite.services import executions as service
from kestra_lite.services.runtime import Runtime, RuntimeHooks, reveal_secret_inputs
from kestra_lite.services.task_services import TaskServices
from kestra_lite.store import db
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store
from kestra_lite.tasks import registry
from kestra_lite.tasks.base import RunContext, TaskFailed, TaskKilled, TaskLogger, TaskResult

log = logging.getLogger(__name__)
MAX_CHAIN = 100             # task runs one job may run back to back
MAX_CHAIN_SECONDS = 2.0


def run_task(runtime: Runtime, tenant: str, execution_id: str, task_run_id: str, attempt: int) -> None:
    """Run an attempt, record its result, then run at once the next task run that result
    started (a sequential flow stays on this worker without a queue round trip), up to a
    bounded chain so other jobs get their turn. Each attempt's heartbeat is claimed before
    any database read and held until its result is saved."""
    execution: Execution | None = None
    started = time.monotonic()
    for _ in range(MAX_CHAIN):
        kept: list = []
        with runtime.heartbeat(f"{task_run_id}:{attempt}"):
            if execution is None:
                execution = db.retrying(lambda: store.find_execution(tenant, execution_id),
                                        what=f"load of execution {execution_id}")
            _run_attempt(runtime, execution, task_run_id, attempt, kept)
        if not kept:
            return
        execution, task_run_id, attempt = kept[0]
        if time.monotonic() - started > MAX_CHAIN_SECONDS:
            break
    from kestra_lite import jobs
    jobs.enqueue_task(runtime, tenant, execution.id, task_run_id, attempt)


def _run_attempt(runtime: Runtime, execution: Execution | None, task_run_id: str, attempt: int,
                 kept: list) -> None:
    if execution is None:
        return
    try:
        task_run = execution.task_run(task_run_id)
    except KeyError:
        return
    if task_run.current is not State.RUNNING or len(task_run.attempts) != attempt:
        return      # stale job: already done, killed, or superseded
    tenant = execution.tenant
    flow = db.retrying(lambda: runtime.load_flow(tenant, execution.namespace, execution.flow_id,
                                                 execution.flow_revision), what="load of a flow")
    if flow is None:
        return
    task = task_index(flow)[task_run.task_id]
    ctx = _context(runtime, flow, execution, task, task_run)
    state, outputs = _execute(runtime, ctx, task)
    _save_result(runtime, ctx, state, outputs, kept)


def _save_result(runtime: Runtime, ctx: RunContext, state: State, outputs: dict | None,
                 kept: list) -> None:
    """Store the attempt's result with its last log lines in one transaction, riding out a
    database outage: the task ran, its result must not be lost (nor the task run again)."""
    execution, task_run = ctx.execution, ctx.task_run
    attempt = len(task_run.attempts)        # before the save may add a retry attempt
    logs = ctx.logger.take()
    first = [execution]     # the loaded copy is only good for the first try

    def record():
        # retried only when the database fails; after a commit (the effects failing), the
        # retry finds the attempt ended and changes nothing: the kept task run, if any, stays
        # in `kept` and the stored log lines were taken out of `logs`
        service.record_result(runtime, execution.tenant, execution.id, task_run.id, attempt,
                              state, outputs, loaded=first.pop() if first else None,
                              keep=kept, logs=logs)
    db.retrying(record, what=f"result of task run {task_run.id} (execution {execution.id})")


def _context(runtime: Runtime, flow: Flow, execution: Execution, task: Task, task_run: TaskRun) -> RunContext:
    hooks = RuntimeHooks(runtime, flow, execution, worker=True)
    index = OutputsIndex(execution)
    variables = task_variables(execution_variables(flow, execution, index, runtime.envs,
                                                   runtime.globals), task, task_run, index)
    secrets: list[str] = []
    if "inputs" in variables:
        variables["inputs"], secrets = reveal_secret_inputs(runtime, flow, variables["inputs"])
    logger = TaskLogger({"executionId": execution.id, "namespace": execution.namespace,
                         "flowId": execution.flow_id, "taskId": task.id, "taskRunId": task_run.id,
                         "attemptNumber": len(task_run.attempts), "triggerId": None,
                         "thread": threading.current_thread().name},
                        task.log_level, lambda: secrets + hooks.revealed,
                        sink=lambda records: log_store.append_logs(execution.tenant, records))
    attempt = f"{task_run.id}:{len(task_run.attempts)}"
    timed_out = threading.Event()
    return RunContext(flow=flow, execution=execution, task=task, task_run=task_run,
                      variables=variables, hooks=hooks, logger=logger,
                      services=TaskServices(runtime, execution, task_run), timed_out=timed_out,
                      is_killed=lambda: timed_out.is_set() or runtime.is_killed(attempt),
                      secrets=secrets)


def _execute(runtime: Runtime, ctx: RunContext, task: Task) -> tuple[State, dict | None]:
    """Run the task, bounded by its `timeout`; every failure becomes a FAILED attempt."""
    outcome: dict = {}

    def target():
        outcome["result"] = _call(ctx, task)

    timeout = _timeout_seconds(ctx, task)
    if timeout is None:
        target()
    else:
        thread = threading.Thread(target=target, daemon=True, name=f"task-{ctx.task_run.id}")
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            ctx.timed_out.set()
            ctx.logger.error(f"Timeout after {task.timeout}")
            return State.FAILED, None
    return outcome.get("result", (State.FAILED, None))


def _timeout_seconds(ctx: RunContext, task: Task) -> float | None:
    if not task.timeout:
        return None
    try:
        return parse_duration(ctx.render(task.timeout)).total_seconds()
    except (ExpressionError, ValueError) as error:
        ctx.logger.error(f"Invalid timeout `{task.timeout}`: {error}")
        return 0.0


def _call(ctx: RunContext, task: Task) -> tuple[State, dict | None]:
    try:
        implementation = registry.implementation(task.type)
        result = implementation.run(ctx)
    except TaskKilled:
        return State.KILLED, None
    except (TaskFailed, ExpressionError, KestraLiteError, LookupError, ValueError,
            TypeError, OSError) as error:
        ctx.logger.error(str(error) or type(error).__name__)
        return State.FAILED, None
    except Exception as error:       # a plugin bug must not kill the worker nor hide the failure
        log.exception("task %s of execution %s crashed", task.id, ctx.execution.id)
        ctx.logger.error(f"{type(error).__name__}: {error}")
        return State.FAILED, None
    if isinstance(result, TaskResult):
        return result.state, result.outputs
    return State.SUCCESS, result
