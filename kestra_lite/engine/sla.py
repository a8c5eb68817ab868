"""Flow-level SLA evaluation on each executor pass (semantics 8).

An SLA is violated at most once per execution. Each violation is remembered in the
execution's meta twice: `slaViolated` lists keys `<id>#<position>` (two SLAs may share an
id, as in Kestra's own tests), and `slaViolations` lists what the execution page tells the
user: which SLA, its type and behavior, why, and when.

MAX_DURATION is violated once `now >= start + duration`; before that its deadline becomes
a wake date, so the scheduler tick advances the execution when the deadline comes.
EXECUTION_ASSERTION renders `assert` on every pass and is violated when it is falsy; an
assertion that cannot be rendered is logged and ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kestra_lite.engine.expressions import ExpressionError, is_truthy
from kestra_lite.model.durations import format_duration, parse_duration
from kestra_lite.model.execution import Execution, label_list
from kestra_lite.model.state import State, iso

VIOLATED = "slaViolated"        # meta key: violated SLA keys (kept for compatibility)
VIOLATIONS = "slaViolations"    # meta key: one record per violation
MAX_DURATION = "MAX_DURATION"
EXECUTION_ASSERTION = "EXECUTION_ASSERTION"


@dataclass
class SlaOutcome:
    """What one pass's SLA evaluation asks the executor to do."""
    state: State | None = None          # FAILED or CANCELLED: the first FAIL/CANCEL violation
    labels: list[dict] = field(default_factory=list)    # labels to add
    logs: list[tuple[str, str]] = field(default_factory=list)   # (level, message)
    wake_at: datetime | None = None     # the earliest MAX_DURATION deadline still ahead
    meta_changed: bool = False


def evaluate_slas(slas: list[dict], execution: Execution, now: datetime, render) -> SlaOutcome:
    """Evaluate every SLA not violated yet; `render(expression)` renders an assertion."""
    outcome = SlaOutcome()
    violated = execution.meta.get(VIOLATED) or []
    for position, sla in enumerate(slas):
        key = sla_key(sla, position)
        if key in violated:
            continue
        reason = _violation(sla, execution, now, render, outcome)
        if reason is not None:
            _record(sla, key, reason, execution, now)
            _apply(sla, reason, execution, outcome)
    return outcome


def sla_key(sla: dict, position: int) -> str:
    """The key remembering that the SLA at `position` of the flow's list was violated."""
    return f"{sla['id']}#{position}"


def deadline(sla: dict, start: datetime) -> datetime | None:
    """A MAX_DURATION SLA's deadline for an execution started at `start` (else None)."""
    limit = max_duration(sla)
    return start + limit if limit is not None else None


def max_duration(sla: dict) -> timedelta | None:
    """A MAX_DURATION SLA's duration; None for other types or an unreadable duration (flows
    are validated at save, so only a flow stored by an older version could have one)."""
    if sla.get("type") != MAX_DURATION:
        return None
    try:
        return parse_duration(sla.get("duration"))
    except ValueError:
        return None


def max_durations(slas: list[dict]) -> list[tuple[str, timedelta]]:
    """(id, duration) of each MAX_DURATION SLA (what the forecast's risk needs)."""
    found = ((sla.get("id"), max_duration(sla)) for sla in slas or ())
    return [(sla_id, limit) for sla_id, limit in found if limit is not None]


def violations(execution: Execution) -> list[dict]:
    """The violation records of an execution, oldest first."""
    return list(execution.meta.get(VIOLATIONS) or [])


def violation_by_key(execution: Execution) -> dict[str, dict]:
    """{SLA key: its violation record}. Both meta lists grow together, so the records pair
    with the last keys; a key from before records were kept maps to an empty record."""
    keys = list(execution.meta.get(VIOLATED) or [])
    records = violations(execution)[-len(keys):] if keys else []
    paired = dict.fromkeys(keys[:len(keys) - len(records)], {})
    paired.update(zip(keys[len(keys) - len(records):], records))
    return paired


# -- one SLA ------------------------------------------------------------------------------

def _violation(sla: dict, execution: Execution, now: datetime, render,
               outcome: SlaOutcome) -> str | None:
    """The violation reason, or None when the SLA holds (for now)."""
    if sla.get("type") == MAX_DURATION:
        return _max_duration_violation(sla, execution, now, outcome)
    return _assertion_violation(sla, render, outcome)


def _max_duration_violation(sla: dict, execution: Execution, now: datetime,
                            outcome: SlaOutcome) -> str | None:
    limit = max_duration(sla)
    if limit is None:
        return None
    start = execution.state.start_date
    if now >= start + limit:
        return (f"execution duration of {format_duration(now - start)} exceed the maximum "
                f"duration of {format_duration(limit)}.")
    if outcome.wake_at is None or start + limit < outcome.wake_at:
        outcome.wake_at = start + limit
    return None


def _assertion_violation(sla: dict, render, outcome: SlaOutcome) -> str | None:
    expression = sla.get("assert")
    expression = expression if isinstance(expression, str) else str(expression or "")
    try:
        value = render(expression)
    except ExpressionError as error:
        outcome.logs.append(("WARN", f"Unable to evaluate SLA '{sla['id']}': {error}"))
        return None
    return None if is_truthy(value) else f"assertion is false: {expression}."


def _record(sla: dict, key: str, reason: str, execution: Execution, now: datetime) -> None:
    """Remember the violation on the execution (both meta lists)."""
    execution.meta[VIOLATED] = (execution.meta.get(VIOLATED) or []) + [key]
    execution.meta[VIOLATIONS] = violations(execution) + [{
        "id": sla["id"], "type": sla.get("type"), "behavior": _behavior(sla),
        "reason": reason, "date": iso(now)}]


def _apply(sla: dict, reason: str, execution: Execution, outcome: SlaOutcome) -> None:
    """Log the violation; the first FAIL/CANCEL of the pass sets the state; labels are
    added for every behavior (each label once)."""
    outcome.meta_changed = True
    outcome.logs.append(("WARN", f"SLA '{sla['id']}' violated: {reason}"))
    behavior = _behavior(sla)
    if outcome.state is None and behavior in ("FAIL", "CANCEL"):
        outcome.state = State.FAILED if behavior == "FAIL" else State.CANCELLED
        if behavior == "FAIL":
            outcome.logs.append(("ERROR", f"Execution failed due to SLA '{sla['id']}' "
                                          f"violated: {reason}"))
    for label in label_list(sla.get("labels")):
        if execution.label(label["key"]) != label["value"] and label not in outcome.labels:
            outcome.labels.append(label)


def _behavior(sla: dict) -> str:
    return sla.get("behavior") or "NONE"
