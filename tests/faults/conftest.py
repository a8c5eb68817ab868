"""Fault tests: real worker and scheduler processes (`kestra-lite worker|scheduler`), the
machine's Redis and database, and a fault injected in the middle of an execution.

Heartbeats are shortened (0.5 s, so a worker is taken for dead after 1.5 s) to keep the
tests short; everything else runs as in production."""
from __future__ import annotations

import dataclasses

import pytest

from tests.faults.faults import Processes


HEARTBEAT_SECONDS = 0.5


@pytest.fixture
def fault_settings(settings):
    return dataclasses.replace(settings, heartbeat_seconds=HEARTBEAT_SECONDS)


@pytest.fixture
def runtime(make_runtime):
    return make_runtime(heartbeat_seconds=HEARTBEAT_SECONDS)


@pytest.fixture
def processes(fault_settings, tmp_path):
    running = Processes(fault_settings, tmp_path)
    yield running
    running.stop_all()


