"""Two real `kestra-lite scheduler` processes: one leads (the Redis lock), the other stands
by; when the leader is SIGKILLed the standby takes over once the lock expires (LOCK_TTL_MS)
and the schedule goes on without firing a date twice or losing one (the dates missed during
the handover are fired: recoverMissedSchedules defaults to ALL)."""
from __future__ import annotations

import signal
import socket
import textwrap
import time
from datetime import timedelta

from kestra_lite.model.state import State, parse_iso
from kestra_lite.scheduler import LOCK_TTL_MS
from kestra_lite.services import flows as flow_service
from kestra_lite.store import executions as execution_store

from tests.e2e.conftest import leader, start_workers
from tests.faults.faults import wait_until

TENANT = "main"
NS = "company.team"
MAX_TAKEOVER_SECONDS = 8
EVERY_SECOND = """
    id: every-second
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "{{ trigger.date }}"
    triggers:
      - id: tick
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "* * * * * *"
        withSeconds: true
"""


def fired() -> list:
    """(trigger date, execution) of every execution the schedule created, oldest first."""
    found = execution_store.search_executions(TENANT, NS, "every-second", limit=1000,
                                              with_task_runs=False, oldest_first=True)
    return [(parse_iso(e.trigger["variables"]["date"]), e) for e in found]


def name(process) -> str:
    return f"{socket.gethostname()}:{process.pid}"


def test_the_standby_scheduler_takes_over_a_killed_leader_without_duplicate_or_lost_dates(
        runtime, processes):
    start_workers(runtime, processes)
    schedulers = {name(p): p for p in (processes.start("scheduler"),
                                       processes.start("scheduler"))}
    first = wait_until(lambda: leader(runtime), 30, "a scheduler to take the lead", processes)
    assert first in schedulers
    flow_service.deploy(runtime, TENANT, textwrap.dedent(EVERY_SECOND))
    wait_until(lambda: len(fired()) >= 3, 30, "3 dates fired by the leader", processes)
    assert leader(runtime) == first          # the standby never took the lock meanwhile

    schedulers[first].send_signal(signal.SIGKILL)
    schedulers[first].wait(10)
    killed_at = time.monotonic()
    [standby] = set(schedulers) - {first}
    wait_until(lambda: leader(runtime) == standby, 30, "the standby to take the lead",
               processes)
    takeover = time.monotonic() - killed_at
    count_at_takeover = len(fired())
    wait_until(lambda: len(fired()) >= count_at_takeover + 3, 30,
               "the new leader to fire dates", processes)

    assert LOCK_TTL_MS / 1000 - 1 < takeover < MAX_TAKEOVER_SECONDS, takeover
    runs = fired()
    dates = sorted(date for date, _ in runs)
    assert len(set(dates)) == len(dates), "a date fired twice"
    gaps = [(a, b) for a, b in zip(dates, dates[1:]) if b - a != timedelta(seconds=1)]
    assert gaps == [], f"dates missing between {gaps}"
    # the dates of the handover were fired late, by the new leader catching up
    late = [date for date, execution in runs if execution.state.start_date - date
            > timedelta(seconds=LOCK_TTL_MS / 2000)]
    assert len(late) >= 2, runs
    wait_until(lambda: all(e.current is State.SUCCESS for date, e in fired()
                           if date <= dates[-1]), 30, "every fired date to succeed", processes)
