"""RQ job functions: ids in, services called. Every job is idempotent (running it twice
changes nothing): stale task jobs are ignored, `advance` re-derives everything from the
database. Both ride out a short database outage (`db.retrying`) instead of failing."""
from __future__ import annotations

import logging
import re

from kestra_lite.errors import NotFound
from kestra_lite.services import executions as service
from kestra_lite.services import runtime as runtimes
from kestra_lite.services import task_runner
from kestra_lite.store import db

log = logging.getLogger(__name__)
RESULT_TTL = 0           # results are in the database, not in Redis
FAILURE_TTL = 24 * 3600
_TASK_JOB = re.compile(r"^task-(?P<task_run>[^-]+)-(?P<attempt>\d+)(?:-r\d+)?$")


def advance(tenant: str, execution_id: str) -> None:
    runtime = runtimes.current()
    try:
        db.retrying(lambda: service.advance(runtime, tenant, execution_id),
                    what=f"advance of execution {execution_id}")
    except NotFound:
        log.info("advance skipped: execution=%s was deleted", execution_id)


def run_task(tenant: str, execution_id: str, task_run_id: str, attempt: int) -> None:
    try:
        task_runner.run_task(runtimes.current(), tenant, execution_id, task_run_id, attempt)
    except NotFound:
        log.info("task skipped: execution=%s was deleted", execution_id)


def enqueue_advance(runtime, tenant: str, execution_id: str) -> None:
    runtime.queue.enqueue_call(advance, args=(tenant, execution_id), result_ttl=RESULT_TTL,
                               failure_ttl=FAILURE_TTL, timeout=-1)


def enqueue_task(runtime, tenant: str, execution_id: str, task_run_id: str, attempt: int,
                 resubmission: int = 0) -> None:
    """A resubmitted attempt gets a job id of its own, so RQ's cleanup of the lost job
    (moved to the failed registry when its worker died) cannot touch the new one."""
    runtime.queue.enqueue_call(run_task, args=(tenant, execution_id, task_run_id, attempt),
                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, timeout=-1,
                               job_id=task_job_id(task_run_id, attempt, resubmission))


def task_job_id(task_run_id: str, attempt: int, resubmission: int = 0) -> str:
    suffix = f"-r{resubmission}" if resubmission else ""
    return f"task-{task_run_id}-{attempt}{suffix}"


def attempt_of_job(job_id: str) -> tuple[str, int] | None:
    """(task run id, attempt number) of a task job id, None for other jobs."""
    match = _TASK_JOB.match(job_id)
    return (match["task_run"], int(match["attempt"])) if match else None
