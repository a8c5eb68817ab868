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
  then SIGKILL after KILL_GRACE_SECONDS, and TaskKilled is raised. When the script's main
  process ends, whatever it left running in its group is SIGKILLed (the task is over).
- Worker death: every script leads a process group of its own, registered with the worker's
  guardian process (guardian.py), which SIGKILLs the groups still running if the worker dies.
- Exit code: the script's, or 128 + N when it died of signal N (like a shell).
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

from kestra_lite.tasks.base import RunContext, TaskFailed, TaskKilled
from kestra_lite.tasks.scripts.protocol import Collector

GUARDIAN = str(Path(__file__).with_name("guardian.py"))
POLL_SECONDS = 0.05
FLUSH_SECONDS = 0.2
KILL_GRACE_SECONDS = 2.0
READER_GRACE_SECONDS = 2.0    # output still buffered when the script ends


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
    _guardian.ready()       # before the script exists: no gap where a dead worker leaves it
    try:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True)
    except OSError as error:
        raise TaskFailed(f"Cannot run {argv[0]}: {error.strerror}") from None
    _guardian.watch(process.pid)
    readers = [_read(process.stdout, collector, stderr=False),
               _read(process.stderr, collector, stderr=True)]
    try:
        _wait(ctx, process)
    finally:
        if process.poll() is None:
            terminate(process)
        _signal_group(process.pid, signal.SIGKILL)   # what the script left in the background
        for reader in readers:
            reader.join(READER_GRACE_SECONDS)
        _guardian.release(process.pid)
        ctx.logger.flush()
    code = process.returncode
    return ProcessResult(128 - code if code < 0 else code, dict(collector.vars),
                         collector.stderr_lines)


class Guardian:
    """The worker's side of guardian.py: started on first use (and again in a forked
    child, or if it died), told about every script's process group."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._owner = 0

    def ready(self) -> None:
        with self._lock:
            try:
                self._started()
            except OSError:         # reported by the next watch() that cannot reach it
                self._process = None

    def watch(self, group: int) -> None:
        self._send(f"+{group}\n")

    def release(self, group: int) -> None:
        self._send(f"-{group}\n")

    def _send(self, line: str) -> None:
        with self._lock:
            for _ in range(2):          # a dead guardian is replaced once
                try:
                    self._started().stdin.write(line.encode())
                    self._process.stdin.flush()
                    return
                except (BrokenPipeError, OSError):
                    self._process = None

    def _started(self) -> subprocess.Popen:
        if self._process is None or self._owner != os.getpid() or self._process.poll() is not None:
            self._process = subprocess.Popen([sys.executable, "-I", "-S", GUARDIAN],
                                             stdin=subprocess.PIPE, start_new_session=True)
            self._owner = os.getpid()
        return self._process


_guardian = Guardian()


def _read(stream: IO[bytes], collector: Collector, *, stderr: bool) -> threading.Thread:
    def pump():
        with stream:
            for raw in stream:
                collector.line(raw.decode("utf-8", "replace").rstrip("\r\n"), stderr=stderr)

    thread = threading.Thread(target=pump, daemon=True,
                              name=f"script-{'stderr' if stderr else 'stdout'}")
    thread.start()
    return thread


def _wait(ctx: RunContext, process: subprocess.Popen) -> None:
    """Until the process has exited, flushing logs as it goes; a kill (or the caller's
    timeout) terminates the process group."""
    next_flush = time.monotonic() + FLUSH_SECONDS
    while process.poll() is None:
        if ctx.is_killed():
            terminate(process)
            raise TaskKilled()
        try:
            process.wait(POLL_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() >= next_flush:
            ctx.logger.flush()
            next_flush = time.monotonic() + FLUSH_SECONDS


def terminate(process: subprocess.Popen) -> None:
    """SIGTERM to the whole process group, SIGKILL to what is left after the grace delay."""
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
