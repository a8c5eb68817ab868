"""ISO-8601 durations as Java's `java.time.Duration` reads and prints them.

`parse_duration("PT5M6S") == timedelta(minutes=5, seconds=6)`;
`format_duration(timedelta(minutes=5, seconds=6)) == "PT5M6S"` (like `Duration.toString()`:
days are printed as hours, `P1D` -> `PT24H`, zero -> `PT0S`).
"""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

MAX_DURATION = timedelta(days=36525)  # 100 years

_NUM = r"[-+]?\d+(?:[.,]\d+)?"
_RE = re.compile(
    rf"^(?P<sign>[-+]?)P(?:(?P<w>{_NUM})W)?(?:(?P<d>{_NUM})D)?"
    rf"(?:T(?:(?P<h>{_NUM})H)?(?:(?P<m>{_NUM})M)?(?:(?P<s>{_NUM})S)?)?$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value) -> timedelta:
    """Parse `PT1S`, `PT0.5S`, `P1D`, `PT5M6S`, `P1DT2H`... into a timedelta.

    A timedelta is returned unchanged. Raises ValueError with a readable message.
    """
    if isinstance(value, timedelta):
        result = value
    else:
        if isinstance(value, bool) or not isinstance(value, str):
            raise ValueError(f"Invalid duration `{value}`: expected an ISO-8601 duration "
                             "string such as `PT30S`, `PT5M` or `P1D`")
        text = value.strip()
        match = _RE.match(text)
        if not match or text.upper().endswith("T") or text.upper() in ("P", "-P", "+P"):
            raise ValueError(f"Invalid duration `{value}`: expected an ISO-8601 duration "
                             "such as `PT30S`, `PT5M`, `PT1H30M` or `P1D`")
        total = Decimal(0)
        for unit, factor in _UNIT_SECONDS.items():
            part = match.group(unit)
            if part is None:
                continue
            part = part.replace(",", ".")
            if "." in part and unit != "s":
                raise ValueError(f"Invalid duration `{value}`: only seconds may have a "
                                 "fractional part")
            total += Decimal(part) * factor
        if match.group("sign") == "-":
            total = -total
        if abs(total) > Decimal(MAX_DURATION.total_seconds()):
            raise ValueError(f"Invalid duration `{value}`: longer than 100 years")
        micros = int((total * 1_000_000).to_integral_value())
        result = timedelta(microseconds=micros)
    if abs(result) > MAX_DURATION:
        raise ValueError(f"Invalid duration `{value}`: longer than 100 years")
    return result


def is_duration(value) -> bool:
    try:
        parse_duration(value)
        return True
    except ValueError:
        return False


def format_duration(value: timedelta) -> str:
    """Java `Duration.toString()`: `PT5M6S`, `PT0.5S`, `PT24H`, `PT0S`, `PT-5S`."""
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    if micros == 0:
        return "PT0S"
    negative = micros < 0
    micros = abs(micros)
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    sign = "-" if negative else ""
    out = "PT"
    if hours:
        out += f"{sign}{hours}H"
    if minutes:
        out += f"{sign}{minutes}M"
    if seconds or fraction:
        text = str(seconds)
        if fraction:
            text += "." + f"{fraction:06d}".rstrip("0")
        out += f"{sign}{text}S"
    return out


def format_minutes_and_more(seconds: float) -> str:
    """A duration of a minute or more for people: `4m 05s`, `2h 03m`, `3d 04h` (the pages
    each say shorter ones their own way)."""
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"
