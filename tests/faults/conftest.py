"""Fault tests: real worker and scheduler processes (`kestra-lite worker|scheduler`), the
machine's Redis and database, and a fault injected in the middle of an execution.

Heartbeats are shortened (0.5 s, so a worker is taken for dead after 1.5 s) to keep the
tests short; everything else runs as in production."""
from __future__ import annotations

import dataclasses

import pytest

from kestra_lite.services import runtime as runtimes

from tests.faults.faults import Processes


@pytest.fixture
def fault_settings(settings):
    return dataclasses.replace(settings, heartbeat_seconds=0.5)


@pytest.fixture
def runtime(fault_settings, db):
    runtime = runtimes.Runtime(fault_settings, migrate=True)
    runtimes.install(runtime)
    yield runtime
    runtime.queue.empty()
    runtimes.install(None)


@pytest.fixture
def processes(fault_settings, tmp_path):
    running = Processes(fault_settings, tmp_path)
    yield running
    running.stop_all()


