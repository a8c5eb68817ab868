"""Trigger state (next fire dates, per trigger) and flow-trigger precondition windows.

Schema and plain get/put/delete only; the trigger issue drives them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee

from .db import BaseModel, JSONField, UTCDateTimeField


class TriggerStateRow(BaseModel):
    namespace = peewee.CharField(max_length=255)
    flow_id = peewee.CharField(max_length=255)
    trigger_id = peewee.CharField(max_length=255)
    next_fire_at = UTCDateTimeField(null=True, index=True)
    data = JSONField(default=dict)
    updated = UTCDateTimeField()

    class Meta:
        table_name = "trigger_state"
        indexes = ((("tenant", "namespace", "flow_id", "trigger_id"), True),)


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


@dataclass
class TriggerState:
    tenant: str
    namespace: str
    flow_id: str
    trigger_id: str
    next_fire_at: datetime | None
    data: dict
    updated: datetime


@dataclass
class TriggerWindow:
    tenant: str
    namespace: str
    flow_id: str
    precondition_id: str
    window_start: datetime
    window_end: datetime
    results: dict


def _state(row: TriggerStateRow) -> TriggerState:
    return TriggerState(row.tenant, row.namespace, row.flow_id, row.trigger_id,
                        row.next_fire_at, row.data or {}, row.updated)


def get_trigger_state(tenant: str, namespace: str, flow_id: str,
                      trigger_id: str) -> TriggerState | None:
    row = TriggerStateRow.get_or_none(
        TriggerStateRow.tenant == tenant, TriggerStateRow.namespace == namespace,
        TriggerStateRow.flow_id == flow_id, TriggerStateRow.trigger_id == trigger_id)
    return None if row is None else _state(row)


def put_trigger_state(tenant: str, namespace: str, flow_id: str, trigger_id: str, *,
                      next_fire_at: datetime | None, data: dict, now: datetime) -> None:
    (TriggerStateRow.insert(tenant=tenant, namespace=namespace, flow_id=flow_id,
                            trigger_id=trigger_id, next_fire_at=next_fire_at, data=data,
                            updated=now)
     .on_conflict(conflict_target=[TriggerStateRow.tenant, TriggerStateRow.namespace,
                                   TriggerStateRow.flow_id, TriggerStateRow.trigger_id],
                  preserve=[TriggerStateRow.next_fire_at, TriggerStateRow.data,
                            TriggerStateRow.updated])
     .execute())


def delete_trigger_state(tenant: str, namespace: str, flow_id: str,
                         trigger_id: str | None = None) -> int:
    """Delete one trigger's state, or every trigger's of the flow when trigger_id is None."""
    query = TriggerStateRow.delete().where(TriggerStateRow.tenant == tenant,
                                           TriggerStateRow.namespace == namespace,
                                           TriggerStateRow.flow_id == flow_id)
    if trigger_id is not None:
        query = query.where(TriggerStateRow.trigger_id == trigger_id)
    return query.execute()


def due_triggers(now: datetime, limit: int = 100) -> list[TriggerState]:
    """Trigger states whose next_fire_at is due, earliest first, across tenants."""
    query = (TriggerStateRow.select().where(TriggerStateRow.next_fire_at <= now)
             .order_by(TriggerStateRow.next_fire_at).limit(limit))
    return [_state(row) for row in query]


def _window(row: FlowTriggerWindowRow) -> TriggerWindow:
    return TriggerWindow(row.tenant, row.namespace, row.flow_id, row.precondition_id,
                         row.window_start, row.window_end, row.results or {})


def get_window(tenant: str, namespace: str, flow_id: str, precondition_id: str,
               window_start: datetime) -> TriggerWindow | None:
    row = FlowTriggerWindowRow.get_or_none(
        FlowTriggerWindowRow.tenant == tenant, FlowTriggerWindowRow.namespace == namespace,
        FlowTriggerWindowRow.flow_id == flow_id,
        FlowTriggerWindowRow.precondition_id == precondition_id,
        FlowTriggerWindowRow.window_start == window_start)
    return None if row is None else _window(row)


def put_window(tenant: str, namespace: str, flow_id: str, precondition_id: str, *,
               window_start: datetime, window_end: datetime, results: dict) -> None:
    (FlowTriggerWindowRow.insert(tenant=tenant, namespace=namespace, flow_id=flow_id,
                                 precondition_id=precondition_id, window_start=window_start,
                                 window_end=window_end, results=results)
     .on_conflict(conflict_target=[FlowTriggerWindowRow.tenant, FlowTriggerWindowRow.namespace,
                                   FlowTriggerWindowRow.flow_id,
                                   FlowTriggerWindowRow.precondition_id,
                                   FlowTriggerWindowRow.window_start],
                  preserve=[FlowTriggerWindowRow.window_end, FlowTriggerWindowRow.results])
     .execute())


def list_windows(tenant: str, namespace: str, flow_id: str,
                 precondition_id: str | None = None) -> list[TriggerWindow]:
    query = FlowTriggerWindowRow.select().where(FlowTriggerWindowRow.tenant == tenant,
                                                FlowTriggerWindowRow.namespace == namespace,
                                                FlowTriggerWindowRow.flow_id == flow_id)
    if precondition_id is not None:
        query = query.where(FlowTriggerWindowRow.precondition_id == precondition_id)
    return [_window(row) for row in query.order_by(FlowTriggerWindowRow.window_start)]


def delete_window(tenant: str, namespace: str, flow_id: str, precondition_id: str,
                  window_start: datetime) -> bool:
    return FlowTriggerWindowRow.delete().where(
        FlowTriggerWindowRow.tenant == tenant, FlowTriggerWindowRow.namespace == namespace,
        FlowTriggerWindowRow.flow_id == flow_id,
        FlowTriggerWindowRow.precondition_id == precondition_id,
        FlowTriggerWindowRow.window_start == window_start).execute() > 0


def expired_windows(now: datetime, limit: int = 100) -> list[TriggerWindow]:
    """Windows that ended at or before `now` (for the scheduler to reset), across tenants."""
    query = (FlowTriggerWindowRow.select().where(FlowTriggerWindowRow.window_end <= now)
             .order_by(FlowTriggerWindowRow.window_end).limit(limit))
    return [_window(row) for row in query]
