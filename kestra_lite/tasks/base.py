"""What a runnable task sees while it runs: the run context, and how it reports its end."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from kestra_lite.engine.expressions import Hooks, render, render_typed, render_value
from kestra_lite.engine.masking import mask
from kestra_lite.model.execution import Execution, TaskRun
from kestra_lite.model.flow import Flow, Task
from kestra_lite.model.state import State, utcnow

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


class TaskFailed(Exception):
    """Raised by a task to end its attempt FAILED; the message is logged at ERROR."""


class TaskKilled(Exception):
    """Raised when the task noticed it was killed."""


@dataclass
class TaskResult:
    outputs: dict | None = None
    state: State = State.SUCCESS


class TaskLogger:
    """A task's log lines (masked, filtered by the task's logLevel). Lines are kept until
    `flush()` hands them to the sink (the log store) or the worker `take()`s them to store
    with the task's result: a long-running task (a script) flushes while it runs so its
    lines show up live.
    Thread-safe: a script's stdout and stderr readers log from their own threads."""

    def __init__(self, base: dict, min_level: str | None, secrets: Callable[[], list[str]],
                 sink: Callable[[list[dict]], None] | None = None):
        self.base, self.records = base, []
        self.min_rank = LEVELS.index(min_level) if min_level in LEVELS else 0
        self._secrets = secrets
        self._sink = sink
        self._lock = threading.Lock()

    def log(self, level: str, message: str) -> None:
        if LEVELS.index(level) < self.min_rank:
            return
        record = dict(self.base, level=level, message=mask(str(message), self._secrets()),
                      timestamp=utcnow())
        with self._lock:
            self.records.append(record)

    def take(self) -> list[dict]:
        """The pending lines, now the caller's to store (the worker stores the last ones
        with the task's result)."""
        with self._lock:
            pending, self.records = self.records, []
        return pending

    def flush(self) -> None:
        """Write the pending lines to the sink now (no-op without one). If the sink fails
        (the database is unreachable), the lines stay pending for the next flush."""
        if self._sink is None:
            return
        pending = self.take()
        if not pending:
            return
        try:
            self._sink(pending)
        except Exception:
            with self._lock:
                self.records[:0] = pending

    def trace(self, message): self.log("TRACE", message)
    def debug(self, message): self.log("DEBUG", message)
    def info(self, message): self.log("INFO", message)
    def warn(self, message): self.log("WARN", message)
    def error(self, message): self.log("ERROR", message)


@dataclass
class RunContext:
    flow: Flow
    execution: Execution
    task: Task
    task_run: TaskRun
    variables: dict
    hooks: Hooks
    logger: TaskLogger
    services: Any                        # services.runtime.TaskServices: kv, storage, executions
    is_killed: Callable[[], bool] = lambda: False
    timed_out: threading.Event = field(default_factory=threading.Event)
    secrets: list[str] = field(default_factory=list)

    @property
    def tenant(self) -> str:
        return self.execution.tenant

    def render(self, value) -> Any:
        if isinstance(value, str):
            return render(value, self.variables, self.hooks)
        return render_value(value, self.variables, self.hooks)

    def render_typed(self, value) -> Any:
        if isinstance(value, str):
            return render_typed(value, self.variables, self.hooks)
        return render_value(value, self.variables, self.hooks)

    def prop(self, name: str, default=None) -> Any:
        value = self.task.props.get(name, default)
        return self.render(value) if value is not None else default

    def sleep(self, seconds: float) -> None:
        """Sleep, waking up to notice a kill (raises TaskKilled)."""
        deadline = time.monotonic() + seconds
        while True:
            if self.is_killed():
                raise TaskKilled()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def now(self) -> datetime:
        return utcnow()
