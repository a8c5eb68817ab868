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


def _execution_lines(tenant: str, execution_id: str, min_level: str | None,
                     task_run_id: str | None):
    query = (LogRow.select(*_COLUMNS, LogRow.id)
             .where(LogRow.tenant == tenant, LogRow.execution_id == execution_id))
    if min_level is not None:
        query = query.where(LogRow.level_rank >= level_rank(min_level))
    if task_run_id is not None:
        query = query.where(LogRow.task_run_id == task_run_id)
    return query


def execution_logs(tenant: str, execution_id: str, min_level: str | None = None,
                   task_run_id: str | None = None, *, after_id: int | None = None,
                   limit: int | None = None, with_id: bool = False) -> list[dict]:
    """The logs of an execution in insertion order, at `min_level` or above.

    Paging: `after_id` (the "id" of the last line already shown) and `limit`; with either
    (or `with_id`) every dict carries its "id" for the next call."""
    query = _execution_lines(tenant, execution_id, min_level, task_run_id)
    if after_id is not None:
        query = query.where(LogRow.id > int(after_id))
    query = query.order_by(LogRow.id)
    if limit is not None:
        query = query.limit(max(0, int(limit)))
    keep_id = with_id or after_id is not None or limit is not None
    return [_shape_with_id(row) if keep_id else _shape(row[:-1]) for row in query.tuples()]


def last_execution_logs(tenant: str, execution_id: str, min_level: str | None = None,
                        task_run_id: str | None = None, *, before_id: int | None = None,
                        limit: int = 500) -> tuple[list[dict], bool]:
    """The last `limit` lines of an execution (before the line `before_id`), in insertion
    order, each with its "id"; and whether earlier lines exist."""
    query = _execution_lines(tenant, execution_id, min_level, task_run_id)
    if before_id is not None:
        query = query.where(LogRow.id < int(before_id))
    rows = list(query.order_by(LogRow.id.desc()).limit(limit + 1).tuples())
    more = len(rows) > limit
    return [_shape_with_id(row) for row in reversed(rows[:limit])], more


def count_execution_logs(tenant: str, execution_id: str, min_level: str | None = None,
                         task_run_id: str | None = None) -> int:
    """How many log lines `execution_logs` would return (without paging)."""
    query = LogRow.select().where(LogRow.tenant == tenant, LogRow.execution_id == execution_id)
    if min_level is not None:
        query = query.where(LogRow.level_rank >= level_rank(min_level))
    if task_run_id is not None:
        query = query.where(LogRow.task_run_id == task_run_id)
    return query.count()


def _shape_with_id(row: tuple) -> dict:
    shaped = _shape(row[:-1])
    shaped["id"] = row[-1]
    return shaped


def _matching(tenant: str, filters):
    """The log rows matching `filters` (namespace prefix, flow, execution, min level,
    start/end on the timestamp, free words in the message or ids), and the SQLite index
    hint that reads them fastest."""
    from .search import contains, namespace_match
    query = LogRow.select(*_COLUMNS, LogRow.id).where(LogRow.tenant == tenant)
    if filters.namespace:
        query = query.where(namespace_match(LogRow.namespace, filters.namespace))
    if filters.flow_id:
        query = query.where(LogRow.flow_id == filters.flow_id)
    if filters.execution_id:
        query = query.where(LogRow.execution_id == filters.execution_id)
    if filters.min_level:
        query = query.where(LogRow.level_rank >= level_rank(filters.min_level))
    if filters.start is not None:
        query = query.where(LogRow.timestamp >= _micros(filters.start))
    if filters.end is not None:
        query = query.where(LogRow.timestamp <= _micros(filters.end))
    for word in filters.words:
        query = query.where(contains(LogRow.message, word)
                            | contains(LogRow.execution_id, word)
                            | contains(LogRow.task_id, word)
                            | contains(LogRow.flow_id, word))
    # SQLite: one execution's lines come from its index in id order; anything else walks
    # the table newest first (rowid order) and stops at the page (or the count's cap),
    # instead of sorting every line of a namespace or a flow
    hint = ('INDEXED BY "logs_tenant_execution_id_id"' if filters.execution_id
            else "NOT INDEXED")
    return query, hint


def search_logs(tenant: str, filters, *, page: int = 1, size: int = 100,
                after_id: int | None = None):
    """Logs matching `filters`, newest first (by insertion). Paging by `page` or keyset:
    `after_id` = the "id" of the last line shown (then lines older than it). Returns a
    SearchPage of log dicts, each with its "id"; the total is capped."""
    from .search import COUNT_CAP, SearchPage, paging
    page, size = paging(page, size, max_size=1000)
    query, hint = _matching(tenant, filters)
    counted = query.select(peewee.SQL("1")).order_by().limit(COUNT_CAP + 1)
    sql, params = counted.sql()
    total = _rows(f"SELECT COUNT(*) FROM ({_hinted(sql, hint)}) AS capped", params)[0][0]
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    if after_id is not None:
        query = query.where(LogRow.id < int(after_id))
        offset = 0
    else:
        offset = (page - 1) * size
    sql, params = query.order_by(LogRow.id.desc()).limit(size).offset(offset).sql()
    rows = _rows(_hinted(sql, hint), params)
    return SearchPage([_shape_with_id(tuple(row)) for row in rows], total, capped)


def newer_logs(tenant: str, filters, newer_than: int, *, limit: int = 100) -> list[dict]:
    """The lines matching `filters` written after the line `newer_than` (an "id"), oldest
    first, at most `limit` (live tail: no count, only the new rows are read)."""
    query, _ = _matching(tenant, filters)
    hint = ('INDEXED BY "logs_tenant_execution_id_id"' if filters.execution_id else "")
    query = query.where(LogRow.id > int(newer_than)).order_by(LogRow.id).limit(limit)
    sql, params = query.sql()
    return [_shape_with_id(tuple(row)) for row in _rows(_hinted(sql, hint), params)]


def _hinted(sql: str, hint: str) -> str:
    from .db import is_sqlite
    if not is_sqlite():
        return sql
    return sql.replace('FROM "logs" AS "t1"', f'FROM "logs" AS "t1" {hint}', 1)


def _rows(sql: str, params) -> list:
    from .db import database
    return database.execute_sql(sql, params).fetchall()


def delete_logs(tenant: str, execution_id: str) -> int:
    return (LogRow.delete()
            .where(LogRow.tenant == tenant, LogRow.execution_id == execution_id).execute())


def trigger_logs(tenant: str, namespace: str, flow_id: str, trigger_id: str | None = None,
                 *, limit: int = 50) -> list[dict]:
    """The latest log lines written about a flow's triggers (no execution), newest first."""
    query = (LogRow.select(*_COLUMNS)
             .where(LogRow.tenant == tenant, LogRow.namespace == namespace,
                    LogRow.flow_id == flow_id, LogRow.execution_id.is_null(),
                    LogRow.trigger_id.is_null(False))
             .order_by(LogRow.timestamp.desc(), LogRow.id.desc()).limit(limit))
    if trigger_id is not None:
        query = query.where(LogRow.trigger_id == trigger_id)
    return [_shape(row) for row in query.tuples()]
