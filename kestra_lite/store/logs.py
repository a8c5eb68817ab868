"""Task and execution logs: data, stored and searchable, in Kestra's log shape."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

import peewee

from ..model.state import iso
from .db import BaseModel

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
INSERT_BATCH = 500      # rows per INSERT (13 values each)
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LogRow(BaseModel):
    id = peewee.BigAutoField()
    execution_id = peewee.CharField(max_length=64, null=True)
    namespace = peewee.CharField(max_length=255)
    flow_id = peewee.CharField(max_length=255)
    task_id = peewee.CharField(max_length=255, null=True)
    task_run_id = peewee.CharField(max_length=64, null=True)
    attempt_number = peewee.IntegerField(null=True)
    trigger_id = peewee.CharField(max_length=255, null=True)
    level = peewee.CharField(max_length=8)
    level_rank = peewee.SmallIntegerField()
    message = peewee.TextField()
    timestamp = peewee.BigIntegerField()   # microseconds since the epoch, UTC
    thread = peewee.CharField(max_length=255, null=True)

    class Meta:
        table_name = "logs"
        indexes = ((("tenant", "execution_id", "id"), False),
                   (("tenant", "namespace", "flow_id", "timestamp"), False))


def level_rank(level: str) -> int:
    """TRACE < DEBUG < INFO < WARN < ERROR (WARNING is read as WARN)."""
    level = level.upper()
    if level == "WARNING":
        level = "WARN"
    try:
        return _RANK[level]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}; expected one of {', '.join(LEVELS)}")


def _micros(date: datetime) -> int:
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    delta = date - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _date(micros: int) -> datetime:
    seconds, rest = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, timezone.utc).replace(microsecond=rest)


def append_logs(tenant: str, records: Iterable[dict]) -> None:
    """Insert log records in one statement. Keys: executionId, namespace, flowId, taskId,
    taskRunId, attemptNumber, triggerId, level, message, timestamp (datetime), thread."""
    rows = []
    for record in records:
        level = str(record.get("level") or "INFO").upper()
        if level == "WARNING":
            level = "WARN"
        rows.append({
            "tenant": tenant,
            "execution_id": record.get("executionId"),
            "namespace": record["namespace"],
            "flow_id": record["flowId"],
            "task_id": record.get("taskId"),
            "task_run_id": record.get("taskRunId"),
            "attempt_number": record.get("attemptNumber"),
            "trigger_id": record.get("triggerId"),
            "level": level,
            "level_rank": level_rank(level),
            "message": str(record.get("message") or ""),
            "timestamp": _micros(record["timestamp"]),
            "thread": record.get("thread"),
        })
    for start in range(0, len(rows), INSERT_BATCH):     # SQLite caps variables per statement
        LogRow.insert_many(rows[start:start + INSERT_BATCH]).execute()


def _shape(row: tuple) -> dict:
    (namespace, flow_id, task_id, execution_id, task_run_id, attempt_number, trigger_id,
     timestamp, level, thread, message) = row
    return {"namespace": namespace, "flowId": flow_id, "taskId": task_id,
            "executionId": execution_id, "taskRunId": task_run_id,
            "attemptNumber": attempt_number, "triggerId": trigger_id,
            "timestamp": iso(_date(timestamp)), "level": level, "thread": thread,
            "message": message}


_COLUMNS = (LogRow.namespace, LogRow.flow_id, LogRow.task_id, LogRow.execution_id,
            LogRow.task_run_id, LogRow.attempt_number, LogRow.trigger_id, LogRow.timestamp,
            LogRow.level, LogRow.thread, LogRow.message)


def execution_logs(tenant: str, execution_id: str, min_level: str | None = None,
                   task_run_id: str | None = None) -> list[dict]:
    """The logs of an execution in insertion order, at `min_level` or above."""
    query = (LogRow.select(*_COLUMNS)
             .where(LogRow.tenant == tenant, LogRow.execution_id == execution_id))
    if min_level is not None:
        query = query.where(LogRow.level_rank >= level_rank(min_level))
    if task_run_id is not None:
        query = query.where(LogRow.task_run_id == task_run_id)
    return [_shape(row) for row in query.order_by(LogRow.id).tuples()]


def delete_logs(tenant: str, execution_id: str) -> int:
    return (LogRow.delete()
            .where(LogRow.tenant == tenant, LogRow.execution_id == execution_id).execute())
