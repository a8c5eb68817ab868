"""End-to-end tests of triggers and SLAs: real `kestra-lite scheduler` and `kestra-lite
worker` processes (and gunicorn for webhooks) on the test's database and Redis, the test
process deploying flows and reading results as a user would.

Time is real here, so the flows use 6-field crons (`withSeconds: true`) and one-second
durations; waits poll every 50 ms with generous timeouts. A process's output is shown when
a wait times out.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rq import Worker

from tests.faults.faults import Processes, wait_until

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 30


@pytest.fixture
def processes(settings, tmp_path):
    """Start kestra-lite processes with `processes.start("worker")`; all are SIGKILLed at
    teardown."""
    running = Processes(settings, tmp_path)
    yield running
    running.stop_all()


def start_workers(runtime, processes: Processes, count: int = 1) -> list:
    """`count` worker processes, returned once RQ lists them (a job enqueued earlier would
    otherwise wait for their imports)."""
    before = Worker.count(connection=runtime.redis, queue=runtime.queue)
    started = [processes.start("worker") for _ in range(count)]
    wait_until(lambda: Worker.count(connection=runtime.redis, queue=runtime.queue)
               >= before + count, START_SECONDS, f"{count} worker(s) to register", processes)
    return started


def leader(runtime) -> str | None:
    """The scheduler holding the leader lock, as "host:pid" (None: nobody)."""
    value = runtime.redis.get(runtime.key("scheduler", "leader"))
    return value.decode() if value else None


def start_scheduler(runtime, processes: Processes):
    """A scheduler process, returned once it holds the leader lock (its first tick ran its
    trigger sync, so dates fire from now on without a start-up delay)."""
    process = processes.start("scheduler")
    wait_until(lambda: leader(runtime) == f"{socket.gethostname()}:{process.pid}",
               START_SECONDS, "the scheduler to take the lead", processes)
    return process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def web(settings, db, processes, tmp_path) -> str:
    """gunicorn serving the app on a free port (stopped with the other processes); yields
    its base URL once /health answers."""
    port = _free_port()
    log_file = tmp_path / "web.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "kestra_lite.web:create_app()"],
        env=settings.child_env(), cwd=ROOT, stdout=log_file.open("w"),
        stderr=subprocess.STDOUT)
    server.log_file = log_file
    processes.started.append(server)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _healthy(base) or server.poll() is not None, START_SECONDS,
               "the web server to answer /health", processes)
    if server.poll() is not None:
        raise AssertionError("the web server exited\n" + processes.output())
    return base


def _healthy(base: str) -> bool:
    try:
        return requests.get(base + "/health", timeout=1).status_code == 200
    except requests.RequestException:
        time.sleep(0.05)
        return False
