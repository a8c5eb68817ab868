"""Scheduler benchmark: a real `kestra-lite scheduler` and 2 worker processes, the machine's
Redis, SQLite then PostgreSQL.

    python bench/scheduler.py [--quick]

Like bench/engine.py: SQLite (a file in a temp dir), then a fresh PostgreSQL database
(kestra_lite_bench on 127.0.0.1:5432), Redis at 127.0.0.1:6379 db 14 (BENCH_REDIS_URL; the
db is flushed). Defined before the processes start, and firing for the whole run:

- 1,000 Schedule triggers, one per flow `bench.schedules.s0000`..`s0999` (a Log task each),
  cron "S * * * * *" with `withSeconds: true` and S = i % 60: about 17 fire every second;
- 100 Flow triggers: listener flows `bench.flows.down00`..`down99`, each waiting for ONE of
  100 upstream flows `up00`..`up99` (conditions ExecutionFlow + ExecutionStatus SUCCESS).
  Every state change of every execution (the schedules' ones too) is evaluated against all
  100 listeners, as in Kestra;
- one flow with a MAX_DURATION PT1S SLA (behavior FAIL) and a 60 s Sleep.

Prints one JSON line per figure (bench/report.emit):

  cron_lag_p99_ms              execution start_date (the scheduler tick's `now` when it
                               created the execution) - trigger.date, p99 over every schedule
                               date of a 20 s window (quick 8 s) opened 5 s after the scheduler
                               started ticking (a new leader first syncs every flow's
                               triggers, then catches up the dates that passed meanwhile).
                               Extra keys: p50/max, dates expected and fired in the window,
                               and visible_p50_ms/visible_p99_ms: first seen by a 25 ms
                               poller in the bench process - trigger.date (the row committed
                               and readable; an upper bound).
  flow_trigger_latency_p95_ms  downstream execution start_date - upstream end_date, p95 over
                               50 upstream runs (quick 20), one at a time.
  sla_detection_lag_p99_ms     the SLA violation's WARN log timestamp - (start_date + 1 s),
                               p99 over 50 runs (quick 20), one at a time (each holds a
                               worker until the SLA kills its Sleep).

The three phases run one after the other while the schedules keep firing. Each line also
carries `load1`, the machine's load average when the figure was taken (the processes share
the machine's cores with the database and with whatever else runs). Exit status 1 when
a database's run stopped (a process did not start, PostgreSQL unreachable...).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from rq import Worker  # noqa: E402

from kestra_lite.config import Settings  # noqa: E402
from kestra_lite.model.state import parse_iso, utcnow  # noqa: E402
from kestra_lite.services import executions as service  # noqa: E402
from kestra_lite.services import flows as flow_service  # noqa: E402
from kestra_lite.services import runtime as runtimes  # noqa: E402
from kestra_lite.store import executions as store  # noqa: E402
from kestra_lite.store import logs as log_store  # noqa: E402
from databases import POSTGRES_URL, REDIS_URL, reset_postgres  # noqa: E402
from report import emit, percentile  # noqa: E402

TENANT = "main"
SCHEDULES_NS, FLOWS_NS, SLA_NS = "bench.schedules", "bench.flows", "bench.sla"
SCHEDULES, LISTENERS = 1000, 100
WARM_UP_SECONDS = 5
POLL_SECONDS = 0.025


@dataclass(frozen=True)
class Sizes:
    cron_seconds: float
    flow_runs: int
    sla_runs: int


FULL = Sizes(cron_seconds=20, flow_runs=50, sla_runs=50)
QUICK = Sizes(cron_seconds=8, flow_runs=20, sla_runs=20)


class Skip(Exception):
    """A figure that cannot be produced; the message says why (printed to stderr)."""


# -- flows ------------------------------------------------------------------------------------
def schedule_flow(i: int) -> str:
    return f"""id: s{i:04d}
namespace: {SCHEDULES_NS}
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.date }}}}"
triggers:
  - id: cron
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "{i % 60} * * * * *"
    withSeconds: true
"""


def upstream_flow(i: int) -> str:
    return f"""id: up{i:02d}
namespace: {FLOWS_NS}
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: upstream {i}
"""


def listener_flow(i: int) -> str:
    return f"""id: down{i:02d}
namespace: {FLOWS_NS}
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "after {{{{ trigger.executionId }}}}"
triggers:
  - id: on-upstream
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: {FLOWS_NS}
        flowId: up{i:02d}
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS]
"""


SLA_FLOW = f"""id: slow
namespace: {SLA_NS}
sla:
  - id: one-second
    type: MAX_DURATION
    behavior: FAIL
    duration: PT1S
tasks:
  - id: sleep
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""


def deploy_all(runtime) -> dict:
    """Every flow of the run; returns the upstream flows and the SLA flow."""
    for i in range(SCHEDULES):
        flow_service.deploy(runtime, TENANT, schedule_flow(i))
    upstreams = [flow_service.deploy(runtime, TENANT, upstream_flow(i)) for i in range(LISTENERS)]
    for i in range(LISTENERS):
        flow_service.deploy(runtime, TENANT, listener_flow(i))
    return {"upstreams": upstreams, "sla": flow_service.deploy(runtime, TENANT, SLA_FLOW)}


# -- processes --------------------------------------------------------------------------------
class Processes:
    """The scheduler and the workers; output to files in the scratch dir, shown on failure."""

    def __init__(self, settings: Settings, folder: Path):
        self.settings, self.folder, self.started = settings, folder, []

    def start(self, command: str) -> subprocess.Popen:
        log_file = self.folder / f"{command}-{len(self.started)}.log"
        process = subprocess.Popen([sys.executable, "-m", "kestra_lite.cli", command],
                                   env=self.settings.child_env(), cwd=ROOT,
                                   stdout=log_file.open("w"), stderr=subprocess.STDOUT)
        process.log_file = log_file
        self.started.append(process)
        return process

    def tails(self) -> str:
        return "\n".join(f"--- {p.log_file.name}\n"
                         + "\n".join(p.log_file.read_text().splitlines()[-20:])
                         for p in self.started)

    def stop_all(self) -> None:
        """SIGTERM (RQ's warm shutdown), SIGKILL if still there after 10 s."""
        for process in self.started:
            process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(predicate, seconds: float, what: str, interval: float = 0.01):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Skip(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(interval)


def start_processes(runtime, processes: Processes) -> None:
    """2 workers (registered with RQ), then the scheduler (leading and ticking)."""
    for _ in range(2):
        processes.start("worker")
    wait_for(lambda: Worker.count(connection=runtime.redis, queue=runtime.queue) >= 2, 60,
             "2 workers to register", 0.05)
    scheduler = processes.start("scheduler")
    me = f"{socket.gethostname()}:{scheduler.pid}".encode()
    wait_for(lambda: runtime.redis.get(runtime.key("scheduler", "leader")) == me, 60,
             "the scheduler to take the lead", 0.05)
    # a new leader first syncs the triggers of every flow (seconds for 1,200 flows) and
    # only then ticks: the run starts when its log says so
    wait_for(lambda: "flows in step" in scheduler.log_file.read_text(), 120,
             "the scheduler to sync the triggers", 0.05)


# -- cron lag ---------------------------------------------------------------------------------
class Poller(threading.Thread):
    """When each schedule execution first becomes readable (the bench process's view)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            now = time.time()
            for execution in store.search_executions(TENANT, SCHEDULES_NS, limit=100,
                                                     with_task_runs=False):
                self.seen.setdefault(execution.id, now)


def expected_dates(start: datetime, end: datetime) -> int:
    """Schedule dates in [start, end]: trigger i fires at second i % 60 of every minute."""
    per_second = [sum(1 for i in range(SCHEDULES) if i % 60 == s) for s in range(60)]
    first = start.replace(microsecond=0) + (timedelta(seconds=1) if start.microsecond else
                                            timedelta(0))
    total, moment = 0, first
    while moment <= end:
        total += per_second[moment.second]
        moment += timedelta(seconds=1)
    return total


def cron_lag(db: str, seconds: float) -> None:
    time.sleep(WARM_UP_SECONDS)
    poller = Poller()
    poller.start()
    start = utcnow()
    time.sleep(seconds)
    end = utcnow()
    time.sleep(1.5)                              # dates of the window's last second
    poller.stop.set()
    poller.join()
    runs = schedule_runs(start, end)
    lags = [(e.state.start_date - date).total_seconds() * 1000 for date, e in runs]
    visible = [(poller.seen[e.id] - date.timestamp()) * 1000 for date, e in runs
               if e.id in poller.seen]
    expected = expected_dates(start, end)
    emit("cron_lag_p99_ms", db, percentile(lags, 0.99), "ms", runs=len(runs),
         expected=expected, p50_ms=round(statistics.median(lags), 1),
         max_ms=round(max(lags), 1), window_s=seconds,
         visible_p50_ms=round(statistics.median(visible), 1) if visible else None,
         visible_p99_ms=round(percentile(visible, 0.99), 1) if visible else None,
         load1=load())
    if len(runs) != expected:
        print(f"cron_lag ({db}): {len(runs)} dates fired in the window, {expected} expected",
              file=sys.stderr, flush=True)


def schedule_runs(start: datetime, end: datetime) -> list[tuple[datetime, object]]:
    """(trigger date, execution) of the schedule executions whose date is in [start, end]."""
    found = store.search_executions(TENANT, SCHEDULES_NS, limit=10_000, with_task_runs=False)
    dated = [(parse_iso(e.trigger["variables"]["date"]), e) for e in found]
    runs = [(date, e) for date, e in dated if start <= date <= end]
    if not runs:
        raise Skip("no schedule execution in the window")
    return runs


# -- flow trigger latency ---------------------------------------------------------------------
def ended(execution_id: str):
    execution = store.load_execution(TENANT, execution_id)
    return execution if execution.current.is_terminated else None


def downstream_of(flow_id: str, upstream_id: str):
    for execution in store.search_executions(TENANT, FLOWS_NS, flow_id, limit=5,
                                             with_task_runs=False):
        if execution.trigger["variables"]["executionId"] == upstream_id:
            return execution
    return None


def flow_trigger_latency(runtime, db: str, upstreams: list, runs: int) -> None:
    latencies = []
    for i in range(runs):
        flow = upstreams[i % len(upstreams)]
        execution = service.create_execution(runtime, flow)
        upstream = wait_for(lambda: ended(execution.id), 30, f"{flow.id} to end")
        if upstream.current.value != "SUCCESS":
            raise Skip(f"{flow.id} ended {upstream.current.value}")
        listener = flow.id.replace("up", "down")
        down = wait_for(lambda: downstream_of(listener, execution.id), 30,
                        f"{listener} to be triggered")
        latencies.append((down.state.start_date - upstream.state.end_date).total_seconds()
                         * 1000)
    emit("flow_trigger_latency_p95_ms", db, percentile(latencies, 0.95), "ms", runs=runs,
         p50_ms=round(statistics.median(latencies), 1), max_ms=round(max(latencies), 1),
         listeners=LISTENERS, load1=load())


# -- SLA detection lag ------------------------------------------------------------------------
def violation_time(execution_id: str) -> datetime:
    for line in log_store.execution_logs(TENANT, execution_id, min_level="WARN"):
        if line["message"].startswith("SLA 'one-second' violated"):
            return parse_iso(line["timestamp"])
    raise Skip(f"execution {execution_id} has no SLA violation log")


def sla_detection_lag(runtime, db: str, flow, runs: int) -> None:
    lags = []
    for _ in range(runs):
        execution = service.create_execution(runtime, flow)
        final = wait_for(lambda: ended(execution.id), 30, "the SLA to end the execution")
        if final.current.value != "FAILED":
            raise Skip(f"the SLA execution ended {final.current.value}, not FAILED")
        deadline = final.state.start_date + timedelta(seconds=1)
        lags.append((violation_time(execution.id) - deadline).total_seconds() * 1000)
    emit("sla_detection_lag_p99_ms", db, percentile(lags, 0.99), "ms", runs=runs,
         p50_ms=round(statistics.median(lags), 1), max_ms=round(max(lags), 1), load1=load())


def load() -> float:
    """The machine's 1-minute load average: figures taken on a busy machine say so."""
    return round(os.getloadavg()[0], 2)


# -- main -------------------------------------------------------------------------------------
def figure(name: str, db: str, function, *args) -> bool:
    """Run one figure; on failure say why on stderr and go on with the others."""
    try:
        function(*args)
        return True
    except Skip as exc:
        print(f"skipped {name} ({db}): {exc}", file=sys.stderr, flush=True)
    except Exception:
        print(f"skipped {name} ({db}): {traceback.format_exc()}", file=sys.stderr, flush=True)
    return False



def bench(db: str, database_url: str, scratch: Path, sizes: Sizes) -> None:
    scratch.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env({"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
                                  "KESTRA_LITE_QUEUE": f"bench-{os.getpid()}",
                                  "KESTRA_LITE_STORAGE_DIR": str(scratch / "storage")})
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    runtime.redis.flushdb()
    started = time.perf_counter()
    flows = deploy_all(runtime)
    print(f"{db}: {SCHEDULES + 2 * LISTENERS + 1} flows deployed in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    processes = Processes(settings, scratch)
    try:
        start_processes(runtime, processes)
        ok = [figure("cron_lag", db, cron_lag, db, sizes.cron_seconds),
              figure("flow_trigger_latency", db, flow_trigger_latency, runtime, db,
                     flows["upstreams"], sizes.flow_runs),
              figure("sla_detection_lag", db, sla_detection_lag, runtime, db, flows["sla"],
                     sizes.sla_runs)]
        if not all(ok):
            print(processes.tails(), file=sys.stderr, flush=True)
    finally:
        processes.stop_all()
        runtime.queue.empty()
        runtimes.install(None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true",
                        help="shorter windows and fewer runs (about a minute per database)")
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
                bench(db, url, Path(scratch) / db, sizes)
            except Exception:
                failed = True
                print(f"bench on {db} stopped: {traceback.format_exc()}", file=sys.stderr,
                      flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
