"""The Process task runner: a script runs as a local child process of the worker.

- Working directory: every task run gets a fresh temporary directory (the process's cwd,
  `WORKING_DIR`, `{{ workingDir }}`), removed afterwards, with an output directory inside it
  (`OUTPUT_DIR`, `{{ outputDir }}`) whose files become output files.
- Environment: the worker's environment without kestra-lite's own settings (DATABASE_URL,
  REDIS_URL, SECRET_KEY, SECRET_*, KESTRA_LITE_*: `Settings.script_env`), with the directory
  of the worker's own Python interpreter (`os.path.dirname(sys.executable)`) first on PATH,
  so that `python` in a script is the worker's interpreter and finds its packages (among
  them the `kestra` package when installed); PYTHONUNBUFFERED=1 so Python scripts' lines
  show up as they are printed; WORKING_DIR and OUTPUT_DIR; then the task's `env`.
- Output: stdout and stderr are read line by line by two threads while the script runs
  (protocol.Collector); the task's logger is flushed to the log store every FLUSH_SECONDS.
- Kill and timeout: `ctx.is_killed()` is polled; the script's process group gets SIGTERM,
  then SIGKILL after KILL_GRACE_SECONDS, and TaskKilled is raised. The group is led by
  supervisor.py, which SIGKILLs the group if the worker itself dies, and which exits on
  SIGTERM only once every process of the script is gone.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from kestra_lite.tasks.base import RunContext, TaskKilled
from kestra_lite.tasks.scripts.protocol import Collector

SUPERVISOR = str(Path(__file__).with_name("supervisor.py"))
POLL_SECONDS = 0.05
FLUSH_SECONDS = 0.2
KILL_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class WorkingDirectory:
    path: Path
    output_dir: Path


@dataclass
class ProcessResult:
    exit_code: int
    vars: dict
    stderr_lines: int


@contextmanager
def working_directory() -> Iterator[WorkingDirectory]:
    """A fresh directory for one task run (and its output directory), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="kestra-lite-", ignore_cleanup_errors=True) as root:
        path = Path(root)
        output_dir = path / secrets.token_hex(8)    # a random name, like Kestra's
        output_dir.mkdir()
        yield WorkingDirectory(path, output_dir)


def process_env(ctx: RunContext, directory: WorkingDirectory, task_env: dict[str, str]) -> dict[str, str]:
    """The environment of the script (see the module docstring)."""
    env = ctx.services.settings.script_env()
    env["PATH"] = os.pathsep.join(filter(None, [os.path.dirname(sys.executable), env.get("PATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env["WORKING_DIR"] = str(directory.path)
    env["OUTPUT_DIR"] = str(directory.output_dir)
    env.update(task_env)
    return env


def run_process(ctx: RunContext, argv: list[str], env: dict[str, str], cwd: Path) -> ProcessResult:
    """Run `argv` to its end, its output lines going to the task's logs; raises TaskKilled."""
    collector = Collector(ctx.logger)
    process = subprocess.Popen([sys.executable, "-I", "-S", SUPERVISOR, str(os.getpid()), *argv],
                               cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    readers = [_read(process.stdout, collector, stderr=False),
               _read(process.stderr, collector, stderr=True)]
    try:
        _wait(ctx, process, readers)
    finally:
        if process.poll() is None:
            terminate(process)
        ctx.logger.flush()
    return ProcessResult(process.returncode, dict(collector.vars), collector.stderr_lines)


def _read(stream: IO[bytes], collector: Collector, *, stderr: bool) -> threading.Thread:
    def pump():
        with stream:
            for raw in stream:
                collector.line(raw.decode("utf-8", "replace").rstrip("\r\n"), stderr=stderr)

    thread = threading.Thread(target=pump, daemon=True,
                              name=f"script-{'stderr' if stderr else 'stdout'}")
    thread.start()
    return thread


def _wait(ctx: RunContext, process: subprocess.Popen, readers: list[threading.Thread]) -> None:
    """Until the process has exited and both streams are drained, flushing logs as it goes;
    a kill (or the caller's timeout) terminates the process group."""
    next_flush = time.monotonic() + FLUSH_SECONDS
    while process.poll() is None or any(reader.is_alive() for reader in readers):
        if ctx.is_killed():
            terminate(process)
            raise TaskKilled()
        _pause(process, readers)
        if time.monotonic() >= next_flush:
            ctx.logger.flush()
            next_flush = time.monotonic() + FLUSH_SECONDS


def _pause(process: subprocess.Popen, readers: list[threading.Thread]) -> None:
    if process.poll() is None:
        try:
            process.wait(POLL_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    else:
        for reader in readers:
            reader.join(POLL_SECONDS / len(readers))


def terminate(process: subprocess.Popen) -> None:
    """SIGTERM to the whole process group, SIGKILL to what is left after the grace delay
    (the supervisor exits once every process of the script is gone)."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass
