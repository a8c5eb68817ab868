"""Web benchmark: the executions list and a big execution's page, through a real gunicorn.

    python bench/web.py [--quick] [--db sqlite|postgresql|both] [--seconds 20]

Per database: a fresh one (SQLite: a file in a temp dir; PostgreSQL: kestra_lite_bench on
127.0.0.1:5432, user postgres, dropped and created), seeded with direct bulk INSERTs by
bench/web_seed.py: 100,000 executions (50 namespaces, 500 flows, every state, labels env/
team, 30 days of start dates; quick: 20,000) and one execution with 1,000 task runs and
100,000 log lines. Then `gunicorn -w 4 app:app` is started on a free loopback port with
DATABASE_URL and REDIS_URL (Redis db 14, reserved for benchmarks, flushed); the rest of
its settings come from the checkout's gunicorn.conf.py (gthread workers), as in
production. A user is created and each client logs in through the login form.

Figures (one JSON line each: {"metric", "db", "value", "unit", ...}):

  executions_list_p95_ms   4 concurrent clients (threads, one keep-alive requests.Session
  executions_list_p50_ms   each) GET /ui/main/executions?q=... for --seconds (quick 8 s),
  executions_list_rps      each client going round a list of filter combinations (none,
                           state, namespace, flow, label, since, from/to, text, combos,
                           deep pages). "Server time" is the time to the full response as
                           the client sees it on loopback (connection reused), so it
                           includes HTTP and the client's own share of the 2 cores.
  executions_list_worst_query_p95_ms  the filter combination with the highest p95 (named)
  api_search_p95_ms        the same combinations through /api/v1/main/executions/search
                           (Basic auth), 4 clients, half the time
  big_execution_page_ms    median of 20 GETs of the big execution's page
                           /ui/main/executions/<namespace>/<flowId>/<id> (one client),
                           with its size in KB

Every response must be 200 (a failure stops the run with the body's start). Exit status 1
when a database's run failed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import requests  # noqa: E402

import web_seed  # noqa: E402
from databases import POSTGRES_URL, REDIS_URL, reset_postgres  # noqa: E402
from report import emit, percentile  # noqa: E402

EMAIL, PASSWORD = "bench@example.com", "bench-password-123"
CLIENTS = 4


def queries(seeded: web_seed.Seeded) -> list[dict]:
    """The rotating filter combinations ({"q": ..., "page": ...})."""
    day = (seeded.now - timedelta(days=12)).date().isoformat()
    next_day = (seeded.now - timedelta(days=11)).date().isoformat()
    texts = [
        "", "state:FAILED", "state:RUNNING", "state:PAUSED", "namespace:acme",
        "namespace:wayne.hr", "flow:flow_03", "namespace:acme.data flow:flow_01",
        "label:env=prod", "label:team=team3", "since:24h", "since:1h", "since:7d",
        f"from:{day} to:{next_day}", "acme", "flow_0", "hooli ml", "zzz",
        "state:FAILED namespace:acme since:7d", "state:SUCCESS label:env=prod since:24h",
        "scope:SYSTEM", "scope:USER state:KILLED", "child:CHILD", "child:MAIN state:WARNING",
        "state:FAILED label:team=team1 flow:flow_01", "label:team=team3 label:env=dev",
        "label:env=dev label:team=team9 state:SUCCESS,WARNING since:14d",
        "state:SUCCESS namespace:acme label:env=prod", "namespace:hooli state:RETRYING",
        "state:CANCELLED label:env=prod",
    ]
    combos = [{"q": text} for text in texts]
    combos += [{"q": "", "page": "40"}, {"q": "state:SUCCESS", "page": "12"},
               {"q": "namespace:acme", "page": "3", "size": "50"}]
    return combos


API_KEYS = {"state": "state", "namespace": "namespace", "flow": "flowId", "label": "labels",
            "since": "timeRange", "from": "startDate", "to": "endDate", "scope": "scope",
            "child": "childFilter"}


def api_params(combo: dict) -> list[tuple[str, str]]:
    """The same combination as Kestra's legacy search parameters."""
    from kestra_lite.model.filters import parse_filters
    filters = parse_filters(combo["q"], "executions")
    params = []
    for criterion in filters.criteria:
        value = criterion.value
        if criterion.key == "label":
            value = value.replace("=", ":", 1)
        elif criterion.key == "since":
            value = "PT" + value.upper() if value[-1] in "hmHM" else "P" + value.upper()
        for part in (value.split(",") if criterion.key == "state" else [value]):
            params.append((API_KEYS[criterion.key], part))
    if filters.words:
        params.append(("q", " ".join(filters.words)))
    params.append(("page", combo.get("page", "1")))
    params.append(("size", combo.get("size", "25")))
    return params


# -- processes ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(database_url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=REDIS_URL,
               SECRET_KEY="bench-secret-key", KESTRA_LITE_STORAGE_DIR=str(log_path.parent))
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn) if gunicorn.exists() else "gunicorn", "-w", "4",
               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_path.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /health within 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)      # its own session: master and workers
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()



def flush_redis() -> None:
    import redis
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def create_user(database_url: str) -> None:
    from kestra_lite.services import accounts
    from kestra_lite.store import db as store_db
    store_db.connect(database_url)
    accounts.create_user(EMAIL, PASSWORD, superadmin=True)
    store_db.close()


def logged_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = session.post(f"{base}/login", data={"email": EMAIL, "password": PASSWORD,
                                                   "csrf_token": token},
                            allow_redirects=False, timeout=10)
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code} {response.text[:300]}")
    return session


# -- load --------------------------------------------------------------------------------
def load(sessions: list[requests.Session], requests_of, seconds: float) -> dict:
    """Each session in its own thread goes round `requests_of(i)` (url, params, label)
    until `seconds` pass. Returns {"all": [ms...], "by": {label: [ms...]}, "count"}."""
    results: list[list[tuple[str, float]]] = [[] for _ in sessions]
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        session, plan = sessions[index], requests_of(index)
        position = index * 7
        try:
            while time.monotonic() < stop_at:
                url, params, label = plan[position % len(plan)]
                position += 1
                began = time.perf_counter()
                response = session.get(url, params=params, timeout=30)
                body = response.content
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code} for {url} {params}: "
                                       f"{body[:300]!r}")
                results[index].append((label, elapsed))
        except Exception as error:      # noqa: BLE001 - reported by the caller
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(sessions))]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    if errors:
        raise RuntimeError(errors[0])
    flat = [entry for per_client in results for entry in per_client]
    by: dict[str, list[float]] = {}
    for label, elapsed in flat:
        by.setdefault(label, []).append(elapsed)
    return {"all": [elapsed for _, elapsed in flat], "by": by, "wall": wall}


def run_database(kind: str, quick: bool, seconds: float, workdir: Path) -> None:
    if kind == "sqlite":
        database_url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        reset_postgres()
        database_url = POSTGRES_URL
    flush_redis()
    seeded = web_seed.seed(database_url, executions=20_000 if quick else 100_000)
    print(f"# {kind}: seeded {20_000 if quick else 100_000} executions and the big one "
          f"in {seeded.seconds:.1f} s", file=sys.stderr, flush=True)
    create_user(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(database_url, port, workdir / f"gunicorn-{kind}.log")
    try:
        sessions = [logged_in(base) for _ in range(CLIENTS)]
        combos = queries(seeded)
        page_plan = [(f"{base}/ui/main/executions", {k: v for k, v in combo.items() if v},
                      json.dumps(combo)) for combo in combos]
        for url, params, _ in page_plan:                 # warm-up: every query once
            sessions[0].get(url, params=params, timeout=30).raise_for_status()
        measured = load(sessions, lambda i: page_plan, seconds)
        times = measured["all"]
        emit("executions_list_p95_ms", kind, percentile(times, 0.95), "ms",
             requests=len(times), clients=CLIENTS, seconds=round(measured["wall"], 1),
             note="time to full response at the client, loopback, keep-alive")
        emit("executions_list_p50_ms", kind, statistics.median(times), "ms")
        emit("executions_list_rps", kind, len(times) / measured["wall"], "req/s")
        ranked = sorted(measured["by"].items(), key=lambda item: -percentile(item[1], 0.95))
        for label, values in ranked[:8]:
            print(f"# {kind}: p95 {percentile(values, 0.95):6.1f} ms  p50 "
                  f"{statistics.median(values):6.1f} ms  {json.loads(label)}",
                  file=sys.stderr, flush=True)
        worst = ranked[0]
        emit("executions_list_worst_query_p95_ms", kind, percentile(worst[1], 0.95), "ms",
             query=json.loads(worst[0]), requests=len(worst[1]))

        api = requests.Session()
        api.auth = (EMAIL, PASSWORD)
        api_sessions = [requests.Session() for _ in range(CLIENTS)]
        for session in api_sessions:
            session.auth = (EMAIL, PASSWORD)
        api_plan = [(f"{base}/api/v1/main/executions/search", api_params(combo),
                     json.dumps(combo)) for combo in combos]
        for url, params, _ in api_plan:
            api.get(url, params=params, timeout=30).raise_for_status()
        measured = load(api_sessions, lambda i: api_plan, seconds / 2)
        emit("api_search_p95_ms", kind, percentile(measured["all"], 0.95), "ms",
             requests=len(measured["all"]), clients=CLIENTS)

        namespace, flow_id, execution_id = seeded.big_execution
        url = f"{base}/ui/main/executions/{namespace}/{flow_id}/{execution_id}"
        session = sessions[0]
        session.get(url, timeout=60).raise_for_status()
        loads, size = [], 0
        for _ in range(20):
            began = time.perf_counter()
            response = session.get(url, timeout=60)
            body = response.content
            loads.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
            size = len(body)
        emit("big_execution_page_ms", kind, statistics.median(loads), "ms",
             kb=round(size / 1024, 1), task_runs=1000, log_lines=100_000,
             p95_ms=round(percentile(loads, 0.95), 1))
    finally:
        stop(server)
        if kind == "postgresql":
            reset_postgres(drop_only=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 executions, 8 s")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    seconds = args.seconds or (8.0 if args.quick else 20.0)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    status = 0
    for kind in kinds:
        workdir = Path(tempfile.mkdtemp(prefix=f"kestra-lite-web-bench-{kind}-"))
        try:
            run_database(kind, args.quick, seconds, workdir)
        except Exception:       # noqa: BLE001 - one database's failure, the other runs
            traceback.print_exc()
            print(f"# {kind}: run failed", file=sys.stderr)
            status = 1
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
