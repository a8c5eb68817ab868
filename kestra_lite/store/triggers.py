"""Triggers: one row per trigger of every flow, the precondition windows of Flow triggers,
and the outbox of execution state changes that Flow triggers listen to.

- `TriggerRow` mirrors a trigger of the latest flow revision (`definition` is its validated
  map) plus what the scheduler keeps about it: the schedule's next date, the last date that
  created an execution, the execution holding its lock, a backfill, the user's enable switch.
  `next_fire_at` (indexed) is when the scheduler must look at the row again: None while the
  trigger is locked, disabled, or not time driven. Every write bumps `version`, so the
  scheduler changes a row only if it is still what it read (compare-and-set).
- `FlowTriggerWindowRow` holds the OR-accumulated condition results of one precondition
  window.
- `TriggerEventRow` is written in the same transaction as an execution's state change; the
  process that saved the change evaluates Flow triggers right after and deletes the event,
  and the scheduler picks up events left behind by a process that died in between.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime

import peewee

from .db import BaseModel, JSONField, UTCDateTimeField, database, is_sqlite
from .search import contains, namespace_match


class TriggerRow(BaseModel):
    namespace = peewee.CharField(max_length=255)
    flow_id = peewee.CharField(max_length=255)
    trigger_id = peewee.CharField(max_length=255)
    kind = peewee.CharField(max_length=32)        # Schedule | Flow | Webhook | ScheduleOnDates
    revision = peewee.IntegerField()
    definition = JSONField(default=dict)
    source_disabled = peewee.BooleanField(default=False)   # flow or trigger disabled in YAML
    disabled = peewee.BooleanField(default=False)          # switched off in the UI or API
    next_fire_at = UTCDateTimeField(null=True, index=True)
    next_date = UTCDateTimeField(null=True)       # the live schedule's next date
    last_date = UTCDateTimeField(null=True)       # last date that created an execution
    execution_id = peewee.CharField(max_length=64, null=True)   # the lock holder
    backfill = JSONField(null=True)
    data = JSONField(default=dict)
    version = peewee.IntegerField(default=1)
    updated = UTCDateTimeField()

    class Meta:
        table_name = "triggers"
        indexes = ((("tenant", "namespace", "flow_id", "trigger_id"), True),
                   (("tenant", "kind"), False))


class FlowTriggerWindowRow(BaseModel):
    namespace = peewee.CharField(max_length=255)
    flow_id = peewee.CharField(max_length=255)
    precondition_id = peewee.CharField(max_length=255)
    window_start = UTCDateTimeField()
    window_end = UTCDateTimeField(index=True)
    results = JSONField(default=dict)

    class Meta:
        table_name = "flow_trigger_windows"
        indexes = ((("tenant", "namespace", "flow_id", "precondition_id", "window_start"),
                    True),)


class TriggerEventRow(BaseModel):
    id = peewee.BigAutoField()
    execution_id = peewee.CharField(max_length=64)
    state = peewee.CharField(max_length=16)
    created = UTCDateTimeField(index=True)

    class Meta:
        table_name = "trigger_events"


MODELS = [TriggerRow, FlowTriggerWindowRow, TriggerEventRow]


# -- trigger rows ------------------------------------------------------------------------------

@dataclass
class Trigger:
    tenant: str
    namespace: str
    flow_id: str
    trigger_id: str
    kind: str
    revision: int
    definition: dict
    source_disabled: bool = False
    disabled: bool = False
    next_fire_at: datetime | None = None
    next_date: datetime | None = None
    last_date: datetime | None = None
    execution_id: str | None = None
    backfill: dict | None = None
    data: dict = field(default_factory=dict)
    version: int = 1
    updated: datetime | None = None

    @property
    def enabled(self) -> bool:
        return not (self.disabled or self.source_disabled)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.namespace, self.flow_id, self.trigger_id


_COLUMNS = ("namespace", "flow_id", "trigger_id", "kind", "revision", "definition",
            "source_disabled", "disabled", "next_fire_at", "next_date", "last_date",
            "execution_id", "backfill", "data", "version", "updated")


def _trigger(row: TriggerRow) -> Trigger:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["data"] = values["data"] or {}
    return Trigger(tenant=row.tenant, **values)


def _where_key(tenant: str, namespace: str, flow_id: str, trigger_id: str | None = None):
    clauses = [TriggerRow.tenant == tenant, TriggerRow.namespace == namespace,
               TriggerRow.flow_id == flow_id]
    if trigger_id is not None:
        clauses.append(TriggerRow.trigger_id == trigger_id)
    return clauses


def get_trigger(tenant: str, namespace: str, flow_id: str, trigger_id: str, *,
                for_update: bool = False) -> Trigger | None:
    query = TriggerRow.select().where(*_where_key(tenant, namespace, flow_id, trigger_id))
    if for_update and not is_sqlite():
        query = query.for_update()
    row = query.first()
    return None if row is None else _trigger(row)


def flow_triggers(tenant: str, namespace: str, flow_id: str) -> list[Trigger]:
    query = (TriggerRow.select().where(*_where_key(tenant, namespace, flow_id))
             .order_by(TriggerRow.id))
    return [_trigger(row) for row in query]


def insert_trigger(trigger: Trigger) -> None:
    values = {name: getattr(trigger, name) for name in _COLUMNS}
    TriggerRow.insert(tenant=trigger.tenant, **values).execute()


def update_trigger(trigger: Trigger, now: datetime) -> bool:
    """Write every column if the row still has `trigger.version` (compare-and-set); the
    object gets the new version. False: someone changed it first."""
    values = {name: getattr(trigger, name) for name in _COLUMNS
              if name not in ("namespace", "flow_id", "trigger_id", "version", "updated")}
    count = (TriggerRow.update(version=TriggerRow.version + 1, updated=now, **values)
             .where(*_where_key(trigger.tenant, *trigger.key),
                    TriggerRow.version == trigger.version)
             .execute())
    if count:
        trigger.version += 1
        trigger.updated = now
    return count == 1


def delete_triggers(tenant: str, namespace: str, flow_id: str,
                    trigger_ids: list[str] | None = None) -> int:
    """Delete the given triggers of a flow (all of them when trigger_ids is None)."""
    query = TriggerRow.delete().where(*_where_key(tenant, namespace, flow_id))
    if trigger_ids is not None:
        if not trigger_ids:
            return 0
        query = query.where(TriggerRow.trigger_id.in_(trigger_ids))
    return query.execute()


def due_triggers(now: datetime, limit: int = 100) -> list[Trigger]:
    """Rows whose next_fire_at has come, earliest first, across tenants."""
    query = (TriggerRow.select().where(TriggerRow.next_fire_at <= now)
             .order_by(TriggerRow.next_fire_at).limit(limit))
    return [_trigger(row) for row in query]


def next_fire_at(after: datetime) -> datetime | None:
    """The earliest next_fire_at later than `after`, across tenants."""
    row = (TriggerRow.select(TriggerRow.next_fire_at)
           .where(TriggerRow.next_fire_at > after)
           .order_by(TriggerRow.next_fire_at).limit(1).first())
    return row.next_fire_at if row else None


@dataclass(frozen=True, eq=False)
class Listener:
    """An enabled Flow trigger as event evaluation reads it (no scheduler state). Its
    `definition` is parsed once per distinct stored text and shared by every event that
    reads it: never mutate it."""
    tenant: str
    namespace: str
    flow_id: str
    trigger_id: str
    definition: dict

    @property
    def key(self) -> tuple[str, str, str]:
        return self.namespace, self.flow_id, self.trigger_id


def listeners(tenant: str) -> list[Listener]:
    """The enabled Flow triggers of a tenant, read for every execution state change: the
    definitions come as text and are parsed once per distinct text (with 100 listeners a
    full row read cost 3 ms per event on SQLite, this 0.2 ms)."""
    query = (TriggerRow.select(TriggerRow.namespace, TriggerRow.flow_id, TriggerRow.trigger_id,
                               TriggerRow.definition.coerce(False))
             .where(TriggerRow.tenant == tenant, TriggerRow.kind == "Flow",
                    TriggerRow.disabled == False,  # noqa: E712
                    TriggerRow.source_disabled == False)  # noqa: E712
             .order_by(TriggerRow.id).tuples())
    return [Listener(tenant, namespace, flow_id, trigger_id, _parsed_definition(text))
            for namespace, flow_id, trigger_id, text in query]


@functools.lru_cache(maxsize=4096)
def _parsed_definition(text: str) -> dict:
    return json.loads(text)


@dataclass
class TriggerPage:
    results: list[Trigger]
    total: int


def search_triggers(tenant: str, filters, *, page: int = 1, size: int = 25,
                    sort: str = "namespace") -> TriggerPage:
    """The Triggers page and GET /triggers/search, for a parsed filter bar (`Filters`): its
    namespace matches the namespace and its children, its text is contained in the
    namespace, flow id or trigger id; trigger types and enabled."""
    namespace, flow_id, text = filters.namespace, filters.flow_id, filters.text
    kinds, enabled = filters.trigger_types, filters.enabled
    query = TriggerRow.select().where(TriggerRow.tenant == tenant)
    if namespace:
        query = query.where(namespace_match(TriggerRow.namespace, namespace))
    if flow_id:
        query = query.where(TriggerRow.flow_id == flow_id)
    if kinds:
        query = query.where(TriggerRow.kind.in_(kinds))
    if text:
        query = query.where(contains(TriggerRow.namespace, text)
                            | contains(TriggerRow.flow_id, text)
                            | contains(TriggerRow.trigger_id, text))
    if enabled is not None:
        both_on = (TriggerRow.disabled == False) & (TriggerRow.source_disabled == False)  # noqa
        query = query.where(both_on if enabled else ~both_on)
    total = query.count()
    order = {"namespace": (TriggerRow.namespace, TriggerRow.flow_id, TriggerRow.trigger_id),
             "next": (TriggerRow.next_date.asc(nulls="LAST"), TriggerRow.id),
             "last": (TriggerRow.last_date.desc(nulls="LAST"), TriggerRow.id)}
    rows = (query.order_by(*order.get(sort, order["namespace"]))
            .paginate(max(page, 1), max(min(size, 1000), 1)))
    return TriggerPage([_trigger(row) for row in rows], total)


def trigger_flows() -> set[tuple[str, str, str]]:
    """(tenant, namespace, flow id) of every flow that has trigger rows."""
    query = TriggerRow.select(TriggerRow.tenant, TriggerRow.namespace,
                              TriggerRow.flow_id).distinct().tuples()
    return set(query)


# -- precondition windows ----------------------------------------------------------------------

@dataclass
class TriggerWindow:
    tenant: str
    namespace: str
    flow_id: str
    precondition_id: str
    window_start: datetime
    window_end: datetime
    results: dict


def _window(row: FlowTriggerWindowRow) -> TriggerWindow:
    return TriggerWindow(row.tenant, row.namespace, row.flow_id, row.precondition_id,
                         row.window_start, row.window_end, row.results or {})


def _where_window(tenant: str, namespace: str, flow_id: str, precondition_id: str):
    return [FlowTriggerWindowRow.tenant == tenant, FlowTriggerWindowRow.namespace == namespace,
            FlowTriggerWindowRow.flow_id == flow_id,
            FlowTriggerWindowRow.precondition_id == precondition_id]


def lock_window(tenant: str, namespace: str, flow_id: str, precondition_id: str, *,
                window_start: datetime, window_end: datetime) -> TriggerWindow:
    """The window row, created if missing, locked until the transaction ends (PostgreSQL:
    row lock; SQLite: the write transaction already serializes writers), so two processes
    accumulating results for the same window cannot lose each other's."""
    (FlowTriggerWindowRow.insert(tenant=tenant, namespace=namespace, flow_id=flow_id,
                                 precondition_id=precondition_id, window_start=window_start,
                                 window_end=window_end, results={})
     .on_conflict_ignore().execute())
    query = FlowTriggerWindowRow.select().where(
        *_where_window(tenant, namespace, flow_id, precondition_id),
        FlowTriggerWindowRow.window_start == window_start)
    if not is_sqlite():
        query = query.for_update()
    return _window(query.get())


def put_window_results(window: TriggerWindow) -> None:
    FlowTriggerWindowRow.update(results=window.results).where(
        *_where_window(window.tenant, window.namespace, window.flow_id, window.precondition_id),
        FlowTriggerWindowRow.window_start == window.window_start).execute()


def current_window(tenant: str, namespace: str, flow_id: str, precondition_id: str,
                   now: datetime) -> TriggerWindow | None:
    """The stored window containing `now` (the latest one if several overlap)."""
    row = (FlowTriggerWindowRow.select()
           .where(*_where_window(tenant, namespace, flow_id, precondition_id),
                  FlowTriggerWindowRow.window_start <= now,
                  FlowTriggerWindowRow.window_end >= now)
           .order_by(FlowTriggerWindowRow.window_start.desc()).first())
    return None if row is None else _window(row)


def list_windows(tenant: str, namespace: str, flow_id: str,
                 precondition_id: str | None = None) -> list[TriggerWindow]:
    query = FlowTriggerWindowRow.select().where(FlowTriggerWindowRow.tenant == tenant,
                                                FlowTriggerWindowRow.namespace == namespace,
                                                FlowTriggerWindowRow.flow_id == flow_id)
    if precondition_id is not None:
        query = query.where(FlowTriggerWindowRow.precondition_id == precondition_id)
    return [_window(row) for row in query.order_by(FlowTriggerWindowRow.window_start)]


def delete_window(window: TriggerWindow) -> bool:
    return FlowTriggerWindowRow.delete().where(
        *_where_window(window.tenant, window.namespace, window.flow_id, window.precondition_id),
        FlowTriggerWindowRow.window_start == window.window_start).execute() > 0


def delete_windows(tenant: str, namespace: str, flow_id: str) -> int:
    return FlowTriggerWindowRow.delete().where(
        FlowTriggerWindowRow.tenant == tenant, FlowTriggerWindowRow.namespace == namespace,
        FlowTriggerWindowRow.flow_id == flow_id).execute()


def delete_expired_windows(now: datetime, limit: int = 500) -> int:
    """Windows that ended before `now`, across tenants (the scheduler's cleanup)."""
    ids = [row.id for row in FlowTriggerWindowRow.select(FlowTriggerWindowRow.id)
           .where(FlowTriggerWindowRow.window_end < now).limit(limit)]
    if not ids:
        return 0
    return FlowTriggerWindowRow.delete().where(FlowTriggerWindowRow.id.in_(ids)).execute()


# -- state change events -----------------------------------------------------------------------

@dataclass
class TriggerEvent:
    id: int
    tenant: str
    execution_id: str
    state: str
    created: datetime


def add_event(tenant: str, execution_id: str, state: str, now: datetime) -> TriggerEvent:
    event_id = TriggerEventRow.insert(tenant=tenant, execution_id=execution_id, state=state,
                                      created=now).execute()
    return TriggerEvent(event_id, tenant, execution_id, state, now)


def claim_event(event_id: int) -> bool:
    """Delete the event; True for the one caller that deleted it (inside the caller's
    transaction: a rollback brings it back for the scheduler's sweep)."""
    return TriggerEventRow.delete().where(TriggerEventRow.id == event_id).execute() == 1


def stale_events(before: datetime, limit: int = 100) -> list[TriggerEvent]:
    """Events older than `before`: their process died before evaluating them."""
    query = (TriggerEventRow.select().where(TriggerEventRow.created < before)
             .order_by(TriggerEventRow.id).limit(limit))
    return [TriggerEvent(row.id, row.tenant, row.execution_id, row.state, row.created)
            for row in query]


def drop_legacy_table() -> None:
    """Migration 4: the trigger_state table of version 1 was never written to."""
    database.execute_sql('DROP TABLE IF EXISTS "trigger_state"')
