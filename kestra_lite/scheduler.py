"""`kestra-lite scheduler`: one loop around `tick(now)`.

The tick wakes executions whose `wake_at` date has come (Pause delays and timeouts, retry
dates, scheduled dates, SLA MAX_DURATION deadlines), fires the schedule triggers that are
due, and evaluates Flow trigger events left behind; every heartbeat period the watchdog
recovers work that a dead worker or a flushed Redis lost. A Redis lock with a short TTL makes a second
scheduler a hot standby. A turn that fails (Redis or the database unreachable) is logged
and the loop goes on.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime

import peewee
from redis import RedisError

from kestra_lite import jobs
from kestra_lite.config import Settings
from kestra_lite.errors import NotFound
from kestra_lite.model.state import utcnow
from kestra_lite.services import executions as execution_service
from kestra_lite.services import flow_triggers, schedules
from kestra_lite.services import runtime as runtimes
from kestra_lite.services import triggers as trigger_service
from kestra_lite.services.watchdog import watch as watchdog  # noqa: F401 (the loop's)
from kestra_lite.store import db
from kestra_lite.store import executions as execution_store
from kestra_lite.store import triggers as trigger_store

log = logging.getLogger(__name__)
TICK_SECONDS = 0.1
LOCK_TTL_MS = 5000


def tick(runtime: runtimes.Runtime, now: datetime) -> int:
    """One scheduler turn at `now`: wake the executions that are due, fire the schedules
    that are due, evaluate the trigger events a dead process left behind, drop expired
    precondition windows. Returns the executions woken or created."""
    count = wake_executions(runtime, now)
    count += schedules.fire_due(runtime, now)
    flow_triggers.sweep(runtime, now)
    trigger_store.delete_expired_windows(now)
    return count


def wake_executions(runtime: runtimes.Runtime, now: datetime) -> int:
    """Advance every execution due at `now` (pause delays and timeouts, retry dates, SLA
    deadlines); returns how many.

    The scheduler runs these executor passes itself rather than queueing them: a pass is a
    short database transaction, and an SLA deadline must not wait in the queue behind long
    tasks that keep every worker busy."""
    due = execution_store.due_executions(now, limit=500)
    for tenant, execution_id in due:
        key = runtime.key("woken", execution_id)
        # at most one pass per second per execution: the pass moves wake_at forward or
        # clears it, so a second one is rarely needed
        if runtime.redis.set(key, 1, nx=True, px=1000):
            _advance(runtime, tenant, execution_id, now)
    return len(due)


def _advance(runtime: runtimes.Runtime, tenant: str, execution_id: str,
             now: datetime) -> None:
    try:
        execution_service.advance(runtime, tenant, execution_id, now)
    except NotFound:
        pass                                   # deleted meanwhile
    except (RedisError, peewee.OperationalError, peewee.InterfaceError):
        raise                                  # the loop logs it and tries again
    except Exception:   # noqa: BLE001 - one broken execution must not stop the scheduler
        log.exception("advance failed in the scheduler: execution=%s (queued instead)",
                      execution_id)
        jobs.enqueue_advance(runtime, tenant, execution_id)


def run_scheduler(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    me = f"{socket.gethostname()}:{os.getpid()}"
    state = {"leader": False, "last_watchdog": time.monotonic(), "ticked_at": utcnow()}
    while True:
        pause = TICK_SECONDS
        try:
            _turn(runtime, me, state)
            if state["leader"]:
                pause = _pause(state["ticked_at"])
        except (RedisError, peewee.OperationalError, peewee.InterfaceError) as error:
            # Redis or the database is unreachable: say so, and try again on the next turn
            log.warning("scheduler turn failed: %s", " ".join(str(error).split()))
            db.drop_connection()
            pause = 1.0
        except Exception:   # noqa: BLE001 - a bug in one turn must not stop the scheduling
            log.exception("scheduler turn failed")
            db.drop_connection()
            pause = 1.0
        time.sleep(pause)


def _pause(ticked_at: datetime, now: datetime | None = None) -> float:
    """Seconds until the next date something is due (a schedule, a wake date), at most
    TICK_SECONDS: a schedule firing at 12:00:00.000 is not held back by the tick period.
    The dates after the tick's own `now` count, even those that came while it ran (none
    if it ran at 11:59:59.998 and ended at 12:00:00.003: the 12:00:00 schedules are due
    at once, not a tick period later)."""
    upcoming = [date for date in (trigger_store.next_fire_at(ticked_at),
                                  execution_store.next_wake_at(ticked_at)) if date is not None]
    if not upcoming:
        return TICK_SECONDS
    now = now or utcnow()
    return max(0.0, min((min(upcoming) - now).total_seconds(), TICK_SECONDS))


# Extend the lock only if we still hold it (one atomic step: a lock that expired and was
# taken by the standby is not extended by the old leader).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


def _hold_lead(runtime: runtimes.Runtime, me: str) -> bool:
    lock = runtime.key("scheduler", "leader")
    if runtime.redis.set(lock, me, nx=True, px=LOCK_TTL_MS):
        return True
    return bool(runtime.redis.eval(_RENEW, 1, lock, me, LOCK_TTL_MS))


def _turn(runtime: runtimes.Runtime, me: str, state: dict) -> None:
    """One loop turn: keep (or take) the lead; the leader ticks, and watches every
    heartbeat period. The lock is renewed between the phases of a long turn."""
    if not _hold_lead(runtime, me):
        if state["leader"]:
            log.info("scheduler %s lost the lead", me)
            state["leader"] = False
        return
    if not state["leader"]:
        log.info("scheduler %s is the leader", me)
        state["leader"] = True
        log.info("triggers of %d flows in step", trigger_service.sync_all(runtime))
        if not _hold_lead(runtime, me):
            return
    now = state["ticked_at"] = utcnow()
    tick(runtime, now)
    if time.monotonic() - state["last_watchdog"] > runtime.settings.heartbeat_seconds:
        if not _hold_lead(runtime, me):
            return
        state["last_watchdog"] = time.monotonic()
        watchdog(runtime, now)
