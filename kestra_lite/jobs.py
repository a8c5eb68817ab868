"""RQ job functions: ids in, services called. Every job is idempotent (running it twice
changes nothing): stale task jobs are ignored, `advance` re-derives everything from the
database."""
from __future__ import annotations

from kestra_lite.services import executions as service
from kestra_lite.services import runtime as runtimes
from kestra_lite.services import task_runner

RESULT_TTL = 0           # results are in the database, not in Redis
FAILURE_TTL = 24 * 3600


def advance(tenant: str, execution_id: str) -> None:
    service.advance(runtimes.current(), tenant, execution_id)


def run_task(tenant: str, execution_id: str, task_run_id: str, attempt: int) -> None:
    task_runner.run_task(runtimes.current(), tenant, execution_id, task_run_id, attempt)


def enqueue_advance(runtime, tenant: str, execution_id: str) -> None:
    runtime.queue.enqueue_call(advance, args=(tenant, execution_id), result_ttl=RESULT_TTL,
                               failure_ttl=FAILURE_TTL, timeout=-1)


def enqueue_task(runtime, tenant: str, execution_id: str, task_run_id: str, attempt: int) -> None:
    runtime.queue.enqueue_call(run_task, args=(tenant, execution_id, task_run_id, attempt),
                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, timeout=-1,
                               job_id=task_job_id(task_run_id, attempt))


def task_job_id(task_run_id: str, attempt: int) -> str:
    return f"task-{task_run_id}-{attempt}"
