"""`kestra-lite worker`: an RQ worker that runs core tasks in-process (no fork per job)."""
from __future__ import annotations

import logging

from rq import SimpleWorker

from kestra_lite.config import Settings
from kestra_lite.services import runtime as runtimes
from kestra_lite.tasks import registry


def build_worker(runtime: runtimes.Runtime) -> SimpleWorker:
    registry.preload()
    return SimpleWorker([runtime.queue], connection=runtime.redis)


def run_worker(settings: Settings, burst: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    build_worker(runtime).work(burst=burst, logging_level="WARNING")
