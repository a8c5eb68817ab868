"""A runtime (database, Redis queue, storage) per script-task test, as in tests/engine;
`make_runtime(**changes)` builds one with changed settings (secrets, docker fallback)."""
import dataclasses

import pytest

from kestra_lite.services import runtime as runtimes


@pytest.fixture
def make_runtime(settings, db):
    made = []

    def make(**changes):
        runtime = runtimes.Runtime(dataclasses.replace(settings, **changes), migrate=True)
        runtimes.install(runtime)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.queue.empty()
    runtimes.install(None)


@pytest.fixture
def runtime(make_runtime):
    return make_runtime()
