"""Flow-trigger preconditions and legacy MultipleCondition (semantics 9.3): the pure parts.

A Flow trigger's `preconditions` (and each legacy MultipleCondition among its `conditions`)
is a set of named parts evaluated over a time window: each upstream execution event gives a
result per part (`evaluate_parts`), results are OR-accumulated inside the window
(`accumulate`), and the trigger fires when every part has been true (`is_satisfied`). The
store keeps the window and its results; the service decides when to reset them.

Part ids follow Kestra's scheme: `condition_<n>` for each `flows` entry, then
`condition_<n>_<whereId>` for each `where` entry (one counter, starting at 0 here; Kestra
starts at 1, the ids only live in our own window rows); a MultipleCondition's parts are its
map keys.

Windows are closed intervals [start, end] in UTC, `end` being the last millisecond that
still counts (Kestra's windows exclude both ends; ours include the start).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import regex

from kestra_lite.engine.conditions import (ConditionContext, ConditionError, condition_matches,
                                           describe, has_labels, label_pairs, short_type)
from kestra_lite.engine.expressions import ExpressionError, is_truthy
from kestra_lite.model.durations import format_duration, parse_duration
from kestra_lite.model.execution import label_value
from kestra_lite.model.state import as_utc

MILLISECOND = timedelta(milliseconds=1)
DEFAULT_WINDOW = "P1D"
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?$")
_OPERATOR_TEXT = {
    "EQUAL_TO": "equals", "NOT_EQUAL_TO": "does not equal", "IN": "is one of",
    "NOT_IN": "is not one of", "IS_TRUE": "is true", "IS_FALSE": "is false",
    "IS_NULL": "is null", "IS_NOT_NULL": "is not null", "STARTS_WITH": "starts with",
    "ENDS_WITH": "ends with", "CONTAINS": "contains", "REGEX": "matches",
}


@dataclass(frozen=True)
class Part:
    id: str
    description: str
    kind: str = "condition"                 # "flow", "where" or "condition"
    spec: dict | None = field(default=None, compare=False, repr=False)   # the YAML entry


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime          # inclusive: the last millisecond inside the window

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end


@dataclass(frozen=True)
class Preconditions:
    id: str
    parts: list[Part]
    time_window: dict
    reset_on_success: bool


@dataclass(frozen=True)
class Explanation:
    met: list[Part]
    missing: list[Part]
    window: Window | None
    time_left: timedelta | None


# -- building ------------------------------------------------------------------------------

def from_trigger(trigger: dict) -> list[Preconditions]:
    """The windowed condition sets of one Flow trigger map: its `preconditions`, then each
    legacy MultipleCondition of its `conditions`."""
    found = []
    if isinstance(trigger.get("preconditions"), dict):
        found.append(_from_preconditions(trigger["preconditions"]))
    for condition in trigger.get("conditions") or []:
        if isinstance(condition, dict) and _is_multiple(condition):
            found.append(_from_multiple_condition(condition))
    return found


def _is_multiple(condition: dict) -> bool:
    try:
        return short_type(condition) == "MultipleCondition"
    except ConditionError:
        return False


def _from_preconditions(raw: dict) -> Preconditions:
    parts = [Part(f"condition_{i}", describe_flow(entry), "flow", entry)
             for i, entry in enumerate(raw.get("flows") or [])]
    for entry in raw.get("where") or []:
        parts.append(Part(f"condition_{len(parts)}_{entry.get('id')}", describe_where(entry),
                          "where", entry))
    reset = raw.get("resetOnSuccess")
    return Preconditions(str(raw.get("id")), parts, normalise_time_window(raw.get("timeWindow")),
                         True if reset is None else bool(reset))


def _from_multiple_condition(raw: dict) -> Preconditions:
    parts = [Part(str(name), f"{name}: {describe(condition)}", "condition", condition)
             for name, condition in (raw.get("conditions") or {}).items()]
    if isinstance(raw.get("timeWindow"), dict):
        window = normalise_time_window(raw["timeWindow"])
    else:
        window = normalise_time_window({"type": "DURATION_WINDOW", "window": raw.get("window"),
                                        "windowAdvance": raw.get("windowAdvance")})
    reset = raw.get("resetOnSuccess")
    return Preconditions(str(raw.get("id")), parts, window, True if reset is None else bool(reset))


def normalise_time_window(raw: dict | None) -> dict:
    """`{"type": ..., <its fields>}` with the defaults filled in (window P1D)."""
    raw = raw or {}
    kind = raw.get("type") or "DURATION_WINDOW"
    if kind == "DURATION_WINDOW":
        out = {"type": kind, "window": raw.get("window") or DEFAULT_WINDOW}
        if raw.get("windowAdvance"):
            out["windowAdvance"] = raw["windowAdvance"]
        return out
    if kind == "SLIDING_WINDOW":
        return {"type": kind, "window": raw.get("window") or DEFAULT_WINDOW}
    if kind == "DAILY_TIME_DEADLINE":
        return {"type": kind, "deadline": raw.get("deadline")}
    if kind == "DAILY_TIME_WINDOW":
        return {"type": kind, "startTime": raw.get("startTime"), "endTime": raw.get("endTime")}
    raise ConditionError(f"Invalid time window type `{kind}`: expected DURATION_WINDOW, "
                         "SLIDING_WINDOW, DAILY_TIME_DEADLINE or DAILY_TIME_WINDOW")


# -- descriptions --------------------------------------------------------------------------

def describe_flow(entry: dict) -> str:
    """`io.kestra.tests.flow-a ends in SUCCESS or WARNING with label env=prod`."""
    namespace, flow_id = entry.get("namespace"), entry.get("flowId")
    text = f"{namespace}.{flow_id}" if flow_id else f"any flow of namespace {namespace}"
    states = entry.get("states")
    text += f" ends in {_or_list(states)}" if states else " reaches one of the trigger's states"
    labels = label_pairs(entry.get("labels"))
    if labels:
        text += (" with label " if len(labels) == 1 else " with labels ") + ", ".join(
            f"{k}={v}" for k, v in labels)
    return text


def describe_where(entry: dict) -> str:
    """`where flow1: NAMESPACE starts with `io.kestra` and FLOW_ID equals `flow-a``."""
    joiner = " or " if entry.get("operand") == "OR" else " and "
    return f"where {entry.get('id')}: " + joiner.join(
        _describe_filter(f) for f in entry.get("filters") or [])


def _describe_filter(flt: dict) -> str:
    field_text = flt.get("field")
    if field_text == "EXPRESSION":
        field_text = f"`{flt.get('value')}`"
        if flt.get("type") in ("IS_TRUE", "IS_FALSE", "IS_NULL", "IS_NOT_NULL"):
            return f"{field_text} {_OPERATOR_TEXT.get(flt.get('type'), flt.get('type'))}"
    operator = flt.get("type")
    text = f"{field_text} {_OPERATOR_TEXT.get(operator, operator)}"
    if operator in ("IN", "NOT_IN"):
        return text + " " + ", ".join(f"`{v}`" for v in flt.get("values") or [])
    if operator in ("IS_TRUE", "IS_FALSE", "IS_NULL", "IS_NOT_NULL"):
        return text
    return text + f" `{flt.get('value')}`"


def _or_list(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


# -- evaluation ----------------------------------------------------------------------------

def evaluate_parts(pre: Preconditions, ctx: ConditionContext) -> dict[str, bool]:
    """Each part's result for ONE upstream execution event; raises ConditionError naming
    the part that could not be evaluated."""
    return {part.id: _evaluate_part(pre, part, ctx) for part in pre.parts}


def _evaluate_part(pre: Preconditions, part: Part, ctx: ConditionContext) -> bool:
    try:
        if part.kind == "flow":
            return _flow_matches(part.spec, ctx)
        if part.kind == "where":
            return _where_matches(part.spec, ctx)
        return condition_matches(part.spec, ctx)
    except (ConditionError, ExpressionError) as exc:
        raise ConditionError(f"Preconditions `{pre.id}`, condition `{part.id}` "
                             f"({part.description}): {exc}") from None


def _upstream(ctx: ConditionContext):
    if ctx.execution is None:
        raise ConditionError("needs the upstream execution")
    return ctx.execution


def _flow_matches(entry: dict, ctx: ConditionContext) -> bool:
    """Kestra's UpstreamFlowCondition: namespace, flowId if set, states if set (without
    states any state the trigger listens to counts), every label present."""
    execution = _upstream(ctx)
    if entry.get("namespace") is not None and execution.namespace != entry["namespace"]:
        return False
    if entry.get("flowId") is not None and execution.flow_id != entry["flowId"]:
        return False
    states = entry.get("states")
    if states is not None and ctx.current_state().value not in states:
        return False
    return has_labels(execution, entry.get("labels"))


def _where_matches(entry: dict, ctx: ConditionContext) -> bool:
    """Filters combined with AND (default) or OR, evaluated in order and short-circuited
    like Kestra's (a later EXPRESSION filter is not rendered once the result is known)."""
    results = (_filter_matches(flt, ctx) for flt in entry.get("filters") or [])
    return any(results) if entry.get("operand") == "OR" else all(results)


def _filter_matches(flt: dict, ctx: ConditionContext) -> bool:
    value = _field_value(flt, ctx)
    operator, expected = flt.get("type"), flt.get("value")
    if operator in ("IS_NULL", "IS_NOT_NULL"):
        return (value is None) == (operator == "IS_NULL")
    if operator in ("IS_TRUE", "IS_FALSE"):
        return is_truthy(value) == (operator == "IS_TRUE")
    if operator in ("IN", "NOT_IN"):
        values = [str(v) for v in flt.get("values") or []]
        return (value in values) == (operator == "IN")
    expected = "" if expected is None else str(expected)
    if operator == "EQUAL_TO":
        return value == expected
    if operator == "NOT_EQUAL_TO":
        return value != expected
    if value is None:
        return False
    return _string_test(operator, value, expected)


def _string_test(operator: str, value: str, expected: str) -> bool:
    if operator == "STARTS_WITH":
        return value.startswith(expected)
    if operator == "ENDS_WITH":
        return value.endswith(expected)
    if operator == "CONTAINS":
        return expected in value
    if operator == "REGEX":
        return regex_matches(expected, value)
    raise ConditionError(f"unknown filter type `{operator}`")


REGEX_TIMEOUT = 0.05             # seconds: a pathological pattern fails, it never stalls
REGEX_MAX_VALUE = 10_000         # characters of a value a REGEX filter looks at


def regex_matches(pattern: str, value: str) -> bool:
    """Full match, bounded in time (the `regex` module's timeout; `re` would backtrack for
    minutes on a pattern like `(a|aa)+$`, while the evaluating process holds a write
    transaction)."""
    try:
        return regex.fullmatch(pattern, value[:REGEX_MAX_VALUE],
                               timeout=REGEX_TIMEOUT) is not None
    except regex.error as exc:
        raise ConditionError(f"invalid REGEX `{pattern}`: {exc}") from None
    except TimeoutError:
        raise ConditionError(f"REGEX `{pattern}` took longer than {REGEX_TIMEOUT * 1000:.0f} "
                             "ms on a value: simplify it") from None


def _field_value(flt: dict, ctx: ConditionContext) -> str | None:
    """FLOW_ID, NAMESPACE, STATE (state name) of the upstream execution, or the rendered
    EXPRESSION (`value`)."""
    field_name = flt.get("field")
    if field_name == "EXPRESSION":
        rendered = ctx.evaluate(flt.get("value"))
        return None if rendered is None else label_value(rendered)
    execution = _upstream(ctx)
    if field_name == "FLOW_ID":
        return execution.flow_id
    if field_name == "NAMESPACE":
        return execution.namespace
    if field_name == "STATE":
        return ctx.current_state().value
    raise ConditionError(f"unknown filter field `{field_name}`")


def accumulate(stored: dict[str, bool], new: dict[str, bool]) -> dict[str, bool]:
    """OR per part: once true inside the window a part stays true."""
    return {key: bool(stored.get(key)) or bool(new.get(key)) for key in {**stored, **new}}


def is_satisfied(pre: Preconditions, results: dict[str, bool]) -> bool:
    """Every part has been true (like Kestra, a set without parts is satisfied)."""
    return all(results.get(part.id) for part in pre.parts)


def explain(pre: Preconditions, results: dict[str, bool], now: datetime,
            window: Window | None) -> Explanation:
    """Which parts are met and missing, and the time left in the window (for the UI)."""
    met = [part for part in pre.parts if results.get(part.id)]
    missing = [part for part in pre.parts if not results.get(part.id)]
    time_left = None
    if window is not None:
        time_left = max(window.end + MILLISECOND - as_utc(now), timedelta(0))
    return Explanation(met, missing, window, time_left)


# -- windows -------------------------------------------------------------------------------

def window_at(pre: Preconditions, now: datetime,
              first_event: datetime | None = None) -> Window | None:
    """The window containing `now`, or None when the daily types are closed at `now`."""
    now = as_utc(now)
    spec = pre.time_window or {}
    kind = spec.get("type") or "DURATION_WINDOW"
    if kind == "DURATION_WINDOW":
        return _duration_window(spec, now)
    if kind == "SLIDING_WINDOW":
        return _sliding_window(spec, now, first_event)
    if kind == "DAILY_TIME_DEADLINE":
        return _deadline_window(spec, now)
    if kind == "DAILY_TIME_WINDOW":
        return _daily_window(spec, now)
    raise ConditionError(f"Preconditions `{pre.id}`: invalid time window type `{kind}`")


def _duration_window(spec: dict, now: datetime) -> Window:
    """Fixed buckets of `window` laid from midnight UTC plus windowAdvance: the one holding
    `now`. For windows that divide a day (PT15M, PT1H, PT6H, P1D) these are Kestra's
    truncations of `now` to the window's minutes, hour or day; unlike Kestra's code (which
    truncates a PT6H window to the hour) they tile the day as Kestra's docs describe
    (06:00-12:00, 12:00-18:00...), and an advance later than `now` gives the bucket that
    started the day before instead of one that has not begun."""
    size = _duration(spec.get("window") or DEFAULT_WINDOW, "window")
    advance = _duration(spec.get("windowAdvance"), "windowAdvance") if spec.get(
        "windowAdvance") else timedelta(0)
    origin = now.replace(hour=0, minute=0, second=0, microsecond=0) + advance
    start = origin + (now - origin) // size * size      # timedelta // timedelta: an int
    return Window(start, start + size - MILLISECOND)


def _sliding_window(spec: dict, now: datetime, first_event: datetime | None) -> Window:
    """Starts at the first matching event (or `now`) and lasts `window`; a window whose
    first event is too old has expired and a new one starts at `now`."""
    size = _duration(spec.get("window") or DEFAULT_WINDOW, "window")
    start = as_utc(first_event) if first_event is not None else now
    if not start <= now < start + size:
        start = now
    start = _truncate_ms(start)
    return Window(start, start + size - MILLISECOND)


def _deadline_window(spec: dict, now: datetime) -> Window | None:
    """Today 00:00 until the deadline (exclusive); None once the deadline has passed."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    deadline = midnight + _time_of_day(spec.get("deadline"), "deadline")
    if now >= deadline:
        return None
    return Window(midnight, deadline - MILLISECOND)


def _daily_window(spec: dict, now: datetime) -> Window | None:
    """Today startTime until endTime (exclusive); an endTime before the startTime spans
    midnight. None outside."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start_offset = _time_of_day(spec.get("startTime"), "startTime")
    end_offset = _time_of_day(spec.get("endTime"), "endTime")
    if end_offset <= start_offset:
        end_offset += timedelta(days=1)
    for day in (midnight - timedelta(days=1), midnight):
        start, end = day + start_offset, day + end_offset
        if start <= now < end:
            return Window(start, end - MILLISECOND)
    return None


def _duration(value, name: str) -> timedelta:
    try:
        size = parse_duration(value)
    except ValueError as exc:
        raise ConditionError(f"timeWindow `{name}`: {exc}") from None
    if name == "window" and size <= timedelta(0):
        raise ConditionError(f"timeWindow `window` must be positive, got "
                             f"{format_duration(size)}")
    return size


def _time_of_day(value, name: str) -> timedelta:
    match = _TIME_RE.match(str(value or "").strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ConditionError(f"timeWindow `{name}` must be a time `HH:MM:SS`, got `{value}`")
    hour, minute, second, fraction = match.groups()
    return timedelta(hours=int(hour), minutes=int(minute), seconds=int(second or 0),
                     microseconds=int(round(float(fraction) * 1e6)) if fraction else 0)


def _truncate_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
