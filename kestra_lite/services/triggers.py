"""Trigger rows: kept in step with the flows, switched on and off, unlocked, backfilled.

Every trigger of the latest revision of every flow has a row (store.triggers). `sync_flow`
runs after each deploy (and `sync_all` when a scheduler starts, which also repairs a deploy
that died between saving the flow and syncing). Every change goes through `change`:
mutate, `arm` (recompute when the scheduler must look at the row), compare-and-set.

A schedule is *locked* while the execution it created runs (Kestra's locked triggers: one
execution at a time); `release` (called when that execution ends) or `unlock` frees it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from kestra_lite.engine import preconditions
from kestra_lite.errors import Conflict, InvalidInput, NotFound
from kestra_lite.model.execution import Execution, label_list
from kestra_lite.model.flow import Flow
from kestra_lite.model.schedule import dates_between, next_date, timing
from kestra_lite.model.state import State, iso, parse_iso, utcnow
from kestra_lite.model.triggers import FLOW, SCHEDULE, SCHEDULE_ON_DATES, WEBHOOK
from kestra_lite.store import db
from kestra_lite.store import executions as execution_store
from kestra_lite.store import flows as flow_store
from kestra_lite.store import logs as log_store
from kestra_lite.store import triggers as store
from kestra_lite.store.triggers import Listener, Trigger

log = logging.getLogger(__name__)
KINDS = {SCHEDULE: "Schedule", FLOW: "Flow", WEBHOOK: "Webhook",
         SCHEDULE_ON_DATES: "ScheduleOnDates"}
TYPES = {kind: type_string for type_string, kind in KINDS.items()}
SCHEDULE_KINDS = ("Schedule", "ScheduleOnDates")
MAX_BACKFILL_DATES = 10_000
MAX_CONFLICTS = 20
SAFETY_WAKE = timedelta(seconds=5)
LOCK_CHECK = timedelta(minutes=1)


# -- the one way to change a row ------------------------------------------------------------

def arm(trigger: Trigger, now: datetime) -> None:
    """Set when the scheduler must look at the row: never for listeners, webhooks and
    disabled schedules; a minute later for a locked one; now for a running backfill; else
    at the schedule's next date."""
    if trigger.kind not in SCHEDULE_KINDS or not trigger.enabled:
        trigger.next_fire_at = None
    elif trigger.execution_id:
        # the end of the lock holder re-arms it at once; this later look repairs a lock
        # whose release was lost (the holder deleted, its end event dropped)
        trigger.next_fire_at = now + LOCK_CHECK
    elif trigger.backfill and not trigger.backfill.get("paused"):
        current = parse_iso(trigger.backfill.get("currentDate"))
        trigger.next_fire_at = max(now, current) if current else now
    else:
        trigger.next_fire_at = trigger.next_date


def change(trigger: Trigger, now: datetime, mutate: Callable[[Trigger], None]) -> Trigger:
    """Apply `mutate` and save with compare-and-set, re-reading on conflict."""
    for _ in range(MAX_CONFLICTS):
        mutate(trigger)
        arm(trigger, now)
        if store.update_trigger(trigger, now):
            return trigger
        fresh = store.get_trigger(trigger.tenant, *trigger.key)
        if fresh is None:
            raise NotFound(_not_found(*trigger.key))
        trigger = fresh
    raise Conflict(f"Trigger {'.'.join(trigger.key)} is changing too fast; try again")


def insert_created(execution: Execution, now: datetime) -> None:
    """Store an execution a trigger created. Its advance is enqueued after the commit; the
    wake date a little later is the safety net should that job be lost (sooner, the
    scheduler would take the first pass from the workers)."""
    execution_store.insert_execution(execution.tenant, execution, wake_at=now + SAFETY_WAKE)


def log_trigger(trigger: Trigger | Listener, level: str, message: str, now: datetime) -> None:
    """A log line about a trigger (no execution): shown on the Logs page with its flow."""
    log_store.append_logs(trigger.tenant, [{
        "executionId": None, "namespace": trigger.namespace, "flowId": trigger.flow_id,
        "taskId": None, "taskRunId": None, "attemptNumber": None,
        "triggerId": trigger.trigger_id, "level": level, "message": message,
        "timestamp": now, "thread": "scheduler"}])


def _not_found(namespace: str, flow_id: str, trigger_id: str) -> str:
    return f"Trigger {trigger_id} of flow {namespace}.{flow_id} not found"


def get(tenant: str, namespace: str, flow_id: str, trigger_id: str) -> Trigger:
    trigger = store.get_trigger(tenant, namespace, flow_id, trigger_id)
    if trigger is None:
        raise NotFound(_not_found(namespace, flow_id, trigger_id))
    return trigger


# -- in step with the flows -------------------------------------------------------------------

def sync_flow(runtime, flow: Flow, now: datetime | None = None) -> None:
    """Make the rows mirror the triggers of `flow` (its latest revision)."""
    now = now or utcnow()
    with db.write_transaction():
        existing = {t.trigger_id: t for t in
                    store.flow_triggers(flow.tenant, flow.namespace, flow.id)}
        for definition in flow.triggers:
            old = existing.pop(definition["id"], None)
            kind = KINDS[definition["type"]]
            if old is not None and old.kind != kind:
                store.delete_triggers(flow.tenant, flow.namespace, flow.id, [old.trigger_id])
                old = None
            if old is None:
                _insert(flow, definition, kind, now)
            else:
                _refresh(old, flow, definition, now)
        store.delete_triggers(flow.tenant, flow.namespace, flow.id, list(existing))


def _insert(flow: Flow, definition: dict, kind: str, now: datetime) -> None:
    trigger = Trigger(tenant=flow.tenant, namespace=flow.namespace, flow_id=flow.id,
                      trigger_id=definition["id"], kind=kind, revision=flow.revision,
                      definition=definition, source_disabled=_source_disabled(flow, definition),
                      updated=now)
    if kind in SCHEDULE_KINDS:
        trigger.next_date = next_date(definition, now)
    arm(trigger, now)
    store.insert_trigger(trigger)


def _refresh(trigger: Trigger, flow: Flow, definition: dict, now: datetime) -> None:
    if (trigger.revision, trigger.definition, trigger.source_disabled) == \
            (flow.revision, definition, _source_disabled(flow, definition)):
        return                                  # nothing changed (a scheduler starting)
    was_enabled = trigger.enabled
    restart = timing(trigger.definition) != timing(definition)

    if _windowed(trigger.definition) != _windowed(definition):
        # the accumulated results belong to the old conditions (condition_0 may now be
        # another flow): the windows start again
        store.delete_windows(flow.tenant, flow.namespace, flow.id)

    def mutate(row: Trigger) -> None:
        row.revision, row.definition = flow.revision, definition
        row.source_disabled = _source_disabled(flow, definition)
        if row.kind in SCHEDULE_KINDS and (restart or (row.enabled and not was_enabled)):
            row.next_date = next_date(definition, now)   # dates while off are not missed
    change(trigger, now, mutate)


def _windowed(definition: dict) -> tuple:
    """What a Flow trigger's precondition windows accumulate results for."""
    return definition.get("preconditions"), definition.get("conditions")


def _source_disabled(flow: Flow, definition: dict) -> bool:
    return bool(flow.disabled or definition.get("disabled") is True)


def remove_flow(tenant: str, namespace: str, flow_id: str) -> None:
    with db.write_transaction():
        store.delete_triggers(tenant, namespace, flow_id)
        store.delete_windows(tenant, namespace, flow_id)


def sync_all(runtime, now: datetime | None = None) -> int:
    """Sync the triggers of every flow and drop those of deleted flows (a scheduler
    starting: repairs a deploy or a delete that died half-way); returns the flows synced."""
    synced = set()
    for tenant in flow_store.tenants():
        for record in flow_store.list_flows(tenant):
            flow = runtime.load_flow(tenant, record.namespace, record.flow_id, record.revision)
            if flow is None:
                continue
            synced.add((tenant, record.namespace, record.flow_id))
            try:
                sync_flow(runtime, flow, now)
            except Exception as error:   # noqa: BLE001 - one flow must not stop the others
                if db.is_database_error(error):
                    raise
                log.exception("triggers of %s.%s not synced", flow.namespace, flow.id)
    for tenant, namespace, flow_id in store.trigger_flows() - synced:
        remove_flow(tenant, namespace, flow_id)
    return len(synced)


# -- the end of an execution a trigger created ---------------------------------------------------

def created_by_trigger(execution: Execution) -> bool:
    return (execution.trigger or {}).get("type") in KINDS


def release(execution: Execution, state: State, now: datetime) -> None:
    """The execution a trigger created has ended: free the trigger's lock, and disable the
    trigger when the state is in its `stopAfter`."""
    trigger_id = (execution.trigger or {}).get("id")
    if not created_by_trigger(execution) or not trigger_id:
        return
    trigger = store.get_trigger(execution.tenant, execution.namespace, execution.flow_id,
                                trigger_id)
    if trigger is None:
        return
    stop = state.value in (trigger.definition.get("stopAfter") or [])
    if trigger.execution_id != execution.id and not stop:
        return

    def mutate(row: Trigger) -> None:
        if row.execution_id == execution.id:
            row.execution_id = None
        if stop:
            row.disabled = True
    try:
        change(trigger, now, mutate)
    except NotFound:
        return                                  # the flow was deleted meanwhile
    if stop:
        log_trigger(trigger, "INFO", f"Trigger '{trigger_id}' disabled: execution "
                                     f"{execution.id} ended {state.value} (stopAfter)", now)


# -- user actions ---------------------------------------------------------------------------------

def set_disabled(runtime, tenant: str, namespace: str, flow_id: str, trigger_id: str,
                 disabled: bool, now: datetime | None = None) -> Trigger:
    now = now or utcnow()
    trigger = get(tenant, namespace, flow_id, trigger_id)
    if not disabled and trigger.source_disabled:
        raise Conflict(f"Trigger {trigger_id} is disabled in the flow source (the flow or the "
                       "trigger has `disabled: true`); edit the flow to enable it")

    def mutate(row: Trigger) -> None:
        if row.disabled and not disabled and row.kind in SCHEDULE_KINDS:
            row.next_date = next_date(row.definition, now)   # dates while off are not missed
        row.disabled = disabled
    return change(trigger, now, mutate)


def unlock(runtime, tenant: str, namespace: str, flow_id: str, trigger_id: str,
           now: datetime | None = None) -> Trigger:
    """Free a schedule whose execution is stuck: the next date fires without waiting."""
    now = now or utcnow()
    trigger = get(tenant, namespace, flow_id, trigger_id)
    if trigger.execution_id is None:
        return trigger
    holder = trigger.execution_id
    trigger = change(trigger, now, lambda row: setattr(row, "execution_id", None))
    log_trigger(trigger, "INFO", f"Trigger '{trigger_id}' unlocked (it was waiting for "
                                 f"execution {holder})", now)
    return trigger


# -- backfills -----------------------------------------------------------------------------------

def start_backfill(runtime, tenant: str, namespace: str, flow_id: str, trigger_id: str, *,
                   start: datetime, end: datetime | None, inputs: dict | None = None,
                   labels=None, now: datetime | None = None) -> Trigger:
    """Run the schedule's dates from `start` to `end` (default: now), one at a time, with
    these inputs and labels; the live schedule waits until the backfill ends."""
    now = now or utcnow()
    trigger = get(tenant, namespace, flow_id, trigger_id)
    if trigger.kind not in SCHEDULE_KINDS:
        raise InvalidInput(f"Trigger {trigger_id} is a {trigger.kind} trigger: only schedules "
                           "can be backfilled")
    if trigger.backfill:
        raise Conflict(f"Trigger {trigger_id} already has a backfill; delete it first")
    end = end or now
    if end < start:
        raise InvalidInput(f"The backfill end ({iso(end)}) is before its start ({iso(start)})")
    if end > now:
        raise InvalidInput(f"The backfill end ({iso(end)}) is in the future: a backfill runs "
                           "past dates, the schedule itself runs the coming ones")
    try:
        dates = dates_between(trigger.definition, start, end, limit=MAX_BACKFILL_DATES + 1)
    except (ValueError, OverflowError):
        raise InvalidInput(f"The backfill range {iso(start)} - {iso(end)} is out of range") \
            from None
    if not dates:
        raise InvalidInput(f"The schedule has no date between {iso(start)} and {iso(end)}")
    if len(dates) > MAX_BACKFILL_DATES:
        raise InvalidInput(f"The backfill covers more than {MAX_BACKFILL_DATES:,} dates; "
                           "choose a shorter range")
    labels = label_list(labels) if labels else []
    flow = runtime.load_flow(trigger.tenant, trigger.namespace, trigger.flow_id)
    if flow is None:
        raise NotFound(f"Flow {trigger.namespace}.{trigger.flow_id} not found")
    inputs = _storable_inputs(flow, inputs or {})
    _check_backfill_inputs(runtime, flow, trigger, inputs, labels, now)
    backfill = {"start": iso(start), "end": iso(end), "currentDate": iso(dates[0]),
                "inputs": inputs or {}, "labels": labels, "paused": False, "fired": 0,
                "total": len(dates)}
    trigger = change(trigger, now, lambda row: setattr(row, "backfill", dict(backfill)))
    log_trigger(trigger, "INFO", f"Backfill of {len(dates):,} dates from {iso(start)} to "
                                 f"{iso(end)} started", now)
    return trigger


def _storable_inputs(flow: Flow, inputs: dict) -> dict:
    """Backfill inputs are kept in the trigger row until its last date, so SECRET values
    (they would sit there in clear) and uploaded FILEs (every execution reads its own files
    only) are refused with the way around."""
    kinds = {spec.id: spec.type for spec in flow.inputs}
    for input_id in inputs:
        if kinds.get(input_id) in ("SECRET", "FILE"):
            raise InvalidInput(f"Input `{input_id}` is a {kinds[input_id]}: a backfill cannot "
                               "keep it; give the input a default (or read a secret with "
                               "secret() in the flow)")
    return dict(inputs)


def _check_backfill_inputs(runtime, flow: Flow, trigger: Trigger, inputs, labels,
                           now) -> None:
    """Refuse inputs and labels that every backfill execution would fail on, now."""
    from kestra_lite.services.creation import build_execution
    merged = dict(trigger.definition.get("inputs") or {}, **(inputs or {}))
    build_execution(runtime, flow, inputs=merged, labels=labels, trigger=None, now=now)


def _change_backfill(runtime, tenant, namespace, flow_id, trigger_id, now,
                     mutate: Callable[[Trigger], None], verb: str, done: str) -> Trigger:
    now = now or utcnow()
    trigger = get(tenant, namespace, flow_id, trigger_id)
    if not trigger.backfill:
        raise Conflict(f"Trigger {trigger_id} has no backfill to {verb}")
    trigger = change(trigger, now, mutate)
    log_trigger(trigger, "INFO", f"Backfill {done}", now)
    return trigger


def _set_paused(paused: bool) -> Callable[[Trigger], None]:
    def mutate(row: Trigger) -> None:
        if row.backfill:
            row.backfill = dict(row.backfill, paused=paused)
    return mutate


def pause_backfill(runtime, tenant, namespace, flow_id, trigger_id, now=None) -> Trigger:
    return _change_backfill(runtime, tenant, namespace, flow_id, trigger_id, now,
                            _set_paused(True), "pause", "paused")


def resume_backfill(runtime, tenant, namespace, flow_id, trigger_id, now=None) -> Trigger:
    return _change_backfill(runtime, tenant, namespace, flow_id, trigger_id, now,
                            _set_paused(False), "resume", "resumed")


def delete_backfill(runtime, tenant, namespace, flow_id, trigger_id, now=None) -> Trigger:
    return _change_backfill(runtime, tenant, namespace, flow_id, trigger_id, now,
                            lambda row: setattr(row, "backfill", None), "delete", "deleted")


def backfill_progress(trigger: Trigger) -> dict | None:
    backfill = trigger.backfill
    if not backfill:
        return None
    return {"start": parse_iso(backfill["start"]), "end": parse_iso(backfill["end"]),
            "currentDate": parse_iso(backfill.get("currentDate")),
            "paused": bool(backfill.get("paused")), "fired": int(backfill.get("fired", 0)),
            "total": int(backfill.get("total", 0)),
            "done": backfill.get("currentDate") is None}


# -- explaining Flow triggers --------------------------------------------------------------------

@dataclass
class PreconditionsStatus:
    pre: preconditions.Preconditions
    explanation: preconditions.Explanation
    last_error: dict | None


def preconditions_status(runtime, trigger: Trigger,
                         now: datetime | None = None) -> list[PreconditionsStatus]:
    """For each windowed condition set of a Flow trigger: what is met, what is missing, the
    window and the time left in it, the last evaluation error."""
    now = now or utcnow()
    statuses = []
    for pre in preconditions.from_trigger(trigger.definition):
        stored = store.current_window(trigger.tenant, trigger.namespace, trigger.flow_id,
                                      pre.id, now)
        if stored is not None:
            window = preconditions.Window(stored.window_start, stored.window_end)
            results = stored.results
        else:
            window, results = preconditions.window_at(pre, now), {}
        explanation = preconditions.explain(pre, results, now, window)
        statuses.append(PreconditionsStatus(pre, explanation, trigger.data.get("lastError")))
    return statuses

