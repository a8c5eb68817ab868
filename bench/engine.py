"""Engine benchmark: one real worker process, the machine's Redis, SQLite and PostgreSQL.

    python bench/engine.py [--quick]

Prints one JSON line per figure: {"metric", "db", "value", "unit"}. Figures so far:
  latency_1task_p50_ms / latency_1task_p95_ms  one-Log-task flow, created -> SUCCESS
  log_task_overhead_ms                          40 sequential Log tasks: ms per task
The other figures of issue 3 (shell tasks, throughput, worker RSS, RQ floor) are not
measured yet.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kestra_lite.config import Settings  # noqa: E402
from kestra_lite.services import executions as service  # noqa: E402
from kestra_lite.services import flows as flow_service  # noqa: E402
from kestra_lite.services import runtime as runtimes  # noqa: E402
from kestra_lite.store import executions as store  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/kestra_lite_bench"
ONE_TASK = """id: one
namespace: bench
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ flow.id }}"
"""


def forty_tasks() -> str:
    tasks = "".join(f"""  - id: log{i}
    type: io.kestra.plugin.core.log.Log
    message: "line {i} of {{{{ flow.id }}}}"
""" for i in range(40))
    return "id: forty\nnamespace: bench\ntasks:\n" + tasks


def emit(metric: str, db: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "db": db, "value": round(value, 2), "unit": unit}),
          flush=True)


def reset_postgres() -> None:
    import psycopg2
    connection = psycopg2.connect(POSTGRES_ADMIN)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS kestra_lite_bench")
        cursor.execute("CREATE DATABASE kestra_lite_bench")
    connection.close()


def run_to_end(runtime, flow) -> float:
    """Seconds from creation to the terminal state, as recorded in the state history."""
    execution = service.create_execution(runtime, flow)
    while True:
        current = store.load_execution("main", execution.id)
        if current.current.is_terminated:
            assert current.current.value == "SUCCESS", current.current
            return (current.state.end_date - current.state.start_date).total_seconds()
        time.sleep(0.002)


def bench(db: str, database_url: str, scratch: Path, quick: bool) -> None:
    settings = Settings.from_env({"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
                                  "KESTRA_LITE_QUEUE": f"bench-{os.getpid()}",
                                  "KESTRA_LITE_STORAGE_DIR": str(scratch / "storage")})
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    runtime.redis.flushdb()
    worker = subprocess.Popen([sys.executable, "-m", "kestra_lite.cli", "worker"],
                              env=settings.child_env(), cwd=ROOT)
    try:
        one = flow_service.deploy(runtime, "main", ONE_TASK)
        forty = flow_service.deploy(runtime, "main", forty_tasks())
        run_to_end(runtime, one)                      # warm-up (worker start, imports)
        latencies = sorted(run_to_end(runtime, one) * 1000 for _ in range(50 if quick else 200))
        emit("latency_1task_p50_ms", db, statistics.median(latencies), "ms")
        emit("latency_1task_p95_ms", db, latencies[int(len(latencies) * 0.95) - 1], "ms")
        per_task = [run_to_end(runtime, forty) * 1000 / 40 for _ in range(2 if quick else 5)]
        emit("log_task_overhead_ms", db, statistics.median(per_task), "ms")
    finally:
        worker.terminate()
        worker.wait(10)
        runtime.queue.empty()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs (about a minute)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kestra-lite-bench-") as scratch:
        bench("sqlite", f"sqlite:///{scratch}/bench.db", Path(scratch), args.quick)
        reset_postgres()
        bench("postgresql", POSTGRES_URL, Path(scratch), args.quick)


if __name__ == "__main__":
    main()
