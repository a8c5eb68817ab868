"""Schedule triggers (semantics 9.1): the scheduler tick fires the dates that have come.

`fire_due(runtime, now)` claims the due rows (indexed `next_fire_at`), and for each one
decides about ONE date — the backfill's current date while a backfill runs, else the live
schedule's next date — then writes the row (compare-and-set on its version) and the new
execution in the same transaction. A date therefore creates at most one execution, and a
date that does not create one is logged with the reason:

- locked: the execution the trigger created last still runs; the row is parked until it
  ends (`triggers.release`) — the date is not lost, it fires then;
- missed (more than MISSED_AFTER late, e.g. the scheduler was down): `recoverMissedSchedules`
  ALL (default) fires every missed date in order, LAST only the latest, NONE none;
- later than `lateMaximumDelay`; `conditions` not met; invalid inputs.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kestra_lite.engine.conditions import ConditionContext, ConditionError, all_conditions_match
from kestra_lite.engine.expressions import ExpressionError, render, render_value
from kestra_lite.errors import InvalidInput
from kestra_lite.model.cron import CronError
from kestra_lite.model.durations import format_duration, parse_duration
from kestra_lite.model.execution import Execution, label_list
from kestra_lite.model.schedule import dates_between, next_date, previous_date
from kestra_lite.model.state import iso, parse_iso
from kestra_lite.services import triggers as trigger_service
from kestra_lite.services.creation import build_execution
from kestra_lite.services.runtime import Runtime
from kestra_lite.store import db
from kestra_lite.store import executions as execution_store
from kestra_lite.store import triggers as store
from kestra_lite.store.triggers import Trigger

log = logging.getLogger(__name__)
BATCH = 200
MISSED_AFTER = timedelta(seconds=10)
MAX_SKIPPED_COUNT = 100_000


def fire_due(runtime: Runtime, now: datetime) -> int:
    """Decide about the due rows (one date each); returns the executions created."""
    from kestra_lite import jobs
    due = store.due_triggers(now, BATCH)
    if not due:
        return 0
    created: list[Execution] = []
    with db.write_transaction():
        for trigger in due:
            execution = _decide(runtime, trigger, now)
            if execution is not None:
                created.append(execution)
    for execution in created:
        jobs.enqueue_advance(runtime, execution.tenant, execution.id)
    return len(created)


class _Skip(Exception):
    """This date does not create an execution: `reason` says why, at `level`."""

    def __init__(self, reason: str, level: str = "WARN"):
        super().__init__(reason)
        self.reason, self.level = reason, level


def _decide(runtime: Runtime, trigger: Trigger, now: datetime) -> Execution | None:
    if not trigger.enabled or _still_locked(trigger):
        _save(trigger, now)          # parked (arm leaves next_fire_at empty) until released
        return None
    backfill = trigger.backfill if trigger.backfill and not trigger.backfill.get("paused") \
        else None
    date = parse_iso(backfill["currentDate"]) if backfill else trigger.next_date
    if date is None or date > now:
        _save(trigger, now)          # not due yet (a lock re-check): armed for its date
        return None
    if not backfill:
        date = _recover_missed(trigger, date, now)
        if date is None:
            return None
    execution = None
    try:
        _check_date(runtime, trigger, date, now, backfill)
        execution = _execution(runtime, trigger, date, backfill, now)
    except _Skip as skip:
        _skipped(trigger, date, skip, now)
    except (CronError, ExpressionError, ConditionError, InvalidInput, ValueError) as error:
        _skipped(trigger, date, _Skip(str(error), "ERROR"), now)
    _advance(trigger, date, backfill, execution)
    if not _save(trigger, now):
        return None                  # changed meanwhile (UI): decided again next tick
    if execution is not None:
        trigger_service.insert_created(execution, now)
    return execution


def _still_locked(trigger: Trigger) -> bool:
    """Locked by a running execution. A lock whose execution ended or vanished without
    releasing it (its end event was lost) is dropped here."""
    if not trigger.execution_id:
        return False
    state = execution_store.execution_state(trigger.tenant, trigger.execution_id)
    if state is not None and not state.is_terminated:
        return True
    trigger.execution_id = None
    return False


def _save(trigger: Trigger, now: datetime) -> bool:
    trigger_service.arm(trigger, now)
    return store.update_trigger(trigger, now)


def _recover_missed(trigger: Trigger, date: datetime, now: datetime) -> datetime | None:
    """Apply `recoverMissedSchedules` to a missed date: the date to fire, or None (every
    missed date skipped; the row is saved)."""
    policy = trigger.definition.get("recoverMissedSchedules") or "ALL"
    if policy == "ALL" or now - date <= MISSED_AFTER:
        return date
    cutoff = now - MISSED_AFTER
    definition = trigger.definition
    missed = dates_between(definition, date, cutoff, limit=MAX_SKIPPED_COUNT + 1)
    last = previous_date(definition, cutoff + timedelta(microseconds=1)) or date
    keep = last if policy == "LAST" else None
    skipped = [d for d in missed if d != keep]
    if skipped:
        count = f"{MAX_SKIPPED_COUNT:,}+" if len(missed) > MAX_SKIPPED_COUNT else \
            f"{len(skipped):,}"
        trigger_service.log_trigger(
            trigger, "WARN", f"Skipped {count} missed schedule date(s) from {iso(skipped[0])} "
                             f"to {iso(skipped[-1] if policy == 'NONE' else last)} "
                             f"(recoverMissedSchedules: {policy})", now)
        trigger.data["lastSkipped"] = {"date": iso(skipped[-1]),
                                       "reason": f"missed (recoverMissedSchedules: {policy})"}
    if keep is None:
        trigger.next_date = next_date(definition, last)
        _save(trigger, now)
        return None
    return keep


def _check_date(runtime: Runtime, trigger: Trigger, date: datetime, now: datetime,
                backfill: dict | None) -> None:
    """Raise _Skip when `date` must not fire (late, conditions)."""
    definition = trigger.definition
    late_limit = definition.get("lateMaximumDelay")
    if late_limit and not backfill and now - date > parse_duration(late_limit):
        raise _Skip(f"late by {format_duration(now - date)}, more than lateMaximumDelay "
                    f"{format_duration(parse_duration(late_limit))}")
    conditions = (definition.get("conditions") or []) + \
        (definition.get("scheduleConditions") or [])
    if conditions:
        variables = _variables(trigger, date)
        context = ConditionContext(variables=variables,
                                   render=lambda template: render(template, variables),
                                   date=date, zone=definition.get("timezone") or "UTC")
        if not all_conditions_match(conditions, context):
            raise _Skip("conditions not met", "DEBUG")


def _zoned(trigger: Trigger, date: datetime | None) -> str | None:
    zone = trigger.definition.get("timezone")
    if date is None or not zone or zone == "UTC":
        return iso(date)
    return date.astimezone(ZoneInfo(zone)).isoformat()


def _variables(trigger: Trigger, date: datetime, backfill: dict | None = None) -> dict:
    definition = trigger.definition
    variables = {"date": _zoned(trigger, date),
                 "next": _zoned(trigger, next_date(definition, date)),
                 "previous": _zoned(trigger, previous_date(definition, date))}
    if backfill:
        variables["backfill"] = True
    return {"trigger": variables,
            "flow": {"id": trigger.flow_id, "namespace": trigger.namespace,
                     "revision": trigger.revision, "tenantId": trigger.tenant}}


def _execution(runtime: Runtime, trigger: Trigger, date: datetime, backfill: dict | None,
               now: datetime) -> Execution:
    flow = runtime.load_flow(trigger.tenant, trigger.namespace, trigger.flow_id,
                             trigger.revision)
    if flow is None or flow.disabled:
        raise _Skip(f"flow {trigger.namespace}.{trigger.flow_id} is missing or disabled")
    variables = _variables(trigger, date, backfill)
    definition = trigger.definition
    inputs = render_value(definition.get("inputs") or {}, variables)
    labels = label_list(render_value(definition.get("labels"), variables))
    if backfill:
        inputs.update(backfill.get("inputs") or {})
        labels += label_list(backfill.get("labels"))
    try:
        return build_execution(runtime, flow, inputs=inputs, labels=labels, now=now,
                               trigger={"id": trigger.trigger_id, "type": _type(trigger),
                                        "variables": variables["trigger"]})
    except InvalidInput as error:
        raise _Skip(f"invalid inputs: {error}", "ERROR")


def _type(trigger: Trigger) -> str:
    return trigger_service.TYPES[trigger.kind]


def _skipped(trigger: Trigger, date: datetime, skip: _Skip, now: datetime) -> None:
    trigger_service.log_trigger(trigger, skip.level, f"Schedule date {iso(date)} skipped: "
                                                     f"{skip.reason}", now)
    trigger.data["lastSkipped"] = {"date": iso(date), "reason": skip.reason}
    if skip.level == "ERROR":
        trigger.data["lastError"] = {"date": iso(now), "message": skip.reason}


def _advance(trigger: Trigger, date: datetime, backfill: dict | None,
             execution: Execution | None) -> None:
    """Move the cursor past `date` (the backfill's, or the live schedule's) and take the
    lock when an execution was created."""
    following = next_date(trigger.definition, date)
    if execution is not None:
        trigger.execution_id = execution.id
        trigger.last_date = date
        trigger.data["lastFired"] = {"date": iso(date), "executionId": execution.id,
                                     "firedAt": iso(execution.state.start_date)}
    if not backfill:
        trigger.next_date = following
        return
    fired = int(backfill.get("fired", 0)) + (1 if execution is not None else 0)
    end = parse_iso(backfill["end"])
    if following is None or following > end:
        trigger.backfill = None
        trigger.data["lastBackfill"] = dict(backfill, fired=fired, currentDate=None)
        if trigger.next_date is not None and trigger.next_date <= end:
            # live dates the backfill covered ran once, in the backfill
            trigger.next_date = next_date(trigger.definition, end)
    else:
        trigger.backfill = dict(backfill, fired=fired, currentDate=iso(following))

