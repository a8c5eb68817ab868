"""A runtime (database, Redis queue, storage) per engine test."""
import pytest

from kestra_lite.services import runtime as runtimes


@pytest.fixture
def runtime(settings, db):
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    yield runtime
    runtime.queue.empty()
    runtimes.install(None)
