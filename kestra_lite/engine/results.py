"""Merging a worker's result into an execution: attempts, retries, allowFailure (semantics 6.5, 6.8)."""
from __future__ import annotations

from datetime import datetime

from kestra_lite.engine import retry as retries
from kestra_lite.model.flow import task_index
from kestra_lite.model.execution import Execution, TaskRun
from kestra_lite.model.flow import Flow
from kestra_lite.model.state import State


def apply_result(flow: Flow, execution: Execution, task_run_id: str, attempt_number: int,
                 state: State, outputs: dict | None, now: datetime) -> bool:
    """Record the end of an attempt. False when the result is stale (already applied, killed...)."""
    try:
        task_run = execution.task_run(task_run_id)
    except KeyError:
        return False
    if task_run.current is not State.RUNNING or len(task_run.attempts) != attempt_number:
        return False
    attempt = task_run.attempts[-1]
    if attempt.state.current.is_terminated:
        return False
    attempt.state.set(state, now)
    if outputs is not None:
        task_run.outputs = outputs
    policy = retry_policy(flow, execution, task_run)
    if state is State.FAILED and policy and schedule_retry(policy, execution, task_run, now):
        return True
    task_run.state.set(_final_state(flow, task_run, state, policy), now)
    return True


def retry_policy(flow: Flow, execution: Execution, task_run: TaskRun) -> dict | None:
    """Task retry, else the nearest ancestor flowable's, else the flow's."""
    tasks = task_index(flow)
    task = tasks[task_run.task_id]
    if task.retry:
        return task.retry
    by_id = {t.id: t for t in execution.task_runs}
    parent_id = task_run.parent_task_run_id
    while parent_id:
        parent = by_id.get(parent_id)
        if parent is None:
            break
        parent_task = tasks.get(parent.task_id)
        if parent_task is not None and parent_task.retry:
            return parent_task.retry
        parent_id = parent.parent_task_run_id
    return flow.retry


def schedule_retry(policy: dict, execution: Execution, task_run: TaskRun, now: datetime) -> bool:
    """Put a failed task run (or, CREATE_NEW_EXECUTION, the execution) in line for another
    attempt; False when the policy is exhausted."""
    first_start, last_end = retries.attempt_bounds(task_run)
    if retries.behavior(policy) == retries.CREATE_NEW_EXECUTION:
        date = retries.next_retry_date(policy, execution.attempt_number, first_start, last_end)
        if date is None:
            return False
        _mark_retried(execution, task_run, now)
        execution.meta["retryNewExecutionAt"] = date.isoformat()
        return True
    date = retries.next_retry_date(policy, len(task_run.attempts), first_start, last_end)
    if date is None:
        return False
    task_run.state.set(State.FAILED, now)
    task_run.state.set(State.RETRYING, now)
    task_run.meta["retryAt"] = date.isoformat()
    return True


def _mark_retried(execution: Execution, task_run: TaskRun, now: datetime) -> None:
    by_id = {t.id: t for t in execution.task_runs}
    current: TaskRun | None = task_run
    while current is not None:
        current.state.set(State.RETRIED, now)
        current = by_id.get(current.parent_task_run_id) if current.parent_task_run_id else None
    for other in execution.task_runs:
        if not other.current.is_terminated:
            other.state.set(State.KILLED, now)
    execution.state.set(State.RETRIED, now)


def _final_state(flow: Flow, task_run: TaskRun, state: State, policy: dict | None) -> State:
    task = task_index(flow)[task_run.task_id]
    if (state is State.SUCCESS and policy and policy.get("warningOnRetry")
            and len(task_run.attempts) > 1):
        state = State.WARNING
    if state is State.FAILED and task.allow_failure:
        state = State.WARNING
    if state is State.WARNING and task.allow_warning:
        state = State.SUCCESS
    return state
