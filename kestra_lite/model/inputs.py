"""Flow inputs (semantics 2.2): declarations, resolution of provided values, typed parsing.

- `parse_input_specs(raw_list, path, report=...)` turns the YAML list into `Input`s (used by
  the flow parser for `inputs` and Pause `onResume`).
- `resolve_inputs(specs, provided, render=, store_file=, encrypt=)` turns provided values
  (API form strings or native values) into the JSON-serialisable execution inputs, raising
  `errors.InvalidInput` with Kestra's messages.
- `parse_typed_value(type, value, id)` is the same type machinery for flow outputs (2.3).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

import yaml

from ..errors import InvalidFlow, InvalidInput, Problem
from .durations import format_duration, parse_duration

INPUT_ID_RE = re.compile(r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*$")

TYPES = ("STRING", "ENUM", "SELECT", "MULTISELECT", "INT", "FLOAT", "BOOLEAN", "DATETIME",
         "DATE", "TIME", "DURATION", "FILE", "JSON", "YAML", "URI", "SECRET", "ARRAY",
         "EMAIL")

COMMON_KEYS = ("id", "name", "type", "description", "displayName", "required", "defaults",
               "dependsOn")
TYPE_KEYS = {
    "STRING": ("validator",),
    "SECRET": ("validator",),
    "ENUM": ("values",),
    "SELECT": ("values", "expression", "allowCustomValue"),
    "MULTISELECT": ("values", "options", "expression", "itemType", "allowCustomValue"),
    "INT": ("min", "max"),
    "FLOAT": ("min", "max"),
    "DURATION": ("min", "max"),
    "DATETIME": ("after", "before"),
    "DATE": ("after", "before"),
    "TIME": ("after", "before"),
    "FILE": ("extension",),
    "ARRAY": ("itemType",),
}

_URI_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/?#]+[^\s]*$")
_EMAIL_RE = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$",
    re.IGNORECASE)


@dataclass
class Input:
    id: str
    type: str
    required: bool = True
    defaults: Any = None
    description: str | None = None
    display_name: str | None = None
    depends_on: dict | None = None     # {"inputs": [ids], "condition": str | None}
    props: dict = field(default_factory=dict)   # type-specific: validator, values, min, ...
    line: int | None = None

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "required": self.required}
        if self.defaults is not None:
            data["defaults"] = self.defaults
        if self.description is not None:
            data["description"] = self.description
        if self.display_name is not None:
            data["displayName"] = self.display_name
        if self.depends_on:
            data["dependsOn"] = self.depends_on
        data.update(self.props)
        return data


# ---------------------------------------------------------------------------------------
# declarations

Report = Callable[[tuple, str, bool], None]


def _as_path(path) -> tuple:
    if path is None:
        return ()
    if isinstance(path, tuple):
        return path
    if isinstance(path, list):
        return tuple(path)
    return (path,)


def format_path(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _is_expression(value) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def parse_input_specs(raw_list, path="inputs", *, report: Report | None = None) -> list[Input]:
    """Validate input declarations; every problem goes to `report(path, message, at_key)`.

    Without `report`, problems are collected and raised as one `InvalidFlow` (line 0).
    """
    base = _as_path(path)
    problems: list[Problem] = []

    def add(p: tuple, message: str, at_key: bool = False) -> None:
        if report is not None:
            report(p, message, at_key)
        else:
            problems.append(Problem(0, 0, message, format_path(p)))

    specs: list[Input] = []
    if raw_list is None:
        return specs
    if not isinstance(raw_list, list):
        add(base, f"`{format_path(base)}` must be a list of inputs")
        return specs
    seen: set[str] = set()
    for index, raw in enumerate(raw_list):
        spec = _parse_one(raw, base + (index,), add)
        if spec is None:
            continue
        if spec.id in seen:
            add(base + (index, "id"), f"Duplicate input id with name [{spec.id}]")
        seen.add(spec.id)
        specs.append(spec)
    by_id = {s.id: s for s in specs}
    for index, spec in enumerate(specs):
        if spec.depends_on:
            for dep in spec.depends_on["inputs"]:
                if dep not in by_id:
                    add(base + (index, "dependsOn"),
                        f"Input `{spec.id}` depends on an unknown input `{dep}`")
    cycle = _dependency_cycle(specs)
    if cycle:
        add(base, "Cyclic dependency detected between inputs: " + ", ".join(cycle))
    if problems:
        raise InvalidFlow(problems)
    return specs


def _dependency_cycle(specs: list[Input]) -> list[str]:
    graph = {s.id: [d for d in (s.depends_on or {}).get("inputs", [])] for s in specs}
    in_cycle = []
    for start in graph:
        stack, seen = list(graph[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                in_cycle.append(start)
                break
            if node in seen or node not in graph:
                continue
            seen.add(node)
            stack.extend(graph[node])
    return in_cycle


def _parse_one(raw, p: tuple, add) -> Input | None:
    if not isinstance(raw, dict):
        add(p, "An input must be a mapping with at least `id` and `type`")
        return None
    input_id = raw.get("id", raw.get("name"))
    ok = True
    if input_id is None:
        add(p, "Missing required property `id` of input")
        ok = False
    else:
        input_id = _scalar_str(input_id)
        if not INPUT_ID_RE.match(input_id) or len(input_id) > 255:
            key = "id" if "id" in raw else "name"
            add(p + (key,), f"Invalid input id `{input_id}`: must match "
                            f"`{INPUT_ID_RE.pattern}`")
    input_type = raw.get("type")
    if input_type is None:
        add(p, f"Missing required property `type` of input `{input_id}`")
        ok = False
    elif not isinstance(input_type, str) or input_type not in TYPES:
        add(p + ("type",), f"Invalid type `{input_type}` of input `{input_id}`: expected one of "
                           + ", ".join(TYPES))
        ok = False
    allowed = set(COMMON_KEYS) | set(TYPE_KEYS.get(input_type, ()) if ok else ())
    for key in raw:
        if key not in allowed and ok:
            add(p + (key,), f"Unknown property `{key}` for input `{input_id}` of type "
                            f"`{input_type}`", True)
    if not ok:
        return None
    required = raw.get("required", True)
    if required is None:
        required = True
    if not isinstance(required, bool):
        add(p + ("required",), f"`required` of input `{input_id}` must be a boolean")
        required = True
    display_name = raw.get("displayName")
    if display_name is not None and len(str(display_name)) > 64:
        add(p + ("displayName",), f"`displayName` of input `{input_id}` must be at most 64 "
                                  "characters")
    description = raw.get("description")
    depends_on = None
    raw_dep = raw.get("dependsOn")
    if raw_dep is not None:
        if not isinstance(raw_dep, dict):
            add(p + ("dependsOn",), f"`dependsOn` of input `{input_id}` must be a mapping with "
                                    "`inputs` and `condition`")
        else:
            for key in raw_dep:
                if key not in ("inputs", "condition"):
                    add(p + ("dependsOn", key), f"Unknown property `{key}` in `dependsOn` of "
                                                f"input `{input_id}`", True)
            deps = raw_dep.get("inputs") or []
            if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
                add(p + ("dependsOn", "inputs"), f"`dependsOn.inputs` of input `{input_id}` "
                                                 "must be a list of input ids")
                deps = []
            condition = raw_dep.get("condition")
            if condition is not None and not isinstance(condition, (str, bool)):
                add(p + ("dependsOn", "condition"), f"`dependsOn.condition` of input "
                                                    f"`{input_id}` must be a string")
                condition = None
            if isinstance(condition, bool):
                condition = "true" if condition else "false"
            depends_on = {"inputs": list(deps), "condition": condition}
    props = {k: raw[k] for k in TYPE_KEYS.get(input_type, ()) if k in raw}
    _check_type_props(input_id, input_type, props, p, add)
    return Input(id=input_id, type=input_type, required=required, defaults=raw.get("defaults"),
                 description=None if description is None else str(description),
                 display_name=None if display_name is None else str(display_name),
                 depends_on=depends_on, props=props)


def _scalar_str(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_type_props(input_id, input_type, props, p, add) -> None:
    def bad(key, expected):
        add(p + (key,), f"Invalid `{key}` of input `{input_id}`: expected {expected}, got "
                        f"`{_jstr(props[key])}`")

    if "validator" in props:
        try:
            re.compile(str(props["validator"]))
        except re.error as exc:
            bad("validator", f"a valid regular expression ({exc})")
    if input_type == "ENUM":
        values = props.get("values")
        if not isinstance(values, list) or not values:
            add(p, f"Input `{input_id}` of type `ENUM` requires a non-empty `values` list")
    if input_type in ("SELECT", "MULTISELECT"):
        values = props.get("values", props.get("options"))
        if values is None and props.get("expression") is None:
            add(p, f"Input `{input_id}` of type `{input_type}` requires `values` or `expression`")
        elif values is not None and props.get("expression") is not None:
            add(p, f"Input `{input_id}` of type `{input_type}` cannot have both `values` and "
                   "`expression`")
        elif values is not None and not isinstance(values, list):
            bad("values" if "values" in props else "options", "a list")
        if "allowCustomValue" in props and not isinstance(props["allowCustomValue"], bool):
            bad("allowCustomValue", "a boolean")
    if input_type == "ARRAY" and "itemType" not in props:
        add(p, f"Input `{input_id}` of type `ARRAY` requires `itemType`")
    if "itemType" in props and props["itemType"] not in TYPES:
        bad("itemType", "one of " + ", ".join(TYPES))
    for key in ("min", "max", "after", "before"):
        if key not in props or props[key] is None:
            continue
        try:
            _bound(input_type, props[key])
        except (ValueError, TypeError):
            bad(key, {"INT": "an integer", "FLOAT": "a number", "DURATION": "an ISO-8601 duration",
                      "DATE": "a date `YYYY-MM-DD`", "TIME": "a time `HH:MM:SS`",
                      "DATETIME": "an ISO-8601 instant"}[input_type])


def _bound(input_type, value):
    """Parse a min/max/after/before bound to a comparable value."""
    if input_type == "INT":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError
        return int(value)
    if input_type == "FLOAT":
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    if input_type == "DURATION":
        return parse_duration(value)
    if input_type == "DATE":
        return _parse_date(value)
    if input_type == "TIME":
        return _parse_time(value)
    if input_type == "DATETIME":
        return _parse_datetime(value)
    raise ValueError


# ---------------------------------------------------------------------------------------
# Java-like text of values (used in messages)

def _jstr(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_jstr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_jstr(k)}={_jstr(v)}" for k, v in value.items()) + "}"
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, datetime):
        return _iso_instant(value)
    if isinstance(value, time):
        return _java_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _java_time(value: time) -> str:
    """LocalTime.toString(): `01:00` when seconds and nanos are zero."""
    out = f"{value.hour:02d}:{value.minute:02d}"
    if value.second or value.microsecond:
        out += f":{value.second:02d}"
        if value.microsecond:
            out += _fraction(value.microsecond)
    return out


def _fraction(micro: int) -> str:
    # Java prints 3, 6 or 9 digits
    if micro % 1000 == 0:
        return f".{micro // 1000:03d}"
    return f".{micro:06d}"


def _iso_instant(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    out = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        out += _fraction(value.microsecond)
    return out + "Z"


def _iso_time(value: time) -> str:
    out = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if value.microsecond:
        out += _fraction(value.microsecond)
    return out


# ---------------------------------------------------------------------------------------
# typed parsing

class _Reason(Exception):
    """Why a value is invalid; `resolve_inputs` wraps it in Kestra's message."""

    def __init__(self, reason: str, prefix_id: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.prefix_id = prefix_id


def _expected(type_name: str, value) -> _Reason:
    return _Reason(f"Expected `{type_name}` but received `{_jstr(value)}`")


def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE_RE.match(value.strip()):
        raise ValueError(value)
    return date.fromisoformat(value.strip())


def _parse_time(value) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ValueError(value)
    match = _TIME_RE.match(value.strip())
    if not match:
        raise ValueError(value)
    hour, minute, second, frac = match.groups()
    micro = int((frac or "0").ljust(9, "0")[:6])
    return time(int(hour), int(minute), int(second or 0), micro)


def _parse_datetime(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(value)
        return value.astimezone(timezone.utc)
    if not isinstance(value, str) or not _DATETIME_RE.match(value.strip()):
        raise ValueError(value)
    text = value.strip()
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    main, _, rest = text.partition(".")
    if rest:  # trim nanoseconds to microseconds
        digits = re.match(r"\d+", rest).group(0)
        text = main + "." + digits[:6].ljust(6, "0") + rest[len(digits):]
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def _json_list(value, type_name: str) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise _expected(type_name, value) from None
        if isinstance(parsed, list):
            return parsed
    raise _expected(type_name, value)


def _convert(spec_type: str, value, props: dict, *, input_id: str,
             store_file=None, encrypt=None, values_override=None):
    """Parse `value` (not None) to `spec_type` and validate it; raise _Reason on failure."""
    t = spec_type
    if t in ("STRING", "SECRET"):
        validator = props.get("validator")
        text = value if isinstance(value, str) else _jstr(value)
        if validator is not None and not re.fullmatch(str(validator), text):
            raise _Reason(f"it must match the pattern `{validator}`")
        if t == "SECRET":
            text = str(text)
            return encrypt(text) if encrypt is not None else text
        return value
    if t in ("ENUM", "SELECT"):
        values = values_override if values_override is not None else props.get("values") or []
        text = _jstr(value)
        if t == "SELECT" and props.get("allowCustomValue"):
            return text if not isinstance(value, str) else value
        if text not in [_jstr(v) for v in values]:
            raise _Reason(f"it must match the values `{_jstr(values)}`", prefix_id=(t == "ENUM"))
        return value if isinstance(value, str) else text
    if t == "MULTISELECT":
        items = _json_list(value, t)
        values = values_override if values_override is not None else (
            props.get("values") if props.get("values") is not None else props.get("options")) or []
        allowed = [_jstr(v) for v in values]
        if not props.get("allowCustomValue"):
            for item in items:
                if _jstr(item) not in allowed:
                    raise _Reason(f"it must match the values `{_jstr(values)}`")
        item_type = props.get("itemType") or "STRING"
        if item_type != "STRING":
            return [_convert(item_type, item, {}, input_id=input_id) for item in items]
        return [item if isinstance(item, str) else _jstr(item) for item in items]
    if t == "INT":
        if isinstance(value, bool):
            raise _expected(t, value)
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            number = int(value)
        else:
            raise _expected(t, value)
        _check_min_max(number, props, lambda b: int(b), "it")
        return number
    if t == "FLOAT":
        if isinstance(value, bool):
            raise _expected(t, value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _expected(t, value) from None
        _check_min_max(number, props, lambda b: float(b), "it")
        return number
    if t == "BOOLEAN":
        if isinstance(value, bool):
            return value
        return _jstr(value).strip().lower() == "true"
    if t == "DATETIME":
        try:
            parsed = _parse_datetime(value)
        except (ValueError, TypeError):
            raise _expected(t, value) from None
        _check_after_before(parsed, props, _parse_datetime)
        return _iso_instant(parsed)
    if t == "DATE":
        try:
            parsed = _parse_date(value)
        except (ValueError, TypeError):
            raise _expected(t, value) from None
        _check_after_before(parsed, props, _parse_date)
        return parsed.isoformat()
    if t == "TIME":
        try:
            parsed = _parse_time(value)
        except (ValueError, TypeError):
            raise _expected(t, value) from None
        _check_after_before(parsed, props, _parse_time)
        return _iso_time(parsed)
    if t == "DURATION":
        try:
            parsed = parse_duration(value)
        except (ValueError, TypeError):
            raise _expected(t, value) from None
        _check_min_max(parsed, props, parse_duration, "It")
        return format_duration(parsed)
    if t == "JSON":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _expected(t, value) from None
        return value
    if t == "YAML":
        if isinstance(value, str):
            try:
                return yaml.safe_load(value)
            except yaml.YAMLError:
                raise _expected(t, value) from None
        return value
    if t == "URI":
        if not isinstance(value, str) or not _URI_RE.match(value):
            raise _expected(t, value)
        return value
    if t == "EMAIL":
        if not isinstance(value, str) or not _EMAIL_RE.match(value):
            raise _expected(t, value)
        return value
    if t == "FILE":
        if isinstance(value, str) and value.startswith("kestra://"):
            return value
        if store_file is not None:
            return store_file(input_id, value)
        if isinstance(value, str):
            return value
        raise _expected(t, value)
    if t == "ARRAY":
        items = _json_list(value, t)
        item_type = props.get("itemType") or "STRING"
        out = []
        for item in items:
            try:
                if item is None:
                    out.append(None)
                    continue
                out.append(_convert(item_type, item, {}, input_id=input_id))
            except _Reason:
                raise _Reason(f"Unable to parse array element as `{item_type}` on "
                              f"`{_jstr(item)}`") from None
        return out
    raise _Reason(f"Unknown input type `{t}`")


def _check_min_max(number, props, parse_bound, word: str) -> None:
    low, high = props.get("min"), props.get("max")
    if low is not None and number < parse_bound(low):
        raise _Reason(f"{word} must be more than `{_jstr(parse_bound(low))}`")
    if high is not None and number > parse_bound(high):
        raise _Reason(f"{word} must be less than `{_jstr(parse_bound(high))}`")


def _check_after_before(value, props, parse_bound) -> None:
    after, before = props.get("after"), props.get("before")
    if after is not None and value < parse_bound(after):
        raise _Reason(f"it must be after `{_jstr(parse_bound(after))}`")
    if before is not None and value > parse_bound(before):
        raise _Reason(f"it must be before `{_jstr(parse_bound(before))}`")


def _invalid(input_id: str, reason: _Reason, value) -> InvalidInput:
    message = f"Invalid input for `{input_id}`, {reason.reason}, but received `{_jstr(value)}`"
    if reason.prefix_id:
        message = f"{input_id}: {message}"
    return InvalidInput(message)


def parse_typed_value(type_: str, value, id: str, *, props: dict | None = None,
                      store_file=None, encrypt=None):
    """Parse one value to an input/output type; None stays None. Raises InvalidInput."""
    if value is None:
        return None
    if type_ not in TYPES:
        raise InvalidInput(f"Invalid input for `{id}`, Unknown type `{type_}`, but received "
                           f"`{_jstr(value)}`")
    try:
        return _convert(type_, value, props or {}, input_id=id, store_file=store_file,
                        encrypt=encrypt)
    except _Reason as reason:
        raise _invalid(id, reason, value) from None


# ---------------------------------------------------------------------------------------
# resolution

_MISSING = object()


def _provided_value(provided: dict, input_id: str):
    if input_id in provided:
        return provided[input_id]
    if "." in input_id:
        node: Any = provided
        for part in input_id.split("."):
            if not isinstance(node, dict) or part not in node:
                return _MISSING
            node = node[part]
        return node
    return _MISSING


def nest(flat: dict) -> dict:
    """{"nested.more.int": 1, "a": 2} -> {"nested": {"more": {"int": 1}}, "a": 2}."""
    out: dict = {}
    for key, value in flat.items():
        if "." not in key:
            out[key] = value
            continue
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return out


def _is_true(value) -> bool:
    if value is True:
        return True
    return isinstance(value, str) and value.strip().lower() == "true"


def resolve_inputs(specs: list[Input], provided: dict[str, Any] | None, *,
                   render: Callable[[str, dict], Any] | None = None,
                   store_file: Callable[[str, Any], str] | None = None,
                   encrypt: Callable[[str], str] | None = None) -> dict:
    """Typed, validated execution inputs (nested by dotted ids). Raises InvalidInput.

    `render(expression, inputs)` renders a dependsOn condition / SELECT expression with the
    given (nested) inputs; without it conditions count as true.
    """
    provided = provided or {}
    by_id = {spec.id: spec for spec in specs}
    resolved: dict[str, Any] = {}     # flat id -> value, enabled inputs only
    enabled: dict[str, bool] = {}
    visiting: set[str] = set()

    def resolve(spec: Input) -> bool:
        if spec.id in enabled:
            return enabled[spec.id]
        if spec.id in visiting:
            raise InvalidInput(f"Invalid input for `{spec.id}`, cyclic dependency, but "
                               "received `null`")
        visiting.add(spec.id)
        ok = True
        deps = (spec.depends_on or {}).get("inputs") or []
        for dep in deps:
            dep_spec = by_id.get(dep)
            if dep_spec is None or not resolve(dep_spec):
                ok = False
        condition = (spec.depends_on or {}).get("condition")
        if ok and condition is not None and render is not None:
            dep_values = nest({d: resolved.get(d) for d in deps})
            ok = _is_true(render(condition, dep_values))
        if ok:
            resolved[spec.id] = _resolve_value(spec)
        visiting.discard(spec.id)
        enabled[spec.id] = ok
        return ok

    def _resolve_value(spec: Input):
        value = _provided_value(provided, spec.id)
        if value is _MISSING or value is None:
            value = spec.defaults
        values_override = None
        expression = spec.props.get("expression")
        if spec.type in ("SELECT", "MULTISELECT") and expression is not None and render:
            rendered = render(expression, nest(dict(resolved)))
            if isinstance(rendered, str):
                try:
                    rendered = json.loads(rendered)
                except ValueError:
                    pass
            if not isinstance(rendered, list):
                raise InvalidInput(f"Invalid input for `{spec.id}`, the expression must "
                                   f"return a list of values, but received `{_jstr(rendered)}`")
            values_override = rendered
        if value is None:
            if spec.required:
                raise InvalidInput(f"Invalid input for `{spec.id}`, missing required input, "
                                   "but received `null`")
            return None
        try:
            if spec.type in ("SELECT", "MULTISELECT") and expression is not None and \
                    values_override is None:
                # no renderer: cannot check against the rendered values
                props = dict(spec.props, allowCustomValue=True)
            else:
                props = spec.props
            return _convert(spec.type, value, props, input_id=spec.id,
                            store_file=store_file, encrypt=encrypt,
                            values_override=values_override)
        except _Reason as reason:
            raise _invalid(spec.id, reason, value) from None

    for spec in specs:
        resolve(spec)
    return nest({spec.id: resolved[spec.id] for spec in specs if spec.id in resolved})
