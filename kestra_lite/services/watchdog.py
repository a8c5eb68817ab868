"""The watchdog: no execution stays unfinished because a process or Redis lost its work.

The scheduler leader calls `watch(runtime, now)` every heartbeat period. The database is
the truth; Redis only carries jobs, heartbeats and kill flags, all of which can be lost.

- Redis flushed (the epoch key is gone): every unfinished execution is advanced at once;
  lost attempts are resubmitted once the live workers had time to renew their heartbeats.
- An attempt RUNNING in the database that no worker holds (no heartbeat) and no queued job
  carries is resubmitted with the same attempt number (a duplicate run's result is ignored:
  only the first result of an attempt is merged). After MAX_RESUBMITS the attempt ends
  FAILED, with a log line saying the worker was lost.
- An execution nothing moved for a while is advanced (idempotent; a missing flow ends it
  FAILED with a log line saying so).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from kestra_lite import jobs
from kestra_lite.errors import KestraLiteError
from kestra_lite.model.execution import Execution, TaskRun, log_record
from kestra_lite.model.flow import task_index
from kestra_lite.model.state import State, utcnow
from kestra_lite.services import executions as service
from kestra_lite.services.runtime import Runtime
from kestra_lite.store import executions as execution_store
from kestra_lite.store import logs as log_store

log = logging.getLogger(__name__)
MAX_RESUBMITS = 3
RESUBMIT_MEMORY_SECONDS = 24 * 3600


def watch(runtime: Runtime, now: datetime) -> int:
    """One pass; returns how many jobs it sent or attempts it ended."""
    settle = _after_flush(runtime, now)
    lost_after = timedelta(seconds=runtime.heartbeat_ttl)
    queued = _queued_attempts(runtime)
    acted = 0
    for execution in execution_store.unfinished_executions():
        try:
            acted += _watch_one(runtime, execution, now, settle, lost_after, queued)
        except KestraLiteError as error:    # deleted or changed meanwhile: next pass
            log.warning("watchdog skipped execution=%s: %s", execution.id, error)
    return acted


def _watch_one(runtime: Runtime, execution: Execution, now: datetime, settle: bool | None,
               lost_after: timedelta, queued: set) -> int:
    acted = 0
    if settle is False:
        acted += _recover_attempts(runtime, execution, now, lost_after, queued)
    if settle or _stale(execution, now, 2 * lost_after):
        jobs.enqueue_advance(runtime, execution.tenant, execution.id)
        acted += 1
    return acted


def _after_flush(runtime: Runtime, now: datetime) -> bool | None:
    """True on the first pass after Redis lost its data (advance everything), None until
    the live workers have had time to renew their heartbeats (judge no attempt), else False."""
    epoch = runtime.key("epoch")
    settled_at = now.timestamp() + runtime.heartbeat_ttl
    if runtime.redis.set(epoch, settled_at, nx=True):
        log.warning("Redis holds no engine state (first start or flushed): reconciling every "
                    "unfinished execution from the database")
        return True
    return None if now.timestamp() < float(runtime.redis.get(epoch) or 0) else False


def _queued_attempts(runtime: Runtime) -> set[tuple[str, int]]:
    return {attempt for attempt in map(jobs.attempt_of_job, runtime.queue.get_job_ids())
            if attempt is not None}


def _stale(execution: Execution, now: datetime, after: timedelta) -> bool:
    return not execution.meta.get("wakeAt") and now - execution.state.histories[-1].date > after


def _recover_attempts(runtime: Runtime, execution: Execution, now: datetime,
                      lost_after: timedelta, queued: set) -> int:
    flow = runtime.load_flow(execution.tenant, execution.namespace, execution.flow_id,
                             execution.flow_revision)
    if flow is None:
        return 0            # the advance ends it
    tasks = task_index(flow)
    acted = 0
    for task_run in execution.task_runs:
        task = tasks.get(task_run.task_id)
        if task is not None and task.kind == "runnable" and \
                _lost(runtime, task_run, now, lost_after, queued):
            _recover(runtime, execution, task_run)
            acted += 1
    return acted


def _lost(runtime: Runtime, task_run: TaskRun, now: datetime, lost_after: timedelta,
          queued: set) -> bool:
    """RUNNING in the database for a while, yet neither queued nor held by a worker."""
    if task_run.current is not State.RUNNING or not task_run.attempts:
        return False
    attempt = task_run.attempts[-1]
    number = len(task_run.attempts)
    if attempt.state.current is not State.RUNNING or now - attempt.state.start_date < lost_after:
        return False
    if (task_run.id, number) in queued:
        return False
    return not runtime.has_heartbeat(f"{task_run.id}:{number}")


def _recover(runtime: Runtime, execution: Execution, task_run: TaskRun) -> None:
    number = len(task_run.attempts)
    key = runtime.key("resubmits", f"{task_run.id}:{number}")
    count = runtime.redis.incr(key)
    runtime.redis.expire(key, RESUBMIT_MEMORY_SECONDS)
    if count > MAX_RESUBMITS:
        _give_up(runtime, execution, task_run,
                 f"The worker running this task was lost {count} times (killed, crashed "
                 f"or out of memory); giving up")
        return
    log.warning("resubmitting task_run=%s attempt=%d execution=%s: no worker holds it",
                task_run.id, number, execution.id)
    log_store.append_logs(execution.tenant, [_task_log(
        execution, task_run, "WARN", f"No worker holds this task any more (worker lost); "
                                     f"resubmitted ({count}/{MAX_RESUBMITS})")])
    jobs.enqueue_task(runtime, execution.tenant, execution.id, task_run.id, number,
                      resubmission=count)


def _give_up(runtime: Runtime, execution: Execution, task_run: TaskRun, message: str) -> None:
    log.warning("failing task_run=%s execution=%s: %s", task_run.id, execution.id, message)
    service.record_result(runtime, execution.tenant, execution.id, task_run.id,
                          len(task_run.attempts), State.FAILED, None,
                          logs=[_task_log(execution, task_run, "ERROR", message)])


def _task_log(execution: Execution, task_run: TaskRun, level: str, message: str) -> dict:
    return log_record(execution, level, message, utcnow(), task_run=task_run, thread="watchdog")
