"""The database unreachable for a few seconds while a task runs: the worker keeps the
result and retries until the database answers again; nothing is lost, nothing runs twice.

PostgreSQL: the worker and the scheduler reach it through a TCP relay that the test cuts
(open connections dropped, new ones refused). SQLite: the test holds the write lock longer
than the busy timeout, so the worker's writes fail with "database is locked"."""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from kestra_lite.model.state import State

from tests.faults.faults import (TcpProxy, create, deploy_sleeper, ended, running_attempt,
                                 wait_until)

SQLITE_BUSY_TIMEOUT = 5     # seconds (store/db.py SQLITE_PRAGMAS)


def test_a_database_outage_during_a_task_loses_nothing(runtime, processes, fault_settings):
    flow = deploy_sleeper(runtime, seconds=1)
    with database_outage(fault_settings) as (env, cut):
        processes.start("worker", **env)
        processes.start("scheduler", **env)
        execution = create(runtime, flow)
        wait_until(lambda: running_attempt(runtime, execution.id, "sleep"), 30,
                   "the worker to hold the sleep task", processes)
        cut()

    final = wait_until(lambda: ended(execution.id), 60, "the execution to end", processes)
    assert final.current is State.SUCCESS, processes.output()
    assert [len(t.attempts) for t in final.task_runs] == [1, 1]
    assert "retrying" in processes.output()


@contextmanager
def database_outage(settings):
    """Yields (environment for the processes, cut); the outage lasts from `cut()` to the
    end of the block plus a few seconds (more than the task's remaining second)."""
    if settings.is_sqlite:
        path = settings.database_url[len("sqlite:///"):]
        locker = sqlite3.connect(path, isolation_level=None)
        yield {}, lambda: locker.execute("BEGIN EXCLUSIVE")
        time.sleep(SQLITE_BUSY_TIMEOUT + 2)     # the worker's write gives up once, at least
        locker.execute("ROLLBACK")
        locker.close()
        return
    parts = urlsplit(settings.database_url)
    proxy = TcpProxy(parts.hostname, parts.port or 5432)
    netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port}" if parts.port
                                  else parts.hostname, f"127.0.0.1:{proxy.port}")
    env = {"DATABASE_URL": urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))}
    yield env, proxy.cut
    time.sleep(4)
    proxy.restore()
