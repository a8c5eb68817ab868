"""`kestra-lite local`: everything in one command.

A real Redis (REDIS_URL if it answers, else a redis-server started here), the database
migrated (a SQLite file under ./data unless DATABASE_URL says otherwise), then three child
processes: gunicorn (web), one worker, the scheduler. Ctrl-C or SIGTERM stops them all;
if one of them dies, the others are stopped too and the exit code is non-zero.
"""
from __future__ import annotations

import ctypes
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from .config import DEV_SECRET_KEY, Settings
from .redis_server import ensure_redis, stop_redis
from .store import db as store_db

log = logging.getLogger(__name__)
DATA_DIR = Path("data")


def _die_with_parent() -> None:
    """In the child: get SIGTERM if `kestra-lite local` itself dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _secret_key(settings: Settings) -> str:
    """A stable random key under ./data when SECRET_KEY is not set (sessions survive)."""
    if settings.secret_key != DEV_SECRET_KEY:
        return settings.secret_key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _commands(port: int, host: str) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [python, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", "2",
                "--threads", "8", "--access-logfile", "-", "--graceful-timeout", "5",
                "kestra_lite.web:create_app()"],
        "worker": [python, "-m", "kestra_lite.cli", "worker"],
        "scheduler": [python, "-m", "kestra_lite.cli", "scheduler"],
    }


def run_local(settings: Settings, port: int = 8080, host: str = "127.0.0.1") -> int:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    redis_url, redis_process = ensure_redis(settings.redis_url, DATA_DIR / "redis")
    if redis_process is not None:
        print(f"started redis-server at {redis_url}", flush=True)
    if settings.is_sqlite and not settings.database_url.startswith("sqlite:///:memory:"):
        path = Path(settings.database_url[len("sqlite:///"):]).resolve()
        settings = replace(settings, database_url=f"sqlite:///{path}")
    settings = replace(settings, redis_url=redis_url, secret_key=_secret_key(settings),
                       storage_dir=settings.storage_dir.resolve())
    store_db.connect(settings.database_url)
    store_db.migrate()
    store_db.close()

    env = settings.child_env()
    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    exit_code = 0
    try:
        for name, command in _commands(port, host).items():
            children[name] = subprocess.Popen(command, env=env, start_new_session=True,
                                              preexec_fn=_die_with_parent)
        print(f"kestra-lite is running at http://localhost:{port}/ (Ctrl-C to stop)",
              flush=True)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"kestra-lite: {name} exited with code {child.returncode}; "
                          "stopping", file=sys.stderr, flush=True)
                    stopping, exit_code = True, 1
                    break
            time.sleep(0.2)
    finally:
        _stop(children)
        stop_redis(redis_process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("kestra-lite stopped", flush=True)
    return exit_code


def _stop(children: dict[str, subprocess.Popen], timeout: float = 10.0) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name, child in children.items():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %ss; killing it", name, timeout)
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
