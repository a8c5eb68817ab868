"""Execution and task-run values (semantics 5). Pure data: no I/O.

`to_dict()` gives Kestra's REST shape; `from_dict()` reads it back (the store keeps these
dicts in JSON columns).
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .state import State, StateInfo, iso, parse_iso

_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """A 22-character base62 random id, like Kestra's."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))


@dataclass
class Attempt:
    state: StateInfo

    def to_dict(self) -> dict:
        return {"state": self.state.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "Attempt":
        return cls(StateInfo.from_dict(data["state"]))


@dataclass
class TaskRun:
    id: str
    execution_id: str
    namespace: str
    flow_id: str
    task_id: str
    state: StateInfo
    parent_task_run_id: str | None = None
    value: str | None = None
    iteration: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    outputs: dict | None = None
    # executor-side bookkeeping that Kestra keeps elsewhere (not in the REST shape):
    # retry_at / resume_at dates, child execution id of a Subflow, dispatch counter.
    meta: dict = field(default_factory=dict)

    @property
    def current(self) -> State:
        return self.state.current

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "executionId": self.execution_id,
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "taskId": self.task_id,
            "parentTaskRunId": self.parent_task_run_id,
            "value": self.value,
            "iteration": self.iteration,
            "state": self.state.to_dict(),
            "attempts": [a.to_dict() for a in self.attempts],
            "outputs": self.outputs,
        }

    @classmethod
    def from_dict(cls, data: dict, meta: dict | None = None) -> "TaskRun":
        return cls(
            id=data["id"], execution_id=data["executionId"], namespace=data["namespace"],
            flow_id=data["flowId"], task_id=data["taskId"],
            state=StateInfo.from_dict(data["state"]),
            parent_task_run_id=data.get("parentTaskRunId"), value=data.get("value"),
            iteration=data.get("iteration"),
            attempts=[Attempt.from_dict(a) for a in data.get("attempts") or []],
            outputs=data.get("outputs"), meta=dict(meta or {}),
        )


@dataclass
class Execution:
    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: StateInfo
    tenant: str = "main"
    inputs: dict = field(default_factory=dict)
    outputs: dict | None = None
    labels: list[dict] = field(default_factory=list)   # [{"key": k, "value": v}]
    task_runs: list[TaskRun] = field(default_factory=list)
    trigger: dict | None = None
    parent_id: str | None = None
    original_id: str | None = None
    attempt_number: int = 1
    original_created_date: datetime | None = None
    schedule_date: datetime | None = None
    deleted: bool = False
    version: int = 0
    # executor-side bookkeeping (not in the REST shape)
    meta: dict = field(default_factory=dict)

    @property
    def current(self) -> State:
        return self.state.current

    # -- labels ------------------------------------------------------------------------
    def label(self, key: str) -> str | None:
        for label in self.labels:
            if label["key"] == key:
                return label["value"]
        return None

    def set_label(self, key: str, value: str) -> None:
        for label in self.labels:
            if label["key"] == key:
                label["value"] = value
                return
        self.labels.append({"key": key, "value": value})

    # -- task runs ---------------------------------------------------------------------
    def task_run(self, task_run_id: str) -> TaskRun:
        for task_run in self.task_runs:
            if task_run.id == task_run_id:
                return task_run
        raise KeyError(task_run_id)

    def find_task_run(self, task_id: str, parent_id: str | None = None,
                      value: str | None = None) -> TaskRun | None:
        for task_run in self.task_runs:
            if (task_run.task_id == task_id and task_run.parent_task_run_id == parent_id
                    and task_run.value == value):
                return task_run
        return None

    def children_of(self, parent_id: str | None) -> list[TaskRun]:
        return [t for t in self.task_runs if t.parent_task_run_id == parent_id]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "tenantId": self.tenant,
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "flowRevision": self.flow_revision,
            "state": self.state.to_dict(),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "labels": [dict(label) for label in self.labels],
            "taskRunList": [t.to_dict() for t in self.task_runs],
            "trigger": self.trigger,
            "parentId": self.parent_id,
            "originalId": self.original_id or self.id,
            "metadata": {"attemptNumber": self.attempt_number,
                         "originalCreatedDate": iso(self.original_created_date
                                                    or self.state.start_date)},
            "scheduleDate": iso(self.schedule_date),
            "deleted": self.deleted,
        }

    @classmethod
    def from_dict(cls, data: dict, *, version: int = 0, meta: dict | None = None,
                  task_run_meta: dict | None = None) -> "Execution":
        task_run_meta = task_run_meta or {}
        metadata = data.get("metadata") or {}
        return cls(
            id=data["id"], namespace=data["namespace"], flow_id=data["flowId"],
            flow_revision=data["flowRevision"], state=StateInfo.from_dict(data["state"]),
            tenant=data.get("tenantId") or "main", inputs=data.get("inputs") or {},
            outputs=data.get("outputs"), labels=list(data.get("labels") or []),
            task_runs=[TaskRun.from_dict(t, task_run_meta.get(t["id"]))
                       for t in data.get("taskRunList") or []],
            trigger=data.get("trigger"), parent_id=data.get("parentId"),
            original_id=data.get("originalId"),
            attempt_number=metadata.get("attemptNumber", 1),
            original_created_date=parse_iso(metadata.get("originalCreatedDate")),
            schedule_date=parse_iso(data.get("scheduleDate")),
            deleted=bool(data.get("deleted")), version=version, meta=dict(meta or {}),
        )


def log_record(execution: Execution, level: str, message: str, at: datetime, *,
               task_run: TaskRun | None = None, thread: str) -> dict:
    """A log line about an execution (or one of its task runs) in the log store's shape,
    written by the engine itself (executor, watchdog) rather than by a task."""
    return {"executionId": execution.id, "namespace": execution.namespace,
            "flowId": execution.flow_id, "taskId": task_run.task_id if task_run else None,
            "taskRunId": task_run.id if task_run else None,
            "attemptNumber": len(task_run.attempts) if task_run else None, "triggerId": None,
            "level": level, "message": message, "timestamp": at, "thread": thread}


def label_list(labels: Any) -> list[dict]:
    """Flow/task/trigger labels come as a map or a list of {key, value}: normalise to a list."""
    if not labels:
        return []
    if isinstance(labels, dict):
        return [{"key": str(k), "value": label_value(v)} for k, v in labels.items()]
    return [{"key": str(item["key"]), "value": label_value(item["value"])} for item in labels]


def label_value(value: Any) -> str:
    """A label value as text, booleans as `true`/`false` (Java's String.valueOf)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
