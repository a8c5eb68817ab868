"""Engine benchmark: real worker processes, the machine's Redis, SQLite and PostgreSQL.

    python bench/engine.py [--quick] [--rate 100]

Runs every figure on SQLite (a file in a temp dir), then on a fresh PostgreSQL database
(kestra_lite_bench on 127.0.0.1:5432), with Redis at 127.0.0.1:6379 db 14 (BENCH_REDIS_URL;
the db is flushed). Workers are `python -m kestra_lite.cli worker` processes; the bench
process creates the executions (`services.executions.create_execution`, as the API does) and
reads the results from the database. Latencies come from the state history (execution
start_date -> end_date), not from the bench's polling. `--quick` takes about a minute.

Prints one JSON line per figure, {"metric", "db", "value", "unit"} plus extra keys (runs,
tasks...). A figure that cannot be produced is skipped with the reason on stderr.

  latency_1task_p50_ms / _p95_ms  one-Log-task flow, created -> SUCCESS, one at a time
                                  (200 runs; quick 50)
  log_task_overhead_ms            a flow of 40 sequential Log tasks: ms per task (median of
                                  5 runs; quick 2)
  shell_task_overhead_ms          40 sequential shell.Commands tasks (`echo`, Process task
                                  runner): ms per task (3 runs; quick 2); only printed when
                                  the executions end SUCCESS
  throughput_1w_eps / _2w_eps     a 2-Log-task flow injected at a fixed rate (--rate, default
  throughput_p95_ms               100/s: the target) for 20 s (quick 4 s), with 1
                                  then 2 worker processes. eps = SUCCESS executions / wall time
                                  from the first creation to the last end date. The injector
                                  is a loop in the bench process on a fixed schedule (i/rate);
                                  if creating falls behind it creates back to back, and the
                                  line's "offered_eps" says the rate actually injected. The
                                  p95 (and the extra p50_ms/p95_ms keys) is created -> end of
                                  every execution of the run: when the workers are slower than
                                  the injection rate, the backlog grows during the run and
                                  the p95 includes that queueing (it then depends on the run
                                  length); when they keep up, eps ~= offered_eps and the p95
                                  is the latency under that load.
  worker_rss_idle_mb              VmRSS of the (single) worker, idle after a warm-up
  worker_rss_growth_mb            its VmRSS growth after 10,000 Log tasks (250 executions of a
                                  40-Log flow, created at once; quick 1,000): "tasks" says how
                                  many
  floor_rq_roundtrip_ms           a bare RQ round trip: enqueue a no-op job (bench/noop.py) on
                                  a SimpleWorker process on the same Redis, block on its
                                  result (XREAD); median of 1,000 (quick 200)
  ratio_log_task_to_floor         log_task_overhead_ms / floor_rq_roundtrip_ms

Per database, on one worker (the 2-worker throughput run adds a second one), the run order
is: warm-up (3 runs of the 1-, 2- and 40-Log flows), RSS, latency, Log overhead, shell
overhead, RQ floor, throughput 1w, throughput 2w. Exit status 1 when a database's run stopped
(worker did not start, PostgreSQL unreachable...).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from redis import Redis  # noqa: E402
from rq import Queue, Worker  # noqa: E402
from rq.results import Result  # noqa: E402

from kestra_lite.config import Settings  # noqa: E402
from kestra_lite.model.state import TERMINATED  # noqa: E402
from kestra_lite.services import executions as service  # noqa: E402
from kestra_lite.services import flows as flow_service  # noqa: E402
from kestra_lite.services import runtime as runtimes  # noqa: E402
from kestra_lite.store import executions as store  # noqa: E402
from kestra_lite.store import logs as log_store  # noqa: E402
from databases import POSTGRES_URL, REDIS_URL, reset_postgres  # noqa: E402
from report import emit, percentile  # noqa: E402

TENANT = "main"
NAMESPACE = "bench"


@dataclass(frozen=True)
class Sizes:
    latency_runs: int
    log_runs: int
    shell_runs: int
    floor_jobs: int
    rss_tasks: int
    throughput_seconds: float


FULL = Sizes(latency_runs=200, log_runs=5, shell_runs=3, floor_jobs=1000, rss_tasks=10_000,
             throughput_seconds=20)
QUICK = Sizes(latency_runs=50, log_runs=2, shell_runs=2, floor_jobs=200, rss_tasks=1_000,
              throughput_seconds=4)


class Skip(Exception):
    """A figure that cannot be produced; the message says why (printed to stderr)."""


# -- flows ------------------------------------------------------------------------------
def log_flow(flow_id: str, count: int) -> str:
    tasks = "".join(f"""  - id: log{i}
    type: io.kestra.plugin.core.log.Log
    message: "line {i} of {{{{ flow.id }}}}"
""" for i in range(count))
    return f"id: {flow_id}\nnamespace: {NAMESPACE}\ntasks:\n{tasks}"


def shell_flow(flow_id: str, count: int) -> str:
    tasks = "".join(f"""  - id: sh{i}
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - "echo line {i}"
""" for i in range(count))
    return f"id: {flow_id}\nnamespace: {NAMESPACE}\ntasks:\n{tasks}"


# -- helpers ----------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise Skip(f"no VmRSS for pid {pid}")


def first_error(execution_id: str) -> str:
    logs = log_store.execution_logs(TENANT, execution_id, min_level="ERROR")
    return logs[0]["message"][:300] if logs else "no ERROR log"


def run_to_end(runtime, flow, timeout: float = 60.0) -> float:
    """Seconds from creation to the terminal state, as recorded in the state history.
    Raises Skip when the execution does not end SUCCESS."""
    execution = service.create_execution(runtime, flow)
    deadline = time.monotonic() + timeout
    while True:
        current = store.load_execution(TENANT, execution.id)
        if current.current.is_terminated:
            if current.current.value != "SUCCESS":
                raise Skip(f"flow {flow.id} ended {current.current.value}: "
                           f"{first_error(execution.id)}")
            return (current.state.end_date - current.state.start_date).total_seconds()
        if time.monotonic() > deadline:
            raise Skip(f"flow {flow.id} still {current.current.value} after {timeout:.0f} s")
        time.sleep(0.002)


def wait_terminal(flow, expected: int, timeout: float) -> None:
    """Wait until `expected` executions of `flow` are terminated (one COUNT query per poll)."""
    deadline = time.monotonic() + timeout
    while True:
        done = store.count_executions(TENANT, flow.namespace, flow.id, TERMINATED)
        if done >= expected:
            return
        if time.monotonic() > deadline:
            raise Skip(f"only {done}/{expected} executions of {flow.id} terminated "
                       f"after {timeout:.0f} s")
        time.sleep(0.05)


def finished(flow, limit: int) -> list:
    """The executions of `flow` (without task runs): their state history has the dates."""
    return store.search_executions(TENANT, flow.namespace, flow.id, limit=limit,
                                   with_task_runs=False)


@contextmanager
def workers(settings: Settings, runtime, count: int):
    """`count` more `kestra-lite worker` processes, registered with RQ before yielding;
    stopped (SIGTERM: warm shutdown) on exit."""
    before = Worker.count(connection=runtime.redis, queue=runtime.queue)
    processes = [subprocess.Popen([sys.executable, "-m", "kestra_lite.cli", "worker"],
                                  env=settings.child_env(), cwd=ROOT) for _ in range(count)]
    try:
        deadline = time.monotonic() + 30
        while Worker.count(connection=runtime.redis, queue=runtime.queue) < before + count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError("worker processes did not start")
            time.sleep(0.05)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (RQ's warm shutdown), SIGKILL if still there after 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def figure(name: str, db: str, function, *args):
    """Run one figure; on failure say why on stderr and go on with the others."""
    try:
        return function(*args)
    except Skip as exc:
        print(f"skipped {name} ({db}): {exc}", file=sys.stderr, flush=True)
    except Exception:
        print(f"skipped {name} ({db}): {traceback.format_exc()}", file=sys.stderr, flush=True)
    return None


# -- figures ----------------------------------------------------------------------------
def warm_up(runtime, flows: dict) -> None:
    """Worker imports, flow parsing, connections: a few runs of each Log flow."""
    for _ in range(3):
        for name in ("one", "two", "forty"):
            run_to_end(runtime, flows[name])


def worker_rss(runtime, db: str, worker: subprocess.Popen, tasks: int) -> None:
    time.sleep(0.5)
    idle = rss_mb(worker.pid)
    emit("worker_rss_idle_mb", db, idle, "MB")
    flow = flow_service.deploy(runtime, TENANT, log_flow("rss", 40))
    executions = tasks // 40
    for _ in range(executions):
        service.create_execution(runtime, flow)
    wait_terminal(flow, executions, timeout=60 + tasks * 0.05)
    failed = sum(e.current.value != "SUCCESS" for e in finished(flow, executions))
    if failed:
        raise Skip(f"{failed}/{executions} executions of the RSS flow did not end SUCCESS")
    time.sleep(0.5)
    emit("worker_rss_growth_mb", db, rss_mb(worker.pid) - idle, "MB", tasks=executions * 40)


def latency_1task(runtime, db: str, flow, runs: int) -> None:
    latencies = [run_to_end(runtime, flow) * 1000 for _ in range(runs)]
    emit("latency_1task_p50_ms", db, statistics.median(latencies), "ms", runs=runs)
    emit("latency_1task_p95_ms", db, percentile(latencies, 0.95), "ms", runs=runs)


def log_task_overhead(runtime, db: str, flow, runs: int) -> float:
    per_task = statistics.median(run_to_end(runtime, flow) * 1000 / 40 for _ in range(runs))
    emit("log_task_overhead_ms", db, per_task, "ms", runs=runs, tasks=40)
    return per_task


def shell_task_overhead(runtime, db: str, runs: int) -> None:
    try:
        flow = flow_service.deploy(runtime, TENANT, shell_flow("shell", 40))
    except Exception as exc:
        raise Skip(f"the shell flow does not deploy: {exc}") from None
    per_task = statistics.median(run_to_end(runtime, flow) * 1000 / 40 for _ in range(runs))
    emit("shell_task_overhead_ms", db, per_task, "ms", runs=runs, tasks=40)


def rq_floor(settings: Settings, db: str, jobs: int) -> float:
    """Median enqueue -> result of a no-op job on a bare SimpleWorker process."""
    queue_name = f"{settings.queue}-floor"
    env = settings.child_env(PYTHONPATH=os.pathsep.join(
        filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen([sys.executable, str(BENCH / "noop.py"), settings.redis_url,
                                queue_name], env=env, cwd=ROOT)
    redis = Redis.from_url(settings.redis_url)
    queue = Queue(queue_name, connection=redis, default_timeout=-1)

    def round_trip() -> float:
        start = time.perf_counter()
        job = queue.enqueue("noop.noop")
        result = job.latest_result(timeout=30)
        elapsed = (time.perf_counter() - start) * 1000
        if result is None or result.type != Result.Type.SUCCESSFUL:
            raise Skip(f"no-op job {job.id}: {result and result.type}, "
                       f"{result and result.exc_string}")
        return elapsed

    try:
        for _ in range(20):       # warm-up (the first one waits for the worker to start)
            round_trip()
        median = statistics.median(round_trip() for _ in range(jobs))
    finally:
        stop(process)
        queue.empty()
    emit("floor_rq_roundtrip_ms", db, median, "ms", runs=jobs)
    return median


def inject(runtime, flow, rate: float, seconds: float) -> tuple[list, float]:
    """Create `rate * seconds` executions on a fixed schedule (back to back when creating
    falls behind it), wait until all are terminated; (the executions, injection seconds)."""
    count = max(1, round(rate * seconds))
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        service.create_execution(runtime, flow)
    injected = time.perf_counter() - start
    wait_terminal(flow, count, timeout=60 + count / 10)
    return finished(flow, count), injected


def throughput(settings: Settings, runtime, db: str, flow, worker_count: int, rate: float,
               seconds: float) -> None:
    """Inject `flow` at `rate` per second for `seconds`, with `worker_count` workers (the one
    already running and worker_count - 1 more); completed per second of wall time."""
    with workers(settings, runtime, worker_count - 1):
        executions, injected = inject(runtime, flow, rate, seconds)
    count = len(executions)
    succeeded = [e for e in executions if e.current.value == "SUCCESS"]
    if not succeeded:
        raise Skip(f"none of the {count} executions of {flow.id} ended SUCCESS")
    wall = (max(e.state.end_date for e in executions)
            - min(e.state.start_date for e in executions)).total_seconds()
    latencies = [(e.state.end_date - e.state.start_date).total_seconds() * 1000
                 for e in executions]
    p95 = percentile(latencies, 0.95)
    offered = round(count / injected, 1)
    emit(f"throughput_{worker_count}w_eps", db, len(succeeded) / wall, "executions/s",
         runs=count, failed=count - len(succeeded), offered_eps=offered, wall_s=round(wall, 2),
         p50_ms=round(statistics.median(latencies), 1), p95_ms=round(p95, 1))
    if worker_count == 2:
        emit("throughput_p95_ms", db, p95, "ms", runs=count, offered_eps=offered)


# -- main -------------------------------------------------------------------------------
def bench(db: str, database_url: str, scratch: Path, sizes: Sizes, rate: float) -> None:
    settings = Settings.from_env({"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
                                  "KESTRA_LITE_QUEUE": f"bench-{os.getpid()}",
                                  "KESTRA_LITE_STORAGE_DIR": str(scratch / "storage")})
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    runtime.redis.flushdb()
    flows = {name: flow_service.deploy(runtime, TENANT, log_flow(name, count))
             for name, count in (("one", 1), ("two", 2), ("forty", 40),
                                 ("throughput1w", 2), ("throughput2w", 2))}
    try:
        with workers(settings, runtime, 1) as (first,):
            warm_up(runtime, flows)
            figure("worker_rss", db, worker_rss, runtime, db, first, sizes.rss_tasks)
            figure("latency_1task", db, latency_1task, runtime, db, flows["one"],
                   sizes.latency_runs)
            log = figure("log_task_overhead", db, log_task_overhead, runtime, db,
                         flows["forty"], sizes.log_runs)
            figure("shell_task_overhead", db, shell_task_overhead, runtime, db,
                   sizes.shell_runs)
            floor = figure("floor_rq_roundtrip", db, rq_floor, settings, db, sizes.floor_jobs)
            if log is not None and floor is not None:
                emit("ratio_log_task_to_floor", db, log / floor, "x")
            for count in (1, 2):
                figure(f"throughput_{count}w", db, throughput, settings, runtime, db,
                       flows[f"throughput{count}w"], count, rate, sizes.throughput_seconds)
    finally:
        runtime.queue.empty()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs (about a minute)")
    parser.add_argument("--rate", type=float, default=100.0,
                        help="throughput injection rate, executions/s (default 100)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    failed = False
    with tempfile.TemporaryDirectory(prefix="kestra-lite-bench-") as scratch:
        for db in ("sqlite", "postgresql"):
            try:
                if db == "sqlite":
                    url = f"sqlite:///{scratch}/bench.db"
                else:
                    reset_postgres()
                    url = POSTGRES_URL
                bench(db, url, Path(scratch) / db, sizes, args.rate)
            except Exception:
                failed = True
                print(f"bench on {db} stopped: {traceback.format_exc()}", file=sys.stderr,
                      flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
