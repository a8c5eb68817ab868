"""Flow-level SLA evaluation on each executor pass (semantics 8)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kestra_lite.engine.expressions import ExpressionError, is_truthy
from kestra_lite.model.durations import format_duration, parse_duration
from kestra_lite.model.execution import Execution, label_list
from kestra_lite.model.state import State


@dataclass
class SlaOutcome:
    state: State | None = None
    labels: list[dict] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    wake_at: datetime | None = None
    meta_changed: bool = False


def evaluate_slas(slas: list[dict], execution: Execution, now: datetime, render) -> SlaOutcome:
    outcome = SlaOutcome()
    violated = execution.meta.setdefault("slaViolated", [])
    for sla in slas:
        key = f"{sla['id']}#{slas.index(sla)}"
        if key in violated:
            continue
        reason = _violation(sla, execution, now, render, outcome)
        if reason is None:
            continue
        violated.append(key)
        outcome.meta_changed = True
        outcome.logs.append(("WARN", f"SLA '{sla['id']}' violated: {reason}"))
        behavior = sla.get("behavior", "NONE")
        if outcome.state is None and behavior in ("FAIL", "CANCEL"):
            outcome.state = State.FAILED if behavior == "FAIL" else State.CANCELLED
            if behavior == "FAIL":
                outcome.logs.append(("ERROR", f"Execution failed due to SLA '{sla['id']}' violated: {reason}"))
        for label in label_list(sla.get("labels")):
            if execution.label(label["key"]) != label["value"]:
                outcome.labels.append(label)
    return outcome


def _violation(sla: dict, execution: Execution, now: datetime, render, outcome: SlaOutcome) -> str | None:
    if sla.get("type") == "MAX_DURATION":
        limit = parse_duration(sla["duration"])
        deadline = execution.state.start_date + limit
        if now >= deadline:
            elapsed = format_duration(now - execution.state.start_date)
            return (f"execution duration of {elapsed} exceed the maximum duration of "
                    f"{format_duration(limit)}.")
        if outcome.wake_at is None or deadline < outcome.wake_at:
            outcome.wake_at = deadline
        return None
    expression = sla.get("assert") or ""
    try:
        value = render(expression)
    except ExpressionError as error:
        outcome.logs.append(("WARN", f"Unable to evaluate SLA '{sla['id']}': {error}"))
        return None
    return None if is_truthy(value) else f"assertion is false: {expression}."
