"""Executions and their task runs, saved with compare-and-set on a version column.

An execution row holds `Execution.to_dict()` without the task runs (JSON) plus the columns
queries filter on; each task run is its own row holding `TaskRun.to_dict()`. Loading
remembers what each task-run row held (on the Execution, in `_stored_task_runs`), so a
save rewrites only the task runs that changed, inserts new ones and deletes those that
left the list.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import peewee

from ..errors import NotFound
from ..model.execution import Execution
from ..model.state import State
from .db import BaseModel, UTCDateTimeField, database, dumps, write_transaction

# What the store last wrote for each task run of an execution object:
# {task_run_id: (position, data_json, meta_json)}. None = unknown (then a save rewrites all
# task runs and deletes the rows of any task run not in the list).
_SNAPSHOT = "_stored_task_runs"
# Set on executions loaded without their task runs: saving one would delete them all.
_PARTIAL = "_loaded_without_task_runs"
# The labels the execution_labels table holds for an execution object (tuple of (key,
# value)); None = unknown (then a save rewrites them).
_LABELS = "_stored_labels"



class ExecutionRow(BaseModel):
    id = peewee.CharField(max_length=64, primary_key=True)
    namespace = peewee.CharField(max_length=255)
    flow_id = peewee.CharField(max_length=255)
    flow_revision = peewee.IntegerField()
    state = peewee.CharField(max_length=16)
    start_date = UTCDateTimeField()
    end_date = UTCDateTimeField(null=True)
    parent_id = peewee.CharField(max_length=64, null=True)
    trigger_execution_id = peewee.CharField(max_length=64, null=True)
    wake_at = UTCDateTimeField(null=True, index=True)
    # the labels (but system.*) as "\x1fkey\x1evalue\x1f...": label filters read them from
    # the list indexes; None when too long for an index entry (then labels are probed)
    label_text = peewee.TextField(null=True)
    version = peewee.IntegerField(default=1)
    data = peewee.TextField()
    meta = peewee.TextField(default="{}")

    class Meta:
        table_name = "executions"
        indexes = (
            (("tenant", "trigger_execution_id"), False),
            (("tenant", "parent_id"), False),
        )


# The list indexes (migration 3). Each holds every column a list filter reads, so a search
# is answered from one index and reads table rows only for the page it shows:
#   by date (the default order), by state (rare states), by namespace and flow.
BY_DATE = "ix_executions_date"
BY_STATE = "ix_executions_state"
BY_FLOW = "ix_executions_flow"
ExecutionRow.add_index(ExecutionRow.index(
    ExecutionRow.tenant, ExecutionRow.start_date, ExecutionRow.id, ExecutionRow.state,
    ExecutionRow.namespace, ExecutionRow.flow_id, ExecutionRow.trigger_execution_id,
    ExecutionRow.label_text, name=BY_DATE))
ExecutionRow.add_index(ExecutionRow.index(
    ExecutionRow.tenant, ExecutionRow.state, ExecutionRow.start_date, ExecutionRow.id,
    ExecutionRow.namespace, ExecutionRow.flow_id, ExecutionRow.trigger_execution_id,
    ExecutionRow.label_text, name=BY_STATE))
ExecutionRow.add_index(ExecutionRow.index(
    ExecutionRow.tenant, ExecutionRow.namespace, ExecutionRow.flow_id, ExecutionRow.state,
    ExecutionRow.start_date, ExecutionRow.id, ExecutionRow.trigger_execution_id,
    ExecutionRow.label_text, name=BY_FLOW))
# indexes of migration 1 that the ones above replace
REPLACED_INDEXES = ("executions_tenant_namespace_flow_id_state_start_date",
                    "executions_tenant_start_date")


class ExecutionLabelRow(BaseModel):
    """One label of an execution, so label filters use an index instead of scanning JSON.
    Kept right by insert_execution/save_execution (rewritten only when labels change)."""
    execution_id = peewee.CharField(max_length=64)
    key = peewee.TextField()
    value = peewee.TextField()
    start_date = UTCDateTimeField()     # the execution's (never changes): lists by label
                                        # walk this index in date order
    label_text = peewee.TextField(null=True)    # the execution's (see ExecutionRow)

    class Meta:
        table_name = "execution_labels"
        primary_key = False


BY_LABEL = "ix_execution_labels_label"
LABELS_OF = "ix_execution_labels_execution"
ExecutionLabelRow.add_index(ExecutionLabelRow.index(
    ExecutionLabelRow.tenant, ExecutionLabelRow.key, ExecutionLabelRow.value,
    ExecutionLabelRow.start_date, ExecutionLabelRow.execution_id,
    ExecutionLabelRow.label_text, name=BY_LABEL))
ExecutionLabelRow.add_index(ExecutionLabelRow.index(
    ExecutionLabelRow.execution_id, ExecutionLabelRow.key, ExecutionLabelRow.value,
    name=LABELS_OF))


class ExecutionFlowRow(BaseModel):
    """Every (namespace, flow id) that has executions: free text resolves to these (a few
    hundred rows) instead of scanning executions. Written once per new pair."""
    namespace = peewee.CharField(max_length=255)
    flow_id = peewee.CharField(max_length=255)

    class Meta:
        table_name = "execution_flows"
        primary_key = False
        indexes = ((("tenant", "namespace", "flow_id"), True),)


class TaskRunRow(BaseModel):
    id = peewee.CharField(max_length=64, primary_key=True)
    execution = peewee.ForeignKeyField(ExecutionRow, column_name="execution_id",
                                       on_delete="CASCADE", index=False)
    position = peewee.IntegerField()
    task_id = peewee.CharField(max_length=255)
    parent_task_run_id = peewee.CharField(max_length=64, null=True)
    value = peewee.TextField(null=True)
    state = peewee.CharField(max_length=16)
    data = peewee.TextField()
    meta = peewee.TextField(default="{}")

    class Meta:
        table_name = "task_runs"
        indexes = ((("execution", "position"), False),)


# -- writing ---------------------------------------------------------------------------
def _trigger_execution_id(execution: Execution) -> str | None:
    variables = (execution.trigger or {}).get("variables") or {}
    value = variables.get("executionId")
    return str(value) if value is not None else None


LABEL_TEXT_LIMIT = 512
_PAIR, _ITEM = "\x1e", "\x1f"


def label_text(labels) -> str | None:
    """The labels but system.* as one text the list indexes hold; None when too long."""
    pairs = sorted({(str(label.get("key")), "" if label.get("value") is None
                     else str(label["value"])) for label in labels or ()})
    items = [f"{key}{_PAIR}{value}" for key, value in pairs if not key.startswith("system.")]
    text = _ITEM + _ITEM.join(items) + _ITEM if items else ""
    return text if len(text) <= LABEL_TEXT_LIMIT else None


def label_item(key: str, value: str) -> str | None:
    """What label_text holds for key=value (None: a label it never holds)."""
    if key.startswith("system.") or any(c in key + value for c in (_PAIR, _ITEM)):
        return None
    return f"{_ITEM}{key}{_PAIR}{value}{_ITEM}"


def _execution_columns(execution: Execution, wake_at: datetime | None) -> tuple[dict, list]:
    """The execution row's columns and the task runs' REST dicts (computed once)."""
    data = execution.to_dict()
    task_run_dicts = data.pop("taskRunList")
    # `state.duration` of a running state moves with the clock; it is recomputed on load,
    # so it is not stored (a task run that did not change then serializes identically).
    data["state"].pop("duration", None)
    for task_run_data in task_run_dicts:
        task_run_data["state"].pop("duration", None)
        for attempt in task_run_data.get("attempts") or ():
            attempt["state"].pop("duration", None)
    columns = {
        "namespace": execution.namespace,
        "flow_id": execution.flow_id,
        "flow_revision": execution.flow_revision,
        "state": execution.state.current.value,
        "start_date": execution.state.start_date,
        "end_date": execution.state.end_date,
        "parent_id": execution.parent_id,
        "trigger_execution_id": _trigger_execution_id(execution),
        "wake_at": wake_at,
        "label_text": label_text(execution.labels),
        "data": dumps(data),
        "meta": dumps(execution.meta or {}),
    }
    return columns, task_run_dicts


def _task_run_snapshot(execution: Execution, task_run_dicts: list[dict]) -> dict:
    snapshot = {}
    for position, (task_run, data) in enumerate(zip(execution.task_runs, task_run_dicts)):
        snapshot[task_run.id] = (position, dumps(data), dumps(task_run.meta or {}))
    return snapshot


def _write_task_runs(tenant: str, execution: Execution, snapshot: dict,
                     previous: dict | None) -> None:
    changed = []
    for task_run in execution.task_runs:
        entry = snapshot[task_run.id]
        if previous is not None and previous.get(task_run.id) == entry:
            continue
        position, data, meta = entry
        changed.append({
            "tenant": tenant, "id": task_run.id, "execution": execution.id,
            "position": position, "task_id": task_run.task_id,
            "parent_task_run_id": task_run.parent_task_run_id, "value": task_run.value,
            "state": task_run.state.current.value, "data": data, "meta": meta,
        })
    if changed:
        (TaskRunRow.insert_many(changed)
         .on_conflict(conflict_target=[TaskRunRow.id],
                      preserve=[TaskRunRow.position, TaskRunRow.task_id,
                                TaskRunRow.parent_task_run_id, TaskRunRow.value,
                                TaskRunRow.state, TaskRunRow.data, TaskRunRow.meta])
         .execute())
    if previous is None:
        delete = TaskRunRow.delete().where(TaskRunRow.execution == execution.id)
        if snapshot:
            delete = delete.where(TaskRunRow.id.not_in(list(snapshot)))
        delete.execute()
    else:
        gone = [task_run_id for task_run_id in previous if task_run_id not in snapshot]
        if gone:
            TaskRunRow.delete().where(TaskRunRow.id.in_(gone)).execute()


def _label_pairs(execution: Execution) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for label in execution.labels or ():
        pair = (str(label.get("key")), "" if label.get("value") is None else str(label["value"]))
        if pair not in pairs:
            pairs.append(pair)
    return tuple(pairs)


def _write_labels(tenant: str, execution: Execution, *, fresh: bool) -> None:
    """Rewrite the execution's rows in execution_labels if its labels changed."""
    pairs = _label_pairs(execution)
    if not fresh and getattr(execution, _LABELS, None) == pairs:
        return
    if not fresh:
        ExecutionLabelRow.delete().where(ExecutionLabelRow.execution_id == execution.id).execute()
    if pairs:
        text = label_text(execution.labels)
        ExecutionLabelRow.insert_many(
            [{"tenant": tenant, "execution_id": execution.id, "key": key, "value": value,
              "start_date": execution.state.start_date, "label_text": text}
             for key, value in pairs]).execute()
    setattr(execution, _LABELS, pairs)


def insert_execution(tenant: str, execution: Execution, *,
                     wake_at: datetime | None = None) -> None:
    """Insert a new execution (and its task runs); sets `execution.version` to 1."""
    columns, task_run_dicts = _execution_columns(execution, wake_at)
    snapshot = _task_run_snapshot(execution, task_run_dicts)
    with write_transaction():
        ExecutionRow.insert(tenant=tenant, id=execution.id, version=1, **columns).execute()
        (ExecutionFlowRow.insert(tenant=tenant, namespace=execution.namespace,
                                 flow_id=execution.flow_id).on_conflict_ignore().execute())
        _write_task_runs(tenant, execution, snapshot, {})
        _write_labels(tenant, execution, fresh=True)
    execution.version = 1
    setattr(execution, _SNAPSHOT, snapshot)


def save_execution(tenant: str, execution: Execution, *, wake_at: datetime | None) -> bool:
    """Compare-and-set: write the execution only if its row still has `execution.version`.

    Returns False (and writes nothing) when someone else saved it first: re-load and retry.
    On success writes the new, changed and removed task runs and increments
    `execution.version`. `wake_at` is the next date the scheduler must look at it (None:
    nothing to wake)."""
    if getattr(execution, _PARTIAL, False):
        raise ValueError(f"execution {execution.id} was loaded without its task runs "
                         "and cannot be saved")
    columns, task_run_dicts = _execution_columns(execution, wake_at)
    snapshot = _task_run_snapshot(execution, task_run_dicts)
    previous = getattr(execution, _SNAPSHOT, None)
    with write_transaction():
        updated = (ExecutionRow.update(version=ExecutionRow.version + 1, **columns)
                   .where(ExecutionRow.id == execution.id, ExecutionRow.tenant == tenant,
                          ExecutionRow.version == execution.version)
                   .execute())
        if updated != 1:
            return False
        _write_task_runs(tenant, execution, snapshot, previous)
        _write_labels(tenant, execution, fresh=False)
    execution.version += 1
    setattr(execution, _SNAPSHOT, snapshot)
    return True


def delete_execution(tenant: str, execution_id: str) -> bool:
    """Delete an execution and its task runs (logs stay: see logs.delete_logs)."""
    with write_transaction():
        TaskRunRow.delete().where(TaskRunRow.execution == execution_id,
                                  TaskRunRow.tenant == tenant).execute()
        ExecutionLabelRow.delete().where(ExecutionLabelRow.execution_id == execution_id,
                                         ExecutionLabelRow.tenant == tenant).execute()
        deleted = ExecutionRow.delete().where(ExecutionRow.id == execution_id,
                                              ExecutionRow.tenant == tenant).execute()
    return deleted > 0


# -- reading ---------------------------------------------------------------------------
_EXECUTION_COLUMNS = (ExecutionRow.id, ExecutionRow.version, ExecutionRow.data,
                      ExecutionRow.meta)


def _build(row: tuple, task_run_rows: list[tuple] | None) -> Execution:
    execution_id, version, data_json, meta_json = row
    data = json.loads(data_json)
    if task_run_rows is None:
        data["taskRunList"] = []
        execution = Execution.from_dict(data, version=version, meta=json.loads(meta_json))
        setattr(execution, _PARTIAL, True)
        return execution
    data["taskRunList"] = [json.loads(tr[2]) for tr in task_run_rows]
    task_run_meta = {tr[0]: json.loads(tr[3]) for tr in task_run_rows}
    execution = Execution.from_dict(data, version=version, meta=json.loads(meta_json),
                                    task_run_meta=task_run_meta)
    setattr(execution, _SNAPSHOT,
            {tr[0]: (tr[1], tr[2], tr[3]) for tr in task_run_rows})
    setattr(execution, _LABELS, _label_pairs(execution))
    return execution


def _task_run_rows(execution_ids: list[str]) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {execution_id: [] for execution_id in execution_ids}
    if not execution_ids:
        return rows
    query = (TaskRunRow.select(TaskRunRow.execution, TaskRunRow.id, TaskRunRow.position,
                               TaskRunRow.data, TaskRunRow.meta)
             .where(TaskRunRow.execution.in_(execution_ids))
             .order_by(TaskRunRow.execution, TaskRunRow.position).tuples())
    for execution_id, task_run_id, position, data, meta in query:
        rows[execution_id].append((task_run_id, position, data, meta))
    return rows


def load_execution(tenant: str, execution_id: str) -> Execution:
    """The stored execution with its task runs in creation order. Raises errors.NotFound."""
    with database.atomic():   # one consistent snapshot of the row and its task runs
        row = (ExecutionRow.select(*_EXECUTION_COLUMNS)
               .where(ExecutionRow.id == execution_id, ExecutionRow.tenant == tenant)
               .tuples().first())
        if row is None:
            raise NotFound(f"execution {execution_id} not found")
        task_runs = _task_run_rows([execution_id])[execution_id]
    return _build(row, task_runs)


def find_execution(tenant: str, execution_id: str) -> Execution | None:
    """Like load_execution, None when missing."""
    try:
        return load_execution(tenant, execution_id)
    except NotFound:
        return None


def _load_many(query: peewee.Query, with_task_runs: bool) -> list[Execution]:
    rows = list(query.select(*_EXECUTION_COLUMNS).tuples())
    if not with_task_runs:
        return [_build(row, None) for row in rows]
    task_runs = _task_run_rows([row[0] for row in rows])
    return [_build(row, task_runs[row[0]]) for row in rows]


def _states(states: Iterable[State | str] | None) -> list[str] | None:
    if states is None:
        return None
    return [State(s).value for s in states]


def search_executions(tenant: str, namespace: str | None = None, flow_id: str | None = None,
                      states: Iterable[State | str] | None = None, limit: int = 100,
                      *, with_task_runs: bool = True,
                      oldest_first: bool = False) -> list[Execution]:
    """Executions, newest first (or oldest first). Without task runs, the results cannot be
    saved."""
    query = ExecutionRow.select().where(ExecutionRow.tenant == tenant)
    if namespace is not None:
        query = query.where(ExecutionRow.namespace == namespace)
    if flow_id is not None:
        query = query.where(ExecutionRow.flow_id == flow_id)
    state_values = _states(states)
    if state_values is not None:
        query = query.where(ExecutionRow.state.in_(state_values))
    order = ExecutionRow.start_date if oldest_first else ExecutionRow.start_date.desc()
    query = query.order_by(order, ExecutionRow.id).limit(limit)
    return _load_many(query, with_task_runs)


def count_executions(tenant: str, namespace: str, flow_id: str,
                     states: Iterable[State | str]) -> int:
    """How many executions of the flow are in one of `states` (flow concurrency)."""
    return (ExecutionRow.select()
            .where(ExecutionRow.tenant == tenant, ExecutionRow.namespace == namespace,
                   ExecutionRow.flow_id == flow_id,
                   ExecutionRow.state.in_(_states(states)))
            .count())


def oldest_execution(tenant: str, namespace: str, flow_id: str,
                     state: State | str) -> Execution | None:
    """The execution of the flow in `state` with the earliest start date (e.g. QUEUED)."""
    query = (ExecutionRow.select()
             .where(ExecutionRow.tenant == tenant, ExecutionRow.namespace == namespace,
                    ExecutionRow.flow_id == flow_id,
                    ExecutionRow.state == State(state).value)
             .order_by(ExecutionRow.start_date, ExecutionRow.id).limit(1))
    found = _load_many(query, True)
    return found[0] if found else None


def children_of(tenant: str, execution_id: str) -> list[Execution]:
    """Executions created by a Subflow task of `execution_id` (trigger.variables.executionId),
    oldest first."""
    query = (ExecutionRow.select()
             .where(ExecutionRow.tenant == tenant,
                    ExecutionRow.trigger_execution_id == execution_id)
             .order_by(ExecutionRow.start_date, ExecutionRow.id))
    return _load_many(query, True)


def due_executions(now: datetime, limit: int = 100) -> list[tuple[str, str]]:
    """(tenant, id) of executions whose wake_at is due, earliest first, across tenants."""
    query = (ExecutionRow.select(ExecutionRow.tenant, ExecutionRow.id)
             .where(ExecutionRow.wake_at <= now)
             .order_by(ExecutionRow.wake_at).limit(limit).tuples())
    return list(query)


def next_wake_at() -> datetime | None:
    """The earliest wake_at of all executions (None when nothing is waiting for a date)."""
    row = (ExecutionRow.select(ExecutionRow.wake_at).where(ExecutionRow.wake_at.is_null(False))
           .order_by(ExecutionRow.wake_at).limit(1).first())
    return row.wake_at if row else None


def unfinished_executions(limit: int = 500) -> list[Execution]:
    """Executions of every tenant that are not terminated (for the scheduler's watchdog)."""
    running = [State.CREATED, State.RESTARTED, State.QUEUED, State.RUNNING, State.KILLING,
               State.RETRYING]
    query = (ExecutionRow.select().where(ExecutionRow.state.in_(_states(running)))
             .order_by(ExecutionRow.start_date).limit(limit))
    return _load_many(query, True)


# -- search (list pages, API) ------------------------------------------------------------
# A search is planned here rather than left to the database's planner, because SQLite has
# no value statistics (it cannot tell a rare state from a common one) and a wrong guess
# costs a scan of 100,000 rows:
#   1. Each filter that has an index of its own (trigger, child, labels, namespace/flow/
#      scope, states, dates, free text) is counted on that index alone, stopping at
#      SELECTIVE rows: a cheap estimate.
#   2. The smallest one under SELECTIVE drives: its rows are read, the other filters
#      applied from the same index (every list index holds every filtered column), the
#      matches sorted by date. At most SELECTIVE rows are read.
#   3. Otherwise nothing is rare: the page walks an index in date order (the label index
#      when only labels and dates are filtered, else the date index) and stops at the
#      page's last row; the count walks the smallest filter's index (re-estimated up to
#      COUNT_CAP) and stops at COUNT_CAP matches.
#   4. When the count finds few matches after all, the page reads them by the count's path.
# PostgreSQL gets the same SQL without index hints, and in case 3 its own planner (it has
# statistics) but for a label walk and a flow id's (namespace, flow) seeks.
SELECTIVE = 2000
_SORTS = {
    "start_date": "start_date", "state.startDate": "start_date", "startDate": "start_date",
    "end_date": "end_date", "state.endDate": "end_date", "endDate": "end_date",
    "namespace": "namespace", "flow_id": "flow_id", "flowId": "flow_id",
    "state": "state", "state.current": "state", "id": "id",
    "duration": "duration", "state.duration": "duration",
}
_PRIMARY_KEY = "sqlite_autoindex_executions_1"
_BY_TRIGGER = "executions_tenant_trigger_execution_id"


class _Where:
    """SQL conditions with their parameters (`?` marks; PostgreSQL's are swapped in)."""

    def __init__(self):
        self.parts: list[str] = []
        self.params: list = []

    def add(self, sql: str, *params) -> None:
        self.parts.append(sql)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "1 = 1"


@dataclass
class _Word:
    """A free word: it matches an execution whose namespace or flow id contains it (any
    case) or whose id starts with it. `pairs`: the (namespace, flow id) it matches."""
    text: str
    namespaces: list[str]
    flows: list[str]
    pairs: list[tuple[str, str]]
    ids: bool = True            # may some execution id start with it?


@dataclass
class _Driver:
    """Where a search starts: an index and the filter it answers alone."""
    name: str
    index: str | None           # executions index (None: the label index)
    label: int | None = None    # the label (position in filters.labels) that drives
    word: _Word | None = None   # the free word that drives
    estimate: int = 0


def _marks(count: int) -> str:
    return ", ".join(["?"] * count)


def _namespace_sql(column: str, namespace: str) -> tuple[str, list]:
    """The namespace or its children: one index range [ns, ns + "/") (which holds ns,
    ns + "." children, and ns + "-...", left out by the last test)."""
    from .search import byte_order
    if byte_order():
        return (f"({column} >= ? AND {column} < ? AND ({column} = ? OR {column} >= ?))",
                [namespace, namespace + "/", namespace, namespace + "."])
    escaped = namespace.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"({column} = ? OR {column} LIKE ? ESCAPE '\\')", [namespace, escaped + ".%"]


def _date(value: datetime) -> datetime:
    return ExecutionRow.start_date.db_value(value)


def _date_range(where: _Where, filters, alias: str) -> None:
    if filters.start is not None:
        where.add(f"{alias}.start_date >= ?", _date(filters.start))
    if filters.end is not None:
        where.add(f"{alias}.start_date <= ?", _date(filters.end))


def _id_range(word: str) -> list[str]:
    return [word, word[:-1] + chr(ord(word[-1]) + 1)]


def _run(sql: str, params: list) -> list[tuple]:
    from .db import is_sqlite
    if not is_sqlite():
        sql = sql.replace("?", "%s")
    return database.execute_sql(sql, params).fetchall()


def _no_jit() -> None:
    """PostgreSQL compiles a query whose estimated cost is high (a capped count over many
    rows looks costly) with JIT: 5-20 ms per run, more than the query. Off for this
    transaction."""
    from .db import is_sqlite
    if not is_sqlite():
        database.execute_sql("SET LOCAL jit = off")


def _hint(index: str | None) -> str:
    """`INDEXED BY` for SQLite; PostgreSQL plans by itself."""
    from .db import is_sqlite
    return f" INDEXED BY {index}" if index and is_sqlite() else ""


def _words(tenant: str, filters) -> list[_Word]:
    if not filters.words:
        return []
    pairs = _pairs(tenant)
    words = []
    for text in filters.words:
        lowered = text.lower()
        matched = [(ns, flow) for ns, flow in pairs
                   if lowered in ns.lower() or lowered in flow.lower()]
        words.append(_Word(text, sorted({ns for ns, flow in matched if lowered in ns.lower()}),
                           sorted({flow for ns, flow in matched if lowered in flow.lower()}),
                           matched))
    return words


def _text_sql(word: _Word) -> tuple[str, list]:
    options, params = [], []
    if word.namespaces:
        options.append(f"e.namespace IN ({_marks(len(word.namespaces))})")
        params.extend(word.namespaces)
    if word.flows:
        options.append(f"e.flow_id IN ({_marks(len(word.flows))})")
        params.extend(word.flows)
    if word.ids:
        options.append("(e.id >= ? AND e.id < ?)")
        params.extend(_id_range(word.text))
    return "(" + (" OR ".join(options) or "1 = 0") + ")", params


def _label_sql(key: str, value: str, id_column: str) -> tuple[str, list]:
    """Has the execution the label: read from label_text (in every list index), or probed
    in execution_labels for system labels and executions whose label_text is too long."""
    from .db import is_sqlite
    probe = (f"EXISTS (SELECT 1 FROM execution_labels x{_hint(LABELS_OF)}"
             f" WHERE x.execution_id = {id_column} AND x.key = ? AND x.value = ?)")
    item = label_item(key, value)
    if item is None:
        return probe, [key, value]
    text = id_column.split(".")[0] + ".label_text"
    find = "instr" if is_sqlite() else "strpos"
    return (f"({find}({text}, ?) > 0 OR ({text} IS NULL AND {probe}))",
            [item, key, value])


def _row_filters(filters, words) -> bool:
    """Do the filters read columns of the execution row (beyond labels and dates)?"""
    return bool(filters.states or filters.namespace or filters.flow_id or filters.scope
                or filters.child or filters.trigger_execution_id or words)


def _conditions(tenant: str, filters, words, *, skip_label: int | None = None,
                id_column: str = "e.id", implied: frozenset = frozenset()) -> _Where:
    """Every filter as conditions on `e` (labels as probes of the execution's labels),
    but those `implied` by the driver's seek ("tenant", "namespace", "scope", "flow",
    "states", "dates", "trigger", "child", "word:<text>"), label number `skip_label` and
    the dates when that label drives the query (its index holds the dates). Each condition
    left is evaluated on every index entry walked: the fewer, the faster."""
    where = _Where()
    if id_column == "e.id" and "tenant" not in implied:
        where.add("e.tenant = ?", tenant)
    if filters.states and "states" not in implied:
        where.add(f"e.state IN ({_marks(len(filters.states))})", *filters.states)
    if filters.namespace and "namespace" not in implied:
        sql, params = _namespace_sql("e.namespace", filters.namespace)
        where.add(sql, *params)
    if filters.flow_id and "flow" not in implied:
        where.add("e.flow_id = ?", filters.flow_id)
    if skip_label is None and "dates" not in implied:
        _date_range(where, filters, "e")
    if filters.scope in ("SYSTEM", "USER") and "scope" not in implied:
        sql, params = _namespace_sql("e.namespace", "system")
        where.add(sql if filters.scope == "SYSTEM" else f"NOT {sql}", *params)
    if "child" not in implied:
        if filters.child == "CHILD":
            where.add("e.trigger_execution_id IS NOT NULL")
        elif filters.child == "MAIN":
            where.add("e.trigger_execution_id IS NULL")
    if filters.trigger_execution_id and "trigger" not in implied:
        where.add("e.trigger_execution_id = ?", filters.trigger_execution_id)
    for index, (key, value) in enumerate(filters.labels):
        if index != skip_label:
            sql, params = _label_sql(key, value, id_column)
            where.add(sql, *params)
    for word in words:
        if f"word:{word.text}" not in implied:
            sql, params = _text_sql(word)
            where.add(sql, *params)
    return where


def _implied(filters, driver: _Driver) -> frozenset:
    """The filters a driver's seek (see _seek) applies exactly."""
    implied = {"tenant"}
    if driver.name == "trigger":
        implied |= {"trigger"} if filters.trigger_execution_id else {"child"}
    elif driver.name == "flow":
        if filters.flow_id:
            implied |= {"namespace", "scope", "flow"}
        else:
            implied |= {"namespace"} if filters.namespace else {"scope"}
    elif driver.name == "state":
        implied |= {"states", "dates"}
    elif driver.name == "date":
        implied |= {"dates"}
    elif driver.name == "id":
        implied |= {f"word:{driver.word.text}"}
    return frozenset(implied)


# -- drivers --
def _candidates(tenant: str, filters, words) -> list[_Driver]:
    drivers: list[_Driver] = []
    if filters.trigger_execution_id or filters.child == "CHILD":
        drivers.append(_Driver("trigger", _BY_TRIGGER))
    for index, _ in enumerate(filters.labels):
        drivers.append(_Driver("label", None, label=index))
    if filters.namespace or filters.flow_id or filters.scope == "SYSTEM":
        drivers.append(_Driver("flow", BY_FLOW))
    if filters.states:
        drivers.append(_Driver("state", BY_STATE))
    if filters.start is not None or filters.end is not None:
        drivers.append(_Driver("date", BY_DATE))
    for word in words:
        word.ids = bool(_run(f"SELECT 1 FROM executions e{_hint(_PRIMARY_KEY)}"
                             " WHERE e.id >= ? AND e.id < ? LIMIT 1", _id_range(word.text)))
        if not word.pairs:              # only ids can match it
            drivers.append(_Driver("id", _PRIMARY_KEY, word=word))
        elif not word.ids:              # only namespaces/flows: seek them
            drivers.append(_Driver("text", BY_FLOW, word=word))
    return drivers


def _seek(tenant: str, filters, driver: _Driver) -> _Where:
    """Conditions that let the driver's index seek (the driver's own filter, reshaped)."""
    where = _Where()
    where.add("e.tenant = ?", tenant)
    if driver.name == "trigger":
        if filters.trigger_execution_id:
            where.add("e.trigger_execution_id = ?", filters.trigger_execution_id)
        else:
            where.add("e.trigger_execution_id IS NOT NULL")
    elif driver.name == "flow":
        if filters.flow_id:     # one seek per namespace holding the flow
            namespaces = [ns for ns in _namespaces_of_flow(tenant, filters.flow_id)
                          if _namespace_matches(ns, filters)]
            where.add(f"e.namespace IN ({_marks(len(namespaces))})" if namespaces
                      else "1 = 0", *namespaces)
            where.add("e.flow_id = ?", filters.flow_id)
        else:
            namespace = filters.namespace or "system"      # else scope:SYSTEM
            sql, params = _namespace_sql("e.namespace", namespace)
            where.add(sql, *params)
    elif driver.name == "state":
        where.add(f"e.state IN ({_marks(len(filters.states))})", *filters.states)
        _date_range(where, filters, "e")
    elif driver.name == "date":
        _date_range(where, filters, "e")
    elif driver.name == "id":
        where.add("e.id >= ? AND e.id < ?", *_id_range(driver.word.text))
    elif driver.name == "text":
        namespaces = sorted({ns for ns, _ in driver.word.pairs})
        flows = sorted({flow for _, flow in driver.word.pairs})
        where.add(f"e.namespace IN ({_marks(len(namespaces))})", *namespaces)
        where.add(f"e.flow_id IN ({_marks(len(flows))})", *flows)
    return where


def _namespace_matches(namespace: str, filters) -> bool:
    def under(parent: str) -> bool:
        return namespace == parent or namespace.startswith(parent + ".")
    if filters.namespace and not under(filters.namespace):
        return False
    if filters.scope == "SYSTEM":
        return under("system")
    if filters.scope == "USER":
        return not under("system")
    return True


def _label_where(tenant: str, filters, driver: _Driver) -> _Where:
    key, value = filters.labels[driver.label]
    where = _Where()
    where.add("l.tenant = ? AND l.key = ? AND l.value = ?", tenant, key, value)
    _date_range(where, filters, "l")
    return where


def _estimate(tenant: str, filters, drivers: list[_Driver], cap: int) -> None:
    """Set each driver's estimate: how many rows its own filter matches, counting at most
    cap + 1 (one statement for all)."""
    columns, params = [], []
    for number, driver in enumerate(drivers):
        if driver.label is not None:
            where = _label_where(tenant, filters, driver)
            inner = f"SELECT 1 FROM execution_labels l{_hint(BY_LABEL)} WHERE {where.sql()}"
        else:
            where = _seek(tenant, filters, driver)
            inner = f"SELECT 1 FROM executions e{_hint(driver.index)} WHERE {where.sql()}"
        columns.append(f"(SELECT COUNT(*) FROM ({inner} LIMIT {cap + 1}) AS est{number})")
        params.extend(where.params)
    row = _run("SELECT " + ", ".join(columns), params)[0]
    for driver, estimate in zip(drivers, row):
        driver.estimate = int(estimate)


class _PairsCache(threading.local):
    """One search's (namespace, flow id) pairs (read once per search, per thread)."""
    pairs: dict

    def __init__(self):
        self.pairs = {}

    def clear(self) -> None:
        self.pairs = {}


_pairs_cache = _PairsCache()


def _pairs(tenant: str) -> list[tuple[str, str]]:
    from .search import namespace_flow_pairs
    if tenant not in _pairs_cache.pairs:
        _pairs_cache.pairs[tenant] = namespace_flow_pairs(tenant)
    return _pairs_cache.pairs[tenant]


def _namespaces_of_flow(tenant: str, flow_id: str) -> list[str]:
    """The namespaces holding executions of `flow_id`: with them a flow id alone seeks the
    flow index once per namespace."""
    return sorted({ns for ns, flow in _pairs(tenant) if flow == flow_id})


ROW_SEEK = 6    # a label-driven walk that must read the execution's index entry costs ~6x


def _plan(tenant: str, filters, words) -> tuple[_Driver | None, _Driver | None]:
    """(driver of the page query, driver of the count); None = the date index."""
    from .search import COUNT_CAP
    drivers = _candidates(tenant, filters, words)
    if not drivers:
        return None, None
    _estimate(tenant, filters, drivers, SELECTIVE)
    smallest = min(drivers, key=lambda d: d.estimate)
    if smallest.estimate <= SELECTIVE:
        return smallest, smallest
    row_filters = _row_filters(filters, words)
    labels = [d for d in drivers if d.label is not None]
    from .db import is_sqlite
    if not is_sqlite():
        # nothing rare: PostgreSQL's statistics choose the paths; only the shapes its
        # planner gets wrong are given: a label walk (its label join estimates are far
        # off) and a flow id alone as (namespace, flow) seeks
        ordered = min(labels, key=lambda d: d.estimate) if labels and not row_filters else None
        flows = [d for d in drivers if d.name == "flow" and filters.flow_id]
        return ordered, ordered or (flows[0] if flows else None)

    def cost(driver: _Driver) -> int:
        return driver.estimate * (ROW_SEEK if driver.label is not None and row_filters else 1)

    if len(drivers) > 1:        # nothing rare: which one is the smallest, up to the cap?
        _estimate(tenant, filters, drivers, COUNT_CAP)
    counting = min(drivers, key=cost)
    # the page walks in date order: a label's index when it needs nothing else (other
    # labels and dates are in it), else the date index (every other filter is in it)
    ordered = min(labels, key=lambda d: d.estimate) if labels and not row_filters else None
    return ordered, counting


def _from(tenant: str, filters, words, driver: _Driver | None, *,
          for_count: bool = False) -> tuple[str, list]:
    """FROM ... WHERE ... of the search, starting at `driver` (None: the date index)."""
    from .db import is_sqlite
    if driver is not None and driver.label is not None:
        label = _label_where(tenant, filters, driver)
        if for_count and not _row_filters(filters, words):
            where = _conditions(tenant, filters, words, skip_label=driver.label,
                                id_column="l.execution_id")
            return (f"FROM execution_labels l{_hint(BY_LABEL)} WHERE {label.sql()}"
                    f" AND {where.sql()}", label.params + where.params)
        where = _conditions(tenant, filters, words, skip_label=driver.label)
        if is_sqlite():
            # the covering date index is sought by (tenant, start_date, id); CROSS JOIN
            # keeps the label index outside; `+` stops SQLite from copying the label's
            # date range onto e (it would range-scan e instead of seeking it)
            join = (f"CROSS JOIN executions e{_hint(BY_DATE)} ON e.tenant = l.tenant"
                    " AND e.start_date = +l.start_date AND e.id = l.execution_id")
        else:   # by primary key (three join columns make PostgreSQL expect one row)
            join = "JOIN executions e ON e.id = l.execution_id"
        return (f"FROM execution_labels l{_hint(BY_LABEL)} {join}"
                f" WHERE {label.sql()} AND {where.sql()}", label.params + where.params)
    if driver is None:
        where = _conditions(tenant, filters, words)
        return f"FROM executions e{_hint(BY_DATE)} WHERE {where.sql()}", where.params
    seek = _seek(tenant, filters, driver)
    where = _conditions(tenant, filters, words, implied=_implied(filters, driver))
    return (f"FROM executions e{_hint(driver.index)} WHERE {seek.sql()} AND {where.sql()}",
            seek.params + where.params)


def _order_sql(sort: str | None, driver: _Driver | None) -> tuple[str, bool]:
    """ORDER BY for `sort`; second value: is it the date order the plans are made for."""
    field, _, direction = (sort or "start_date:desc").partition(":")
    column_name = _SORTS.get(field)
    if column_name is None:
        from ..errors import InvalidInput
        raise InvalidInput(f"cannot sort executions by {field!r}; expected one of "
                           f"{', '.join(sorted(set(_SORTS)))}")
    way = "ASC" if direction.lower() == "asc" else "DESC"
    if column_name == "start_date":
        if driver is not None and driver.label is not None:
            return f"l.start_date {way}, l.execution_id {way}", True
        return f"e.start_date {way}, e.id {way}", True
    if column_name == "id":
        return f"e.id {way}", False
    if column_name == "duration":
        from .db import is_sqlite
        column = ("(julianday(COALESCE(e.end_date, CURRENT_TIMESTAMP))"
                  " - julianday(e.start_date))" if is_sqlite() else
                  "(COALESCE(e.end_date, (now() AT TIME ZONE 'utc')) - e.start_date)")
    else:
        column = f"e.{column_name}"
    return f"{column} {way}, e.id {way}", False


def search(tenant: str, filters, *, page: int = 1, size: int = 25,
           sort: str = "start_date:desc"):
    """One page of the executions matching `filters` (model.filters.Filters), newest first
    by default, WITHOUT their task runs (read-only objects), and the capped total.

    Free text: each word must be in the namespace or the flow id (any case), or start the
    execution id."""
    from .search import COUNT_CAP, SearchPage, paging
    page, size = paging(page, size)
    _pairs_cache.clear()
    with database.atomic():     # one snapshot for the plan, the count and the page
        _no_jit()
        words = _words(tenant, filters)
        page_driver, count_driver = _plan(tenant, filters, words)
        order, by_date = _order_sql(sort, page_driver)
        if not by_date:         # another order: the whole match is sorted anyway
            page_driver = count_driver = None
        count_from, count_params = _from(tenant, filters, words, count_driver,
                                         for_count=True)
        total = int(_run(f"SELECT COUNT(*) FROM (SELECT 1 {count_from}"
                         f" LIMIT {COUNT_CAP + 1}) AS capped", count_params)[0][0])
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
        if total == 0 or ((page - 1) * size >= total and not capped):
            return SearchPage([], total, capped)
        if total <= SELECTIVE and count_driver is not None and by_date:
            # few matches after all (the filters together are rare): walking in date
            # order would read far; the count's path reads them all, then sorts them
            page_driver = count_driver
            order, _ = _order_sql(sort, page_driver)
        page_from, page_params = _from(tenant, filters, words, page_driver)
        rows = _run(f"SELECT e.id, e.version, e.data, e.meta {page_from} ORDER BY {order}"
                    f" LIMIT {int(size)} OFFSET {int((page - 1) * size)}", page_params)
    _pairs_cache.clear()
    return SearchPage([_build(tuple(row), None) for row in rows], total, capped)


def histogram(tenant: str, filters, *, buckets: int = 30,
              now: datetime | None = None) -> list[tuple[datetime, str, int]]:
    """Executions matching `filters` counted per time bucket and state: (bucket start,
    state, count), oldest bucket first. The span is filters.start (or the first matching
    execution) to filters.end (or now), cut into `buckets` equal buckets."""
    from datetime import timedelta, timezone
    from .db import is_sqlite
    now = now or datetime.now(timezone.utc)
    with database.atomic():
        _no_jit()
        words = _words(tenant, filters)
        where = _conditions(tenant, filters, words)
        end = filters.end or now
        start = filters.start
        if start is None:
            first = _run(f"SELECT e.start_date FROM executions e{_hint(BY_DATE)}"
                         f" WHERE {where.sql()} ORDER BY e.start_date LIMIT 1", where.params)
            if not first:
                return []
            first = first[0][0]
            if isinstance(first, str):
                first = datetime.fromisoformat(first)
            start = first if first.tzinfo else first.replace(tzinfo=timezone.utc)
        if start >= end:
            end = start + timedelta(seconds=1)
        buckets = max(1, int(buckets))
        width = max(1, -(-int((end - start).total_seconds()) // buckets))
        origin = int(start.timestamp())
        if is_sqlite():
            index = f"((CAST(strftime('%s', e.start_date) AS INTEGER) - {origin}) / {width})"
        else:
            index = (f"CAST(FLOOR((EXTRACT(EPOCH FROM e.start_date) - {origin}) / {width})"
                     " AS INTEGER)")
        bounds = _Where()
        if filters.start is None:
            bounds.add("e.start_date >= ?", _date(start))
        if filters.end is None:
            bounds.add("e.start_date <= ?", _date(end))
        rows = _run(f"SELECT {index} AS bucket, e.state, COUNT(*)"
                    f" FROM executions e{_hint(BY_DATE)} WHERE {where.sql()} AND {bounds.sql()}"
                    " GROUP BY 1, 2", where.params + bounds.params)
    counts: dict[tuple[int, str], int] = {}
    for bucket, state, count in rows:
        bucket = min(max(int(bucket), 0), buckets - 1)
        counts[(bucket, state)] = counts.get((bucket, state), 0) + int(count)
    return [(datetime.fromtimestamp(origin + bucket * width, timezone.utc), state, count)
            for (bucket, state), count in sorted(counts.items())]


def backfill_flows() -> None:
    """Fill execution_flows from the stored executions (migration 3)."""
    database.execute_sql(
        "INSERT INTO execution_flows (tenant, namespace, flow_id)"
        " SELECT DISTINCT tenant, namespace, flow_id FROM executions WHERE 1 = 1"
        " ON CONFLICT DO NOTHING")


def backfill_labels(batch: int = 1000) -> int:
    """Fill execution_labels from the executions' stored labels (migration 3). Returns the
    number of label rows written."""
    written = 0
    last_id = ""
    while True:
        rows = list(ExecutionRow.select(ExecutionRow.tenant, ExecutionRow.id, ExecutionRow.data,
                                        ExecutionRow.start_date)
                    .where(ExecutionRow.id > last_id).order_by(ExecutionRow.id)
                    .limit(batch).tuples())
        if not rows:
            return written
        last_id = rows[-1][1]
        ids = [row[1] for row in rows]
        ExecutionLabelRow.delete().where(ExecutionLabelRow.execution_id.in_(ids)).execute()
        values = []
        for tenant, execution_id, data, start_date in rows:
            seen = set()
            labels = json.loads(data).get("labels") or ()
            text = label_text(labels)
            ExecutionRow.update(label_text=text).where(ExecutionRow.id == execution_id).execute()
            for label in labels:
                pair = (str(label.get("key")),
                        "" if label.get("value") is None else str(label["value"]))
                if pair not in seen:
                    seen.add(pair)
                    values.append({"tenant": tenant, "execution_id": execution_id,
                                   "key": pair[0], "value": pair[1],
                                   "start_date": start_date, "label_text": text})
        for start in range(0, len(values), 200):     # SQLite caps variables per statement
            ExecutionLabelRow.insert_many(values[start:start + 200]).execute()
        written += len(values)
