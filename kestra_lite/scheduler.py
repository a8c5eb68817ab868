"""`kestra-lite scheduler`: one loop around `tick(now)`.

In this issue the tick wakes executions whose `wake_at` date has come (Pause delays and
timeouts, retry dates, scheduled dates, SLA deadlines). A Redis lock with a short TTL makes
a second scheduler a hot standby.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime

from kestra_lite import jobs
from kestra_lite.config import Settings
from kestra_lite.model.state import utcnow
from kestra_lite.services import runtime as runtimes
from kestra_lite.store import executions as execution_store

log = logging.getLogger(__name__)
TICK_SECONDS = 0.1
LOCK_TTL_MS = 5000


def tick(runtime: runtimes.Runtime, now: datetime) -> int:
    """Enqueue an `advance` for every execution due at `now`; returns how many."""
    due = execution_store.due_executions(now, limit=500)
    for tenant, execution_id in due:
        key = runtime.key("woken", execution_id)
        # one enqueue per due date: the advance moves wake_at forward (or clears it)
        if runtime.redis.set(key, 1, nx=True, px=1000):
            jobs.enqueue_advance(runtime, tenant, execution_id)
    return len(due)


def run_scheduler(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    me = f"{socket.gethostname()}:{os.getpid()}"
    lock = runtime.key("scheduler", "leader")
    leader = False
    while True:
        if runtime.redis.set(lock, me, nx=True, px=LOCK_TTL_MS) or \
                runtime.redis.get(lock) == me.encode():
            runtime.redis.pexpire(lock, LOCK_TTL_MS)
            if not leader:
                log.info("scheduler %s is the leader", me)
                leader = True
            tick(runtime, utcnow())
        elif leader:
            log.info("scheduler %s lost the lead", me)
            leader = False
        time.sleep(TICK_SECONDS)
