"""Helpers of the fault tests: kestra-lite processes, waiting, the sleeper flow."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from kestra_lite.model.state import State
from kestra_lite.services import executions as service
from kestra_lite.services import flows as flow_service
from kestra_lite.store import executions as store

ROOT = Path(__file__).resolve().parents[2]
TENANT = "main"
SLEEP_THEN_LOG = """
    id: sleeper
    namespace: company.team
    tasks:
      - id: sleep
        type: io.kestra.plugin.core.flow.Sleep
        duration: PT{seconds}S
      - id: after
        type: io.kestra.plugin.core.log.Log
        message: done
"""


class Processes:
    """kestra-lite processes started by a test; all stopped (SIGKILL) at teardown. Their
    output goes to files under the test's tmp dir, shown when a test fails."""

    def __init__(self, settings, folder: Path):
        self.settings, self.folder, self.started = settings, folder, []

    def start(self, command: str, **env_overrides: str) -> subprocess.Popen:
        log_file = self.folder / f"{command}-{len(self.started)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "kestra_lite.cli", command],
            env=self.settings.child_env(**env_overrides), cwd=ROOT,
            stdout=log_file.open("w"), stderr=subprocess.STDOUT)
        process.log_file = log_file
        self.started.append(process)
        return process

    def output(self) -> str:
        return "\n".join(f"--- {p.log_file.name}\n{p.log_file.read_text()}" for p in self.started)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)


def wait_until(predicate, seconds: float, what: str, processes: Processes | None = None):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            details = processes.output() if processes else ""
            raise AssertionError(f"timed out after {seconds}s waiting for {what}\n{details}")
        time.sleep(0.05)


def deploy_sleeper(runtime, seconds: int):
    return flow_service.deploy(runtime, TENANT,
                               textwrap.dedent(SLEEP_THEN_LOG.format(seconds=seconds)))


def running_attempt(runtime, execution_id: str, task_id: str):
    """`<task run id>:<attempt>` once a worker holds the task (its heartbeat is set)."""
    execution = store.load_execution(TENANT, execution_id)
    for task_run in execution.task_runs:
        if task_run.task_id == task_id and task_run.current is State.RUNNING:
            attempt = f"{task_run.id}:{len(task_run.attempts)}"
            return attempt if runtime.has_heartbeat(attempt) else None
    return None


def ended(execution_id: str):
    execution = store.load_execution(TENANT, execution_id)
    return execution if execution.current.is_terminated else None


def create(runtime, flow):
    return service.create_execution(runtime, flow)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class TcpProxy:
    """A TCP relay in front of PostgreSQL that a test can cut (every open connection dropped,
    new ones refused) and restore on the same port: the database "unreachable" for a while."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._connections: list = []
        self._listener = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)    # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()
        for connection in self._connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()
        self._connections.clear()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return          # cut
            upstream = socket.create_connection(self.target)
            self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.close()
                except OSError:
                    pass
