"""`kestra-lite scheduler`: one loop around `tick(now)`.

The tick wakes executions whose `wake_at` date has come (Pause delays and timeouts, retry
dates, scheduled dates, SLA deadlines); every few seconds the watchdog resubmits work that a
dead worker or a flushed Redis lost. A Redis lock with a short TTL makes a second scheduler
a hot standby.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta

from kestra_lite import jobs
from kestra_lite.config import Settings
from kestra_lite.model.flow import task_index
from kestra_lite.model.state import State, utcnow
from kestra_lite.services import runtime as runtimes
from kestra_lite.store import executions as execution_store

log = logging.getLogger(__name__)
TICK_SECONDS = 0.1
LOCK_TTL_MS = 5000
WATCHDOG_SECONDS = 5
STALE_AFTER = timedelta(seconds=30)


def tick(runtime: runtimes.Runtime, now: datetime) -> int:
    """Enqueue an `advance` for every execution due at `now`; returns how many."""
    due = execution_store.due_executions(now, limit=500)
    for tenant, execution_id in due:
        key = runtime.key("woken", execution_id)
        # one enqueue per due date: the advance moves wake_at forward (or clears it)
        if runtime.redis.set(key, 1, nx=True, px=1000):
            jobs.enqueue_advance(runtime, tenant, execution_id)
    return len(due)


def watchdog(runtime: runtimes.Runtime, now: datetime) -> int:
    """Resubmit what a dead worker or a flushed Redis lost: attempts no worker holds any more
    (no heartbeat) and executions nothing moved for a while. Returns how many jobs it sent."""
    sent = 0
    for execution in execution_store.unfinished_executions():
        last_change = execution.state.histories[-1].date
        flow = runtime.load_flow(execution.tenant, execution.namespace, execution.flow_id,
                                 execution.flow_revision)
        if flow is None:
            jobs.enqueue_advance(runtime, execution.tenant, execution.id)
            sent += 1
            continue
        tasks = task_index(flow)
        for task_run in execution.task_runs:
            if _orphaned(runtime, task_run, tasks, now):
                log.warning("resubmitting task run %s attempt %d of execution %s: no worker "
                            "holds it", task_run.id, len(task_run.attempts), execution.id)
                jobs.enqueue_task(runtime, execution.tenant, execution.id, task_run.id,
                                  len(task_run.attempts))
                sent += 1
        if now - last_change > STALE_AFTER and not execution.meta.get("wakeAt"):
            jobs.enqueue_advance(runtime, execution.tenant, execution.id)
            sent += 1
    return sent


def _orphaned(runtime: runtimes.Runtime, task_run, tasks, now: datetime) -> bool:
    task = tasks.get(task_run.task_id)
    if task is None or task.kind != "runnable" or task_run.current is not State.RUNNING:
        return False
    attempt = task_run.attempts[-1] if task_run.attempts else None
    if attempt is None or attempt.state.current is not State.RUNNING:
        return False
    if now - attempt.state.start_date < STALE_AFTER:
        return False
    job_id = jobs.task_job_id(task_run.id, len(task_run.attempts))
    if job_id in runtime.queue.get_job_ids():
        return False
    return not runtime.has_heartbeat(f"{task_run.id}:{len(task_run.attempts)}")


def run_scheduler(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    me = f"{socket.gethostname()}:{os.getpid()}"
    lock = runtime.key("scheduler", "leader")
    leader = False
    last_watchdog = time.monotonic()
    while True:
        if runtime.redis.set(lock, me, nx=True, px=LOCK_TTL_MS) or \
                runtime.redis.get(lock) == me.encode():
            runtime.redis.pexpire(lock, LOCK_TTL_MS)
            if not leader:
                log.info("scheduler %s is the leader", me)
                leader = True
            now = utcnow()
            tick(runtime, now)
            if time.monotonic() - last_watchdog > WATCHDOG_SECONDS:
                last_watchdog = time.monotonic()
                watchdog(runtime, now)
        elif leader:
            log.info("scheduler %s lost the lead", me)
            leader = False
        time.sleep(TICK_SECONDS)
