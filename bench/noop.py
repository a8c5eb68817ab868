"""The RQ floor of bench/engine.py: a no-op job and a bare RQ worker to run it.

    python bench/noop.py REDIS_URL QUEUE

starts a SimpleWorker (no fork per job, WARNING logging, no job timeout: the same setup as
`kestra-lite worker`) on QUEUE; the bench enqueues `noop.noop` there (the worker imports this
file as the module `noop`: bench/ is on its sys.path).
"""
from __future__ import annotations

import sys


def noop() -> None:
    return None


def serve(redis_url: str, queue_name: str) -> None:
    from redis import Redis
    from rq import Queue, SimpleWorker

    redis = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=redis, default_timeout=-1)
    SimpleWorker([queue], connection=redis).work(logging_level="WARNING")


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
