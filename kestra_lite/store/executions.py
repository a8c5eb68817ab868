"""Executions and their task runs, saved with compare-and-set on a version column.

An execution row holds `Execution.to_dict()` without the task runs (JSON) plus the columns
queries filter on; each task run is its own row holding `TaskRun.to_dict()`. Loading
remembers what each task-run row held (on the Execution, in `_stored_task_runs`), so a
save rewrites only the task runs that changed, inserts new ones and deletes those that
left the list.
"""
from __future__ import annotations

import json
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
# The state the row holds for an execution object (set on load, insert and save).
_STATE = "_stored_state"



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
    ExecutionRow.label_text, ExecutionRow.end_date, name=BY_FLOW))   # end_date: migration 5
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
    setattr(execution, _STATE, execution.current)


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
    setattr(execution, _STATE, execution.current)
    return True


def stored_state(execution: Execution):
    """The state the database held for this execution object when it was loaded or last
    written (None for an object the store never saw)."""
    return getattr(execution, _STATE, None)


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
    setattr(execution, _STATE, execution.current)
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


def execution_state(tenant: str, execution_id: str) -> State | None:
    """The current state of an execution (None: no such execution), one indexed read."""
    row = (ExecutionRow.select(ExecutionRow.state)
           .where(ExecutionRow.tenant == tenant, ExecutionRow.id == execution_id).first())
    return None if row is None else State(row.state)


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


def next_wake_at(after: datetime | None = None) -> datetime | None:
    """The earliest wake_at (later than `after` if given), across tenants; None when no
    execution waits for a date."""
    query = ExecutionRow.select(ExecutionRow.wake_at).where(ExecutionRow.wake_at.is_null(False))
    if after is not None:
        query = query.where(ExecutionRow.wake_at > after)
    row = query.order_by(ExecutionRow.wake_at).limit(1).first()
    return row.wake_at if row else None


def unfinished_executions(limit: int = 500) -> list[Execution]:
    """Executions of every tenant that are not terminated (for the scheduler's watchdog)."""
    running = [State.CREATED, State.RESTARTED, State.QUEUED, State.RUNNING, State.KILLING,
               State.RETRYING]
    query = (ExecutionRow.select().where(ExecutionRow.state.in_(_states(running)))
             .order_by(ExecutionRow.start_date).limit(limit))
    return _load_many(query, True)


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
