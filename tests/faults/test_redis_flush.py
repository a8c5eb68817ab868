"""Redis flushed while executions run: queued jobs, heartbeats and locks are gone; the
watchdog rebuilds what the database says is unfinished and every execution still ends."""
from __future__ import annotations

from kestra_lite.model.state import State

from tests.faults.faults import (create, deploy_sleeper, ended, running_attempt,
                                 wait_until)


def test_executions_survive_a_redis_flush(runtime, processes):
    flow = deploy_sleeper(runtime, seconds=1)
    processes.start("worker")
    processes.start("scheduler")
    executions = [create(runtime, flow) for _ in range(4)]     # one runs, three wait in Redis
    wait_until(lambda: any(running_attempt(runtime, e.id, "sleep") for e in executions), 30,
               "a worker to hold a sleep task", processes)

    runtime.redis.flushdb()

    finals = [wait_until(lambda e=e: ended(e.id), 60, f"execution {e.id} to end", processes)
              for e in executions]
    assert [f.current for f in finals] == [State.SUCCESS] * 4, processes.output()
    for final in finals:
        assert [len(t.attempts) for t in final.task_runs] == [1, 1]
