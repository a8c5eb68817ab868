"""Trigger conditions (semantics 9.4): does one condition map hold for one event?

The maps are the validated ones of model/triggers.py (`type` canonical, e.g.
`io.kestra.plugin.core.condition.DayWeek`). A Schedule evaluates them against the date being
fired (`ctx.date`, `trigger.date`), in the schedule's time zone; a Flow trigger against the
upstream execution (`ctx.execution`) and the state it just reached (`ctx.state`); a Webhook
against its request variables. MultipleCondition is windowed: engine/preconditions.py.

Kestra behaviours kept on purpose: TimeBetween bounds are exclusive, DateTimeBetween bounds
inclusive; ExecutionOutputs is false when the execution has no outputs. Beyond Kestra:
TimeBetween with `after` later than `before` spans midnight (Kestra never matches it), and
bounds without an offset are read in the schedule's time zone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as Date, datetime, time as Time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from kestra_lite.engine import expressions
from kestra_lite.engine.expressions import ExpressionError, is_truthy
from kestra_lite.model.execution import Execution, label_value
from kestra_lite.model.state import State
from kestra_lite.model.triggers import canonical_condition_type

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
DAYS_IN_MONTH = ("FIRST", "SECOND", "THIRD", "FOURTH", "LAST")
DEFAULT_DATE = "{{ trigger.date }}"
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$")


class ConditionError(Exception):
    """A condition that cannot be evaluated; the message names its type and why."""


@dataclass
class ConditionContext:
    variables: dict
    # renders one template with `variables` (raises ExpressionError); None: Kestra's
    # expression engine over `variables`
    render: Callable[[str], object] | None = None
    date: datetime | None = None        # the schedule date being evaluated
    zone: str = "UTC"                   # the schedule's time zone (days and times read in it)
    execution: Execution | None = None  # the upstream execution (Flow triggers)
    state: State | None = None          # the upstream state this event is about

    def evaluate(self, template, extra: dict | None = None) -> object:
        """Render a property: strings through `render`, other YAML values unchanged.

        `extra` variables are merged over `variables` by the default renderer only; a
        caller-supplied `render` must already see them."""
        if not isinstance(template, str):
            return template
        if self.render is not None:
            return self.render(template)
        return expressions.render(template, {**self.variables, **(extra or {})})

    def current_state(self) -> State | None:
        if self.state is not None:
            return State(self.state)
        return self.execution.current if self.execution is not None else None


def condition_matches(condition: dict, ctx: ConditionContext) -> bool:
    """True when `condition` holds for the event in `ctx`; raises ConditionError."""
    short = short_type(condition)
    if short == "MultipleCondition":
        raise ConditionError("MultipleCondition is evaluated over a time window with the "
                             "trigger's preconditions, not as a single condition")
    check = _CHECKS.get(short)
    if check is None:
        raise ConditionError(f"Condition type `{condition.get('type')}` is not supported")
    try:
        return bool(check(condition, ctx))
    except ExpressionError as exc:
        raise ConditionError(f"{short} condition: {exc}") from None


def all_conditions_match(conditions: list[dict], ctx: ConditionContext) -> bool:
    """Every condition except the windowed MultipleCondition holds (empty list: True)."""
    return all(condition_matches(c, ctx) for c in conditions or []
               if short_type(c) != "MultipleCondition")


def multiple_conditions(conditions: list[dict]) -> list[dict]:
    """The legacy windowed MultipleCondition entries of a condition list."""
    return [c for c in conditions or [] if short_type(c) == "MultipleCondition"]


def short_type(condition) -> str:
    """`io.kestra.plugin.core.condition.DayWeek` (or an alias) -> `DayWeek`."""
    if not isinstance(condition, dict):
        raise ConditionError(f"A condition must be a mapping with a `type`, got `{condition}`")
    canonical = canonical_condition_type(condition.get("type"))
    if canonical is None:
        raise ConditionError(f"Unknown condition type `{condition.get('type')}`")
    return canonical.rsplit(".", 1)[-1]


# -- execution conditions (Flow triggers) --------------------------------------------------

def _execution(condition: dict, ctx: ConditionContext) -> Execution:
    if ctx.execution is None:
        raise ConditionError(f"{short_type(condition)} needs an upstream execution: it only "
                             "applies to a Flow trigger")
    return ctx.execution


def _execution_flow(condition: dict, ctx: ConditionContext) -> bool:
    execution = _execution(condition, ctx)
    return (execution.namespace == condition.get("namespace")
            and execution.flow_id == condition.get("flowId"))


def _execution_namespace(condition: dict, ctx: ConditionContext) -> bool:
    namespace = _execution(condition, ctx).namespace
    expected = str(condition.get("namespace"))
    comparison = condition.get("comparison") or ("PREFIX" if condition.get("prefix")
                                                 else "EQUALS")
    if comparison == "PREFIX":
        return namespace.startswith(expected)
    if comparison == "SUFFIX":
        return namespace.endswith(expected)
    return namespace == expected


def _execution_status(condition: dict, ctx: ConditionContext) -> bool:
    _execution(condition, ctx)
    state = ctx.current_state().value
    allowed, refused = condition.get("in"), condition.get("notIn")
    if allowed is not None and state not in allowed:
        return False
    return not (refused is not None and state in refused)


def _execution_labels(condition: dict, ctx: ConditionContext) -> bool:
    return has_labels(_execution(condition, ctx), condition.get("labels"))


def has_labels(execution: Execution, labels) -> bool:
    """Every label of `labels` (a map or a list of {key, value}) is on the execution, its
    value compared as text."""
    present = {(label["key"], label_value(label["value"])) for label in execution.labels}
    return all(pair in present for pair in label_pairs(labels))


def _execution_outputs(condition: dict, ctx: ConditionContext) -> bool:
    """Kestra: false without flow outputs; else the expression sees them as
    `trigger.outputs`."""
    execution = _execution(condition, ctx)
    if not execution.outputs:
        return False
    trigger = dict(ctx.variables.get("trigger") or {}, outputs=execution.outputs)
    return is_truthy(ctx.evaluate(condition.get("expression"), {"trigger": trigger}))


def _has_retry_attempt(condition: dict, ctx: ConditionContext) -> bool:
    allowed, refused = condition.get("in"), condition.get("notIn")
    for task_run in _execution(condition, ctx).task_runs:
        if len(task_run.attempts) < 2:
            continue
        for attempt in task_run.attempts:
            state = attempt.state.current.value
            if (allowed is None or state in allowed) and not (refused and state in refused):
                return True
    return False


# -- flow and expression conditions --------------------------------------------------------

def _expression(condition: dict, ctx: ConditionContext) -> bool:
    return is_truthy(ctx.evaluate(condition.get("expression")))


def _flow(ctx: ConditionContext, short: str) -> dict:
    flow = ctx.variables.get("flow")
    if not isinstance(flow, dict):
        raise ConditionError(f"{short} needs the trigger's flow (`flow` variables)")
    return flow


def _flow_condition(condition: dict, ctx: ConditionContext) -> bool:
    flow = _flow(ctx, "FlowCondition")
    return (flow.get("namespace") == condition.get("namespace")
            and flow.get("id") == condition.get("flowId"))


def _flow_namespace(condition: dict, ctx: ConditionContext) -> bool:
    namespace = str(_flow(ctx, "FlowNamespaceCondition").get("namespace"))
    if condition.get("prefix"):
        return namespace.startswith(str(condition.get("namespace")))
    return namespace == condition.get("namespace")


def _not(condition: dict, ctx: ConditionContext) -> bool:
    return not any(condition_matches(c, ctx) for c in condition.get("conditions") or [])


def _or(condition: dict, ctx: ConditionContext) -> bool:
    return any(condition_matches(c, ctx) for c in condition.get("conditions") or [])


def _public_holiday(condition: dict, ctx: ConditionContext) -> bool:
    raise ConditionError("PublicHoliday needs a holiday calendar, not available in kestra-lite")


# -- date conditions (Schedule triggers) ---------------------------------------------------

def _day_week(condition: dict, ctx: ConditionContext) -> bool:
    day = _local_date(condition, ctx, "DayWeek")
    return WEEKDAYS[day.weekday()] == _weekday(condition, "DayWeek")


def _day_week_in_month(condition: dict, ctx: ConditionContext) -> bool:
    day = _local_date(condition, ctx, "DayWeekInMonth")
    wanted = WEEKDAYS.index(_weekday(condition, "DayWeekInMonth"))
    which = str(condition.get("dayInMonth") or "").upper()
    if which not in DAYS_IN_MONTH:
        raise ConditionError(f"DayWeekInMonth: invalid dayInMonth `{condition.get('dayInMonth')}`"
                             ": expected one of " + ", ".join(DAYS_IN_MONTH))
    if day.weekday() != wanted:
        return False
    if which == "LAST":
        return (day + timedelta(days=7)).month != day.month
    return (day.day - 1) // 7 == DAYS_IN_MONTH.index(which)


def _weekend(condition: dict, ctx: ConditionContext) -> bool:
    return _local_date(condition, ctx, "Weekend").weekday() >= 5


def _time_between(condition: dict, ctx: ConditionContext) -> bool:
    moment = _moment(condition, ctx, "TimeBetween")
    after = _bound_time(condition, "after", ctx)
    before = _bound_time(condition, "before", ctx)
    if after is None and before is None:
        raise ConditionError("TimeBetween needs `after`, `before` or both")
    is_after = after is None or _time_of(moment, after[1]) > after[0]
    is_before = before is None or _time_of(moment, before[1]) < before[0]
    if after and before and after[1] == before[1] and after[0] >= before[0]:
        return is_after or is_before      # the range spans midnight
    return is_after and is_before


def _date_time_between(condition: dict, ctx: ConditionContext) -> bool:
    moment = _moment(condition, ctx, "DateTimeBetween")
    after = _bound_date_time(condition, "after", ctx)
    before = _bound_date_time(condition, "before", ctx)
    if after is None and before is None:
        raise ConditionError("DateTimeBetween needs `after`, `before` or both")
    return (after is None or moment >= after) and (before is None or moment <= before)


def _weekday(condition: dict, short: str) -> str:
    value = str(condition.get("dayOfWeek") or "").upper()
    if value not in WEEKDAYS:
        raise ConditionError(f"{short}: invalid dayOfWeek `{condition.get('dayOfWeek')}`: "
                             "expected one of " + ", ".join(WEEKDAYS))
    return value


def _local_date(condition: dict, ctx: ConditionContext, short: str) -> Date:
    value = _date_value(condition, ctx, short)
    if isinstance(value, Date) and not isinstance(value, datetime):
        return value
    return _in_zone(_parse_date_time(value, ctx, short), ctx).date()


def _moment(condition: dict, ctx: ConditionContext, short: str) -> datetime:
    """The date to test as an aware datetime in the schedule's zone."""
    value = _date_value(condition, ctx, short)
    return _in_zone(_parse_date_time(value, ctx, short), ctx)


def _date_value(condition: dict, ctx: ConditionContext, short: str):
    """The `date` property rendered, else the schedule date, else `{{ trigger.date }}`."""
    if condition.get("date") is not None:
        value = ctx.evaluate(condition["date"])
    elif ctx.date is not None:
        return ctx.date
    else:
        try:
            value = ctx.evaluate(DEFAULT_DATE)
        except ExpressionError:
            raise ConditionError(f"{short} has no date to test: set its `date` property or "
                                 "use it on a Schedule trigger") from None
    if value is None or value == "":
        raise ConditionError(f"{short} has no date to test: `date` rendered empty")
    return value


def _parse_date_time(value, ctx: ConditionContext, short: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, Date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConditionError(f"{short}: cannot read the date `{text}`: expected an ISO-8601 "
                             "date-time such as `2024-01-31T09:00:00Z`") from None


def _in_zone(moment: datetime, ctx: ConditionContext) -> datetime:
    """Aware, in the schedule's zone; a date-time without offset is read in that zone."""
    zone = _zone(ctx.zone)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _zone(name: str):
    try:
        return ZoneInfo(name or "UTC")
    except Exception:
        raise ConditionError(f"Invalid timezone `{name}`") from None


def _bound_time(condition: dict, key: str, ctx: ConditionContext):
    """(time, tzinfo or None) of `after`/`before` (`HH:MM[:SS][+offset]`), or None."""
    raw = condition.get(key)
    if raw is None:
        return None
    text = str(ctx.evaluate(raw)).strip()
    match = _TIME_RE.match(text)
    if match is None:
        raise ConditionError(f"TimeBetween `{key}` must be a time such as `16:00:00` or "
                             f"`16:00:00+02:00` (quote it in YAML), got `{raw}`")
    hour, minute, second, fraction, offset = match.groups()
    micros = int(round(float(fraction) * 1_000_000)) if fraction else 0
    try:
        value = Time(int(hour), int(minute), int(second or 0), micros)
    except ValueError:
        raise ConditionError(f"TimeBetween `{key}`: invalid time `{text}`") from None
    return value, _offset(offset)


def _offset(text: str | None):
    if not text:
        return None
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    try:
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    except ValueError:
        raise ConditionError(f"TimeBetween: invalid offset `{text}` (expected -18:00 to "
                             "+18:00)") from None


def _time_of(moment: datetime, offset) -> Time:
    """Time of day of `moment` at a bound's offset (the schedule's zone when none)."""
    local = moment.astimezone(offset) if offset is not None else moment
    return local.time().replace(tzinfo=None)


def _bound_date_time(condition: dict, key: str, ctx: ConditionContext) -> datetime | None:
    raw = condition.get(key)
    if raw is None:
        return None
    return _in_zone(_parse_date_time(ctx.evaluate(raw), ctx, f"DateTimeBetween `{key}`"), ctx)


# -- labels --------------------------------------------------------------------------------

def label_pairs(labels) -> list[tuple[str, str]]:
    """A map or a list of {key, value} as (key, text) pairs."""
    if isinstance(labels, dict):
        return [(str(k), label_value(v)) for k, v in labels.items()]
    return [(str(item["key"]), label_value(item["value"])) for item in labels or []
            if isinstance(item, dict)]


# -- descriptions (UI) ---------------------------------------------------------------------

def describe(condition: dict) -> str:
    """One line for a human: `ExecutionStatus in SUCCESS, WARNING`."""
    try:
        short = short_type(condition)
    except ConditionError as exc:
        return str(exc)
    keys = [k for k in condition if k != "type"]
    if short in ("Not", "Or"):
        inner = "; ".join(describe(c) for c in condition.get("conditions") or [])
        return ("none of: " if short == "Not" else "any of: ") + inner
    if short in ("ExecutionFlow", "FlowCondition"):
        return f"{short} {condition.get('namespace')}.{condition.get('flowId')}"
    details = ", ".join(f"{k}: {_short_text(condition[k])}" for k in keys)
    return f"{short} ({details})" if details else short


def _short_text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_short_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_short_text(v)}" for k, v in value.items()) + "}"
    return label_value(value)


_CHECKS: dict[str, Callable[[dict, ConditionContext], bool]] = {
    "ExecutionFlow": _execution_flow,
    "ExecutionNamespace": _execution_namespace,
    "ExecutionStatus": _execution_status,
    "ExecutionLabels": _execution_labels,
    "ExecutionOutputs": _execution_outputs,
    "Expression": _expression,
    "HasRetryAttempt": _has_retry_attempt,
    "Not": _not,
    "Or": _or,
    "FlowCondition": _flow_condition,
    "FlowNamespaceCondition": _flow_namespace,
    "DayWeek": _day_week,
    "DayWeekInMonth": _day_week_in_month,
    "Weekend": _weekend,
    "TimeBetween": _time_between,
    "DateTimeBetween": _date_time_between,
    "PublicHoliday": _public_holiday,
}
