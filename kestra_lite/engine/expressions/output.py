"""Kestra's output writer: how values print inside ``{{ }}`` and how truthiness works."""
from __future__ import annotations

import datetime as _dt
import decimal
import json
import math

from jinja2 import Undefined

from .undefined import fail

_FALSY = frozenset(("false", "0", "-0", ""))
_UTC = _dt.timezone.utc


def java_double(value: float) -> str:
    """Format a float like Java's ``Double.toString``."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    a = abs(value)
    if 1e-3 <= a < 1e7:
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(value, "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = len(decimal.Decimal(repr(value)).as_tuple().digits) - 1 + exponent
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{exp10}"


def format_instant(value: _dt.datetime) -> str:
    """ISO-8601 instant (UTC, ``Z``), fraction printed in groups of 3 digits when non-zero."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    else:
        value = value.astimezone(_UTC)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    us = value.microsecond
    if us:
        if us % 1000 == 0:
            base += ".%03d" % (us // 1000)
        else:
            base += ".%06d" % us
    return base + "Z"


def json_default(value):
    if isinstance(value, Undefined):
        fail(value)
    if isinstance(value, _dt.datetime):
        return format_instant(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def to_json(value) -> str:
    """Compact JSON like Kestra's Jackson mapper."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=json_default)


def to_text(value) -> str:
    """How a value is written by ``{{ }}``."""
    t = type(value)
    if t is str:
        return value
    if t is int:
        return str(value)
    if t is bool:
        return "true" if value else "false"
    if value is None:
        return ""
    if t is float:
        return java_double(value)
    if t is dict or t is list or t is tuple:
        return to_json(value)
    if isinstance(value, Undefined):
        fail(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return java_double(float(value))
    if isinstance(value, _dt.datetime):
        return format_instant(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        return to_json(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def is_truthy(value) -> bool:
    """Kestra truthiness: the rendered string is falsy iff in {"false","0","-0",""}."""
    if value is None:
        return False
    return to_text(value) not in _FALSY
