"""Kestra's script protocol: what a script tells the task through its output lines.

A line that is exactly `::{json}::` (on stdout or stderr) is a message; the JSON object may
carry `outputs` (a map, merged into the task's `vars` output), `metrics` (a list of
`{name, type, value, tags}`) and `logs` (a list of `{level, message}`). This is what the
`kestra` PyPI package prints (`Kestra.outputs`, `Kestra.counter`, `Kestra.logger()`). Any
other line, a malformed message included, is plain text: logged at INFO from stdout and at
WARN from stderr.
"""
from __future__ import annotations

import json
import re
import threading

from kestra_lite.tasks.base import LEVELS, TaskLogger

MESSAGE = re.compile(r"^::(\{.*\})::$")
LEVEL_ALIASES = {"WARNING": "WARN", "SEVERE": "ERROR", "FATAL": "ERROR", "CRITICAL": "ERROR"}


def parse(line: str) -> dict | None:
    """The message a line carries, or None when it is plain text."""
    found = MESSAGE.match(line)
    if not found:
        return None
    try:
        message = json.loads(found.group(1))
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def level_of(name) -> str:
    """A logger level for a protocol `level` (INFO when unknown)."""
    level = LEVEL_ALIASES.get(str(name).upper(), str(name).upper())
    return level if level in LEVELS else "INFO"


def describe_metric(metric: dict) -> str:
    tags = metric.get("tags") or {}
    text = f"metric {metric.get('name')}={metric.get('value')}"
    if isinstance(tags, dict) and tags:
        text += " " + " ".join(f"{key}={value}" for key, value in tags.items())
    return text


class Collector:
    """Turns a script's output lines into task logs and the `vars` output. Both output
    streams feed it from their own threads."""

    def __init__(self, logger: TaskLogger):
        self.logger = logger
        self.vars: dict = {}
        self.stderr_lines = 0
        self._lock = threading.Lock()

    def line(self, text: str, *, stderr: bool) -> None:
        if stderr:
            with self._lock:
                self.stderr_lines += 1
        message = parse(text)
        if message is None:
            self.logger.log("WARN" if stderr else "INFO", text)
            return
        self._outputs(message.get("outputs"))
        self._metrics(message.get("metrics"))
        self._logs(message.get("logs"))

    def _outputs(self, outputs) -> None:
        if isinstance(outputs, dict):
            with self._lock:
                self.vars.update(outputs)
        elif outputs is not None:
            self.logger.warn(f"Ignored script outputs that are not a map: {outputs!r}")

    def _metrics(self, metrics) -> None:
        for metric in metrics if isinstance(metrics, list) else []:
            if isinstance(metric, dict):
                self.logger.debug(describe_metric(metric))

    def _logs(self, logs) -> None:
        for entry in logs if isinstance(logs, list) else []:
            if isinstance(entry, dict):
                self.logger.log(level_of(entry.get("level", "INFO")), str(entry.get("message", "")))
