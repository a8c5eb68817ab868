"""Triggers (semantics 9) and flow SLA (semantics 8): validation of the YAML maps.

`parse_triggers(raw, path, report=)` and `parse_sla(raw, path, report=)` return the raw maps
(trigger and condition `type` normalised to the canonical name) after reporting every
problem through `report(path_tuple, message, at_key)`; without `report` they raise
`InvalidFlow` (positions 0:0, paths set).
"""
from __future__ import annotations

import copy
import difflib
import re
from datetime import datetime, timedelta
from typing import Callable

import regex

from ..errors import InvalidFlow, Problem
from .cron import Cron, CronError
from .durations import parse_duration
from .execution import label_value
from .inputs import format_path
from .state import State

TRIGGER_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
STATES = tuple(s.value for s in State)
MAX_SLA_DURATION = timedelta(days=365)

SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"
FLOW = "io.kestra.plugin.core.trigger.Flow"
WEBHOOK = "io.kestra.plugin.core.trigger.Webhook"
SCHEDULE_ON_DATES = "io.kestra.plugin.core.trigger.ScheduleOnDates"

COMMON_TRIGGER_KEYS = ("id", "type", "description", "conditions", "disabled", "labels",
                       "stopAfter", "logLevel", "logToFile", "workerGroup", "minLogLevel")

TRIGGER_TYPES: dict[str, dict] = {
    SCHEDULE: {"aliases": ("io.kestra.core.models.triggers.types.Schedule",),
               "keys": ("cron", "withSeconds", "timezone", "inputs", "lateMaximumDelay",
                        "recoverMissedSchedules", "scheduleConditions", "backfill",
                        "interval")},
    FLOW: {"aliases": ("io.kestra.core.models.triggers.types.Flow",),
           "keys": ("states", "inputs", "preconditions")},
    WEBHOOK: {"aliases": ("io.kestra.core.models.triggers.types.Webhook",),
              "keys": ("key", "inputs")},
    SCHEDULE_ON_DATES: {"aliases": (), "keys": ("dates", "timezone", "inputs",
                                                "recoverMissedSchedules", "interval")},
}
_TRIGGER_LOOKUP = {name: canonical for canonical, info in TRIGGER_TYPES.items()
                   for name in (canonical,) + info["aliases"]}

_COND = "io.kestra.plugin.core.condition."
# condition short name -> required properties
CONDITION_TYPES: dict[str, tuple[str, ...]] = {
    "ExecutionFlow": ("namespace", "flowId"),
    "ExecutionNamespace": ("namespace",),
    "ExecutionStatus": (),
    "ExecutionLabels": ("labels",),
    "ExecutionOutputs": ("expression",),
    "Expression": ("expression",),
    "HasRetryAttempt": (),
    "Not": ("conditions",),
    "Or": ("conditions",),
    "MultipleCondition": ("id", "conditions"),
    "DayWeek": ("dayOfWeek",),
    "DayWeekInMonth": ("dayOfWeek", "dayInMonth"),
    "Weekend": (),
    "TimeBetween": (),
    "DateTimeBetween": (),
    "PublicHoliday": (),
    "FlowCondition": ("namespace", "flowId"),
    "FlowNamespaceCondition": ("namespace",),
}
_CONDITION_LOOKUP: dict[str, str] = {}
for _short in CONDITION_TYPES:
    _canonical = _COND + _short
    _names = {_canonical, "io.kestra.core.models.conditions.types." + _short}
    if not _short.endswith("Condition"):
        _names |= {_COND + _short + "Condition",
                   "io.kestra.core.models.conditions.types." + _short + "Condition"}
    for _name in _names:
        _CONDITION_LOOKUP[_name] = _canonical

FILTER_FIELDS = ("FLOW_ID", "NAMESPACE", "STATE", "EXPRESSION")
FILTER_TYPES = ("EQUAL_TO", "NOT_EQUAL_TO", "IN", "NOT_IN", "IS_TRUE", "IS_FALSE", "IS_NULL",
                "IS_NOT_NULL", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "REGEX")
WINDOW_FIELDS = {
    "DURATION_WINDOW": ("window", "windowAdvance"),
    "SLIDING_WINDOW": ("window",),
    "DAILY_TIME_DEADLINE": ("deadline",),
    "DAILY_TIME_WINDOW": ("startTime", "endTime"),
}
WINDOW_REQUIRED = {"DAILY_TIME_DEADLINE": ("deadline",),
                   "DAILY_TIME_WINDOW": ("startTime", "endTime")}
_TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")

Report = Callable[[tuple, str, bool], None]


def _is_expression(value) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


class _Collector:
    def __init__(self, report: Report | None):
        self.report = report
        self.problems: list[Problem] = []

    def __call__(self, path: tuple, message: str, at_key: bool = False) -> None:
        if self.report is not None:
            self.report(path, message, at_key)
        else:
            self.problems.append(Problem(0, 0, message, format_path(path)))

    def finish(self):
        if self.problems:
            raise InvalidFlow(self.problems)


def _as_path(path) -> tuple:
    if isinstance(path, tuple):
        return path
    return (path,) if path else ()


def canonical_trigger_type(type_string) -> str | None:
    return _TRIGGER_LOOKUP.get(type_string) if isinstance(type_string, str) else None


def canonical_condition_type(type_string) -> str | None:
    return _CONDITION_LOOKUP.get(type_string) if isinstance(type_string, str) else None


def _closest(name, candidates) -> str | None:
    if not isinstance(name, str):
        return None
    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def check_labels(labels, path: tuple, add, what: str = "labels") -> None:
    """Map or list of {key, value}; no `system.` keys."""
    if labels is None:
        return
    if isinstance(labels, dict):
        items = [((path + (k,)), k, v) for k, v in labels.items()]
    elif isinstance(labels, list):
        items = []
        for i, item in enumerate(labels):
            if not isinstance(item, dict) or "key" not in item or "value" not in item:
                add(path + (i,), f"`{what}` list items must be mappings with `key` and `value`")
                continue
            items.append((path + (i,), item["key"], item["value"]))
    else:
        add(path, f"`{what}` must be a map or a list of `key`/`value` mappings")
        return
    for p, key, value in items:
        if str(key).startswith("system."):
            add(p, "System labels can only be set by Kestra itself, offending label: "
                   f"{key}={label_value(value)}", True)


def _check_states(value, p: tuple, add, name: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        add(p, f"`{name}` must be a list of states")
        return
    for i, state in enumerate(value):
        if state not in STATES:
            add(p + (i,), f"Invalid state `{state}` in `{name}`: expected one of "
                          + ", ".join(STATES))


def _check_duration(value, p: tuple, add, name: str, *, dynamic=False) -> None:
    if value is None or (dynamic and _is_expression(value)):
        return
    try:
        parse_duration(value)
    except ValueError as exc:
        add(p, f"`{name}`: {exc}")


def validate_cron(cron, with_seconds: bool = False) -> str | None:
    """None when valid, else the reason."""
    try:
        Cron.parse(cron, with_seconds=with_seconds)
    except CronError as exc:
        return str(exc)
    return None


def parse_triggers(raw_list, path="triggers", *, report: Report | None = None) -> list[dict]:
    add = _Collector(report)
    base = _as_path(path)
    out: list[dict] = []
    if raw_list is None:
        return out
    if not isinstance(raw_list, list):
        add(base, "`triggers` must be a list")
        add.finish()
        return out
    seen: set[str] = set()
    for index, raw in enumerate(raw_list):
        p = base + (index,)
        trigger = _parse_trigger(raw, p, add)
        if trigger is None:
            continue
        if trigger.get("id") in seen:
            add(p + ("id",), f"Duplicate trigger id with name [{trigger['id']}]")
        seen.add(trigger.get("id"))
        out.append(trigger)
    add.finish()
    return out


def _parse_trigger(raw, p: tuple, add) -> dict | None:
    if not isinstance(raw, dict):
        add(p, "A trigger must be a mapping with `id` and `type`")
        return None
    trigger = copy.deepcopy(raw)
    trigger_id = raw.get("id")
    if trigger_id is None:
        add(p, "Missing required property `id` of trigger")
    elif not isinstance(trigger_id, str) or not TRIGGER_ID_RE.match(trigger_id):
        add(p + ("id",), f"Invalid trigger id `{trigger_id}`: must match "
                         f"`{TRIGGER_ID_RE.pattern}`")
    label = f"trigger `{trigger_id}`"
    type_string = raw.get("type")
    if type_string is None:
        add(p, f"Missing required property `type` of {label}")
        return trigger
    canonical = canonical_trigger_type(type_string)
    if canonical is None:
        suggestion = _closest(type_string, _TRIGGER_LOOKUP)
        message = f"Unknown trigger type `{type_string}`"
        if suggestion:
            message += f", did you mean `{_TRIGGER_LOOKUP[suggestion]}`?"
        add(p + ("type",), message)
        return trigger
    trigger["type"] = canonical
    allowed = set(COMMON_TRIGGER_KEYS) | set(TRIGGER_TYPES[canonical]["keys"])
    for key in raw:
        if key not in allowed:
            add(p + (key,), f"Unknown property `{key}` of {label} ({canonical})", True)
    for key in ("disabled", "logToFile", "withSeconds"):
        if key in raw and raw[key] is not None and not isinstance(raw[key], bool):
            add(p + (key,), f"`{key}` of {label} must be a boolean")
    check_labels(raw.get("labels"), p + ("labels",), add)
    _check_states(raw.get("stopAfter"), p + ("stopAfter",), add, "stopAfter")
    for key in ("inputs",):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            add(p + (key,), f"`{key}` of {label} must be a map")
    conditions = raw.get("conditions")
    if conditions is not None:
        trigger["conditions"] = parse_conditions(conditions, p + ("conditions",), add)
    if canonical == SCHEDULE:
        cron = raw.get("cron")
        if cron is None:
            add(p, f"Missing required property `cron` of {label}")
        else:
            reason = validate_cron(cron, bool(raw.get("withSeconds")))
            if reason:
                add(p + ("cron",), reason)
        zone = raw.get("timezone")
        if zone is not None:
            try:
                from zoneinfo import ZoneInfo
                ZoneInfo(str(zone))
            except Exception:
                add(p + ("timezone",), f"Invalid timezone `{zone}` of {label}")
        _check_duration(raw.get("lateMaximumDelay"), p + ("lateMaximumDelay",), add,
                        "lateMaximumDelay")
        _check_duration(raw.get("interval"), p + ("interval",), add, "interval")
        rms = raw.get("recoverMissedSchedules")
        if rms is not None and rms not in ("ALL", "LAST", "NONE"):
            add(p + ("recoverMissedSchedules",), "`recoverMissedSchedules` must be one of "
                                                 "ALL, LAST, NONE")
        if raw.get("scheduleConditions") is not None:
            trigger["scheduleConditions"] = parse_conditions(
                raw["scheduleConditions"], p + ("scheduleConditions",), add)
    elif canonical == WEBHOOK:
        key = raw.get("key")
        if key is None or key == "":
            add(p, f"Missing required property `key` of {label}")
        elif not isinstance(key, (str, int)) or isinstance(key, bool):
            add(p + ("key",), f"`key` of {label} must be a string")
        elif len(str(key)) > 256:
            add(p + ("key",), f"`key` of {label} must be at most 256 characters")
    elif canonical == FLOW:
        _check_states(raw.get("states"), p + ("states",), add, "states")
        if raw.get("preconditions") is not None:
            _check_preconditions(raw["preconditions"], p + ("preconditions",), add)
    elif canonical == SCHEDULE_ON_DATES:
        dates = raw.get("dates")
        if not isinstance(dates, list) or not dates:
            add(p, f"Missing required property `dates` of {label} (a list of date-times)")
        else:
            for i, value in enumerate(dates):
                if not _is_date_time(value):
                    add(p + ("dates", i), f"`{value}` is not an ISO date-time "
                                          "(e.g. 2026-12-01T09:00:00Z)")
    return trigger


def _is_date_time(value) -> bool:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return 1900 <= moment.year <= 9999


def parse_conditions(raw, p: tuple, add) -> list:
    if not isinstance(raw, list):
        add(p, "`conditions` must be a list")
        return raw
    out = []
    for i, cond in enumerate(raw):
        out.append(_parse_condition(cond, p + (i,), add))
    return out


def _parse_condition(raw, p: tuple, add):
    if not isinstance(raw, dict):
        add(p, "A condition must be a mapping with a `type`")
        return raw
    cond = dict(raw)
    type_string = raw.get("type")
    if type_string is None:
        add(p, "Missing required property `type` of condition")
        return cond
    canonical = canonical_condition_type(type_string)
    if canonical is None:
        suggestion = _closest(type_string, _CONDITION_LOOKUP)
        message = f"Unknown condition type `{type_string}`"
        if suggestion:
            message += f", did you mean `{_CONDITION_LOOKUP[suggestion]}`?"
        add(p + ("type",), message)
        return cond
    cond["type"] = canonical
    short = canonical.rsplit(".", 1)[-1]
    for key in CONDITION_TYPES[short]:
        if raw.get(key) is None:
            add(p, f"Missing required property `{key}` of condition `{short}`")
    if short in ("Not", "Or") and isinstance(raw.get("conditions"), list):
        cond["conditions"] = parse_conditions(raw["conditions"], p + ("conditions",), add)
    if short == "MultipleCondition" and raw.get("conditions") is not None and \
            not isinstance(raw["conditions"], dict):
        add(p + ("conditions",), "`conditions` of a MultipleCondition must be a map of name "
                                 "-> condition")
    if short == "MultipleCondition" and isinstance(raw.get("conditions"), dict):
        cond["conditions"] = {k: _parse_condition(v, p + ("conditions", k), add)
                              for k, v in raw["conditions"].items()}
        _check_duration(raw.get("window"), p + ("window",), add, "window")
        _check_duration(raw.get("windowAdvance"), p + ("windowAdvance",), add, "windowAdvance")
    if short == "ExecutionStatus":
        _check_states(raw.get("in"), p + ("in",), add, "in")
        _check_states(raw.get("notIn"), p + ("notIn",), add, "notIn")
    if short == "ExecutionNamespace" and raw.get("comparison") is not None and \
            raw["comparison"] not in ("EQUALS", "PREFIX", "SUFFIX"):
        add(p + ("comparison",), "`comparison` must be one of EQUALS, PREFIX, SUFFIX")
    return cond


def _check_preconditions(raw, p: tuple, add) -> None:
    if not isinstance(raw, dict):
        add(p, "`preconditions` must be a mapping")
        return
    allowed = ("id", "flows", "where", "timeWindow", "resetOnSuccess")
    for key in raw:
        if key not in allowed:
            add(p + (key,), f"Unknown property `{key}` of preconditions", True)
    pid = raw.get("id")
    if pid is None:
        add(p, "Missing required property `id` of preconditions")
    elif not isinstance(pid, str) or not TRIGGER_ID_RE.match(pid):
        add(p + ("id",), f"Invalid preconditions id `{pid}`: must match "
                         f"`{TRIGGER_ID_RE.pattern}`")
    if raw.get("resetOnSuccess") is not None and not isinstance(raw["resetOnSuccess"], bool):
        add(p + ("resetOnSuccess",), "`resetOnSuccess` must be a boolean")
    flows = raw.get("flows")
    if flows is not None:
        if not isinstance(flows, list):
            add(p + ("flows",), "`preconditions.flows` must be a list")
        else:
            for i, entry in enumerate(flows):
                fp = p + ("flows", i)
                if not isinstance(entry, dict):
                    add(fp, "A `flows` entry must be a mapping with a `namespace`")
                    continue
                for key in entry:
                    if key not in ("namespace", "flowId", "states", "labels"):
                        add(fp + (key,), f"Unknown property `{key}` of a preconditions flow",
                            True)
                if entry.get("namespace") is None:
                    add(fp, "Missing required property `namespace` of a preconditions flow")
                _check_states(entry.get("states"), fp + ("states",), add, "states")
                _check_label_filter(entry.get("labels"), fp + ("labels",), add)
    where = raw.get("where")
    if where is not None:
        if not isinstance(where, list):
            add(p + ("where",), "`preconditions.where` must be a list")
        else:
            for i, entry in enumerate(where):
                _check_where(entry, p + ("where", i), add)
    window = raw.get("timeWindow")
    if window is not None:
        _check_time_window(window, p + ("timeWindow",), add)


def _check_label_filter(labels, p: tuple, add) -> None:
    """Labels an upstream execution must carry: a map, or a list of `key`/`value` items."""
    if labels is None or isinstance(labels, dict):
        return
    if not isinstance(labels, list):
        add(p, "`labels` must be a map or a list of `key`/`value` mappings")
        return
    for i, item in enumerate(labels):
        if not isinstance(item, dict) or "key" not in item or "value" not in item:
            add(p + (i,), "`labels` list items must be mappings with `key` and `value`")


def _check_where(entry, p: tuple, add) -> None:
    if not isinstance(entry, dict):
        add(p, "A `where` entry must be a mapping with `id` and `filters`")
        return
    for key in entry:
        if key not in ("id", "operand", "filters"):
            add(p + (key,), f"Unknown property `{key}` of a `where` entry", True)
    wid = entry.get("id")
    if wid is None:
        add(p, "Missing required property `id` of a `where` entry")
    elif not isinstance(wid, str) or not TRIGGER_ID_RE.match(wid):
        add(p + ("id",), f"Invalid id `{wid}`: must match `{TRIGGER_ID_RE.pattern}`")
    operand = entry.get("operand")
    if operand is not None and operand not in ("AND", "OR"):
        add(p + ("operand",), "`operand` must be AND or OR")
    filters = entry.get("filters")
    if not isinstance(filters, list) or not filters:
        add(p, "Missing required property `filters` of a `where` entry (non-empty list)")
        return
    for i, flt in enumerate(filters):
        fp = p + ("filters", i)
        if not isinstance(flt, dict):
            add(fp, "A filter must be a mapping with `field`, `type` and `value`/`values`")
            continue
        for key in flt:
            if key not in ("field", "type", "value", "values"):
                add(fp + (key,), f"Unknown property `{key}` of a filter", True)
        field = flt.get("field")
        if field not in FILTER_FIELDS:
            add(fp + ("field",) if "field" in flt else fp,
                f"Invalid filter field `{field}`: expected one of " + ", ".join(FILTER_FIELDS))
        ftype = flt.get("type")
        if ftype not in FILTER_TYPES:
            add(fp + ("type",) if "type" in flt else fp,
                f"Invalid filter type `{ftype}`: expected one of " + ", ".join(FILTER_TYPES))
            continue
        if ftype in ("IN", "NOT_IN"):
            if flt.get("values") is None:
                add(fp, f"Filter of type `{ftype}` requires `values`")
            elif not isinstance(flt["values"], list):
                add(fp + ("values",), "`values` must be a list")
            if "value" in flt:
                add(fp + ("value",), f"Filter of type `{ftype}` cannot have a `value`, use "
                                     "`values`", True)
        else:
            if flt.get("value") is None:
                add(fp, f"Filter of type `{ftype}` requires `value`")
            elif ftype == "REGEX" and not _is_expression(flt["value"]):
                try:
                    regex.compile(str(flt["value"]))
                except regex.error as exc:
                    add(fp + ("value",), f"Invalid REGEX `{flt['value']}`: {exc}")
            if "values" in flt:
                add(fp + ("values",), f"Filter of type `{ftype}` cannot have `values`, use "
                                      "`value`", True)


def _is_time_of_day(value) -> bool:
    text = str(value)
    if not _TIME_RE.match(text):
        return False
    parts = text.split(":")
    seconds = float(parts[2]) if len(parts) > 2 else 0.0
    return int(parts[0]) < 24 and int(parts[1]) < 60 and seconds < 60


def _check_positive(value, p: tuple, add, name: str) -> None:
    try:
        if value is not None and parse_duration(value) <= timedelta(0):
            add(p, f"`{name}` must be longer than zero")
    except ValueError:
        pass                                # reported by _check_duration


def _check_time_window(window, p: tuple, add) -> None:
    if not isinstance(window, dict):
        add(p, "`timeWindow` must be a mapping")
        return
    wtype = window.get("type", "DURATION_WINDOW")
    if wtype not in WINDOW_FIELDS:
        add(p + ("type",), f"Invalid time window type `{wtype}`: expected one of "
                           + ", ".join(WINDOW_FIELDS))
        return
    all_fields = {f for fields in WINDOW_FIELDS.values() for f in fields}
    for key in window:
        if key == "type":
            continue
        if key not in all_fields:
            add(p + (key,), f"Unknown property `{key}` of timeWindow", True)
        elif key not in WINDOW_FIELDS[wtype]:
            article = "an" if key[0] in "aeiou" else "a"
            add(p + (key,), f"Time window of type `{wtype}` cannot have {article} {key}.", True)
    for key in WINDOW_REQUIRED.get(wtype, ()):
        if window.get(key) is None:
            article = "an" if key[0] in "aeiou" else "a"
            add(p, f"Time window of type `{wtype}` must have {article} {key}.")
    for key in ("window", "windowAdvance"):
        if key in WINDOW_FIELDS[wtype]:
            _check_duration(window.get(key), p + (key,), add, key)
    _check_positive(window.get("window"), p + ("window",), add, "window")
    for key in ("deadline", "startTime", "endTime"):
        value = window.get(key)
        if value is not None and key in WINDOW_FIELDS[wtype] and not _is_time_of_day(value):
            add(p + (key,), f"`{key}` must be a time of day `HH:MM:SS` (00:00:00 to "
                            f"23:59:59), got `{value}`")


# ---------------------------------------------------------------------------------------
# SLA

SLA_KEYS = {"MAX_DURATION": ("id", "type", "behavior", "labels", "duration"),
            "EXECUTION_ASSERTION": ("id", "type", "behavior", "labels", "assert")}


def parse_sla(raw_list, path="sla", *, report: Report | None = None) -> list[dict]:
    add = _Collector(report)
    base = _as_path(path)
    out: list[dict] = []
    if raw_list is None:
        return out
    if not isinstance(raw_list, list):
        add(base, "`sla` must be a list")
        add.finish()
        return out
    for index, raw in enumerate(raw_list):
        p = base + (index,)
        if not isinstance(raw, dict):
            add(p, "An SLA must be a mapping with `id`, `type` and `behavior`")
            continue
        sla_id = raw.get("id")
        if sla_id is None:
            add(p, "Missing required property `id` of SLA")
        elif not isinstance(sla_id, str) or not TRIGGER_ID_RE.match(sla_id):
            add(p + ("id",), f"Invalid SLA id `{sla_id}`: must match `{TRIGGER_ID_RE.pattern}`")
        label = f"SLA `{sla_id}`"
        sla_type = raw.get("type")
        if sla_type is None:
            add(p, f"Missing required property `type` of {label}")
        elif sla_type not in SLA_KEYS:
            add(p + ("type",), f"Invalid type `{sla_type}` of {label}: expected MAX_DURATION or "
                               "EXECUTION_ASSERTION")
        behavior = raw.get("behavior")
        if behavior is None:
            add(p, f"Missing required property `behavior` of {label}")
        elif behavior not in ("FAIL", "CANCEL", "NONE"):
            add(p + ("behavior",), f"Invalid behavior `{behavior}` of {label}: expected FAIL, "
                                   "CANCEL or NONE")
        check_labels(raw.get("labels"), p + ("labels",), add)
        if sla_type in SLA_KEYS:
            for key in raw:
                if key not in SLA_KEYS[sla_type]:
                    add(p + (key,), f"Unknown property `{key}` of {label} ({sla_type})", True)
            if sla_type == "MAX_DURATION":
                duration = raw.get("duration")
                if duration is None:
                    add(p, f"Missing required property `duration` of {label}")
                else:
                    try:
                        value = parse_duration(duration)
                        if value <= timedelta(0):
                            add(p + ("duration",), f"`duration` of {label} must be positive")
                        elif value > MAX_SLA_DURATION:
                            add(p + ("duration",), f"`duration` of {label} must be at most "
                                                   "365 days")
                    except ValueError as exc:
                        add(p + ("duration",), f"`duration` of {label}: {exc}")
            else:
                assertion = raw.get("assert")
                if assertion is None or assertion == "":
                    add(p, f"Missing required property `assert` of {label}")
                elif not isinstance(assertion, (str, bool)):
                    add(p + ("assert",), f"`assert` of {label} must be a string")
        out.append(copy.deepcopy(raw))
    add.finish()
    return out
