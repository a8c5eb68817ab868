"""Dates: Java ``DateTimeFormatter`` patterns, Kestra's named formats, parsing and arithmetic."""
from __future__ import annotations

import datetime as _dt
import functools
import re
from zoneinfo import ZoneInfo

from .errors import ExpressionError

UTC = _dt.timezone.utc

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

NAMED_PATTERNS = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",
    "iso_local_date": "yyyy-MM-dd",
    "iso_ordinal_date": "yyyy-DDDXXX",
    "iso_week_date": "YYYY-'W'ww-eXXX",
}


class ZonedValue:
    """Marker: a datetime value with a nanosecond part (Python keeps micros only)."""


# ---------------------------------------------------------------- zones

@functools.lru_cache(maxsize=256)
def zone(name):
    if name is None:
        return UTC
    if isinstance(name, _dt.tzinfo):
        return name
    text = str(name).strip()
    if text in ("UTC", "Z", "GMT", "Etc/UTC", "UT"):
        return UTC
    m = re.fullmatch(r"(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?", text)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        delta = _dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0),
                              seconds=int(m.group(4) or 0))
        return _dt.timezone(sign * delta)
    try:
        return ZoneInfo(text)
    except Exception:
        raise ExpressionError(f"Invalid time zone '{text}'") from None


def zone_id(tz, dt=None) -> str:
    key = getattr(tz, "key", None)
    if key:
        return key
    if tz is UTC:
        return "Z"
    return format_offset(dt.utcoffset() if dt is not None else tz.utcoffset(None), "XXX")


# ---------------------------------------------------------------- conversion

_FRACTION = re.compile(r"(\d{2}:\d{2}:\d{2})\.(\d+)")
_BRACKET_ZONE = re.compile(r"\[([^\]]+)\]$")


def _iso_parse(text: str, tz):
    s = text.strip()
    zone_name = None
    m = _BRACKET_ZONE.search(s)
    if m:
        zone_name = m.group(1)
        s = s[: m.start()]
    nanos = 0
    fm = _FRACTION.search(s)
    if fm:
        frac = fm.group(2)
        nanos = int((frac + "000000000")[:9])
        s = s[: fm.start(2)] + (frac + "000000")[:6] + s[fm.end(2):]
    if s.endswith("z"):
        s = s[:-1] + "Z"
    try:
        if len(s) == 10 and s[4] == "-":
            d = _dt.date.fromisoformat(s)
            value = _dt.datetime(d.year, d.month, d.day, tzinfo=tz)
        else:
            value = _dt.datetime.fromisoformat(s.replace(" ", "T", 1) if "T" not in s else s)
    except ValueError:
        raise ExpressionError(f"Unable to parse date '{text}'") from None
    if zone_name:
        value = value.replace(tzinfo=None).replace(tzinfo=zone(zone_name)) if value.tzinfo is None \
            else value.astimezone(zone(zone_name))
    elif value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value, nanos


def convert(value, tz=UTC, existing_format=None):
    """Turn a date-ish input into (aware datetime, nanos-of-second)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value, value.microsecond * 1000
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=tz), 0
    if isinstance(value, bool):
        raise ExpressionError(f"Unable to parse date '{value}'")
    if isinstance(value, (int, float)):
        seconds = int(value)
        return _dt.datetime.fromtimestamp(seconds, UTC).astimezone(tz), 0
    if value is None:
        raise ExpressionError("Unable to parse a null date")
    text = str(value)
    if existing_format:
        return parse_pattern(text, resolve_pattern(existing_format), tz)
    return _iso_parse(text, tz)


# ---------------------------------------------------------------- pattern tokenizer

@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str):
    """Split a Java pattern into ('field', letter, count) and ('lit', text) tokens."""
    tokens = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "'":
            j = i + 1
            buf = []
            if j < n and pattern[j] == "'":
                tokens.append(("lit", "'"))
                i += 2
                continue
            while j < n:
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(pattern[j])
                j += 1
            tokens.append(("lit", "".join(buf)))
            i = j + 1
        elif c.isascii() and c.isalpha():
            j = i
            while j < n and pattern[j] == c:
                j += 1
            tokens.append(("field", c, j - i))
            i = j
        elif c in "[]":
            i += 1  # optional sections: always printed / optional not supported when parsing
        else:
            tokens.append(("lit", c))
            i += 1
    return tuple(tokens)


def resolve_pattern(fmt: str) -> str:
    return NAMED_PATTERNS.get(fmt.lower(), fmt) if isinstance(fmt, str) else fmt


# ---------------------------------------------------------------- formatting

def format_offset(delta, style: str, zero_z: bool = True) -> str:
    seconds = int(delta.total_seconds()) if delta is not None else 0
    if seconds == 0 and zero_z:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hh, rem = divmod(seconds, 3600)
    mm, ss = divmod(rem, 60)
    if style == "X":
        return f"{sign}{hh:02d}" + (f"{mm:02d}" if mm else "")
    if style == "XX":
        return f"{sign}{hh:02d}{mm:02d}"
    if style == "XXXX":
        return f"{sign}{hh:02d}{mm:02d}" + (f"{ss:02d}" if ss else "")
    if style == "XXXXX":
        return f"{sign}{hh:02d}:{mm:02d}" + (f":{ss:02d}" if ss else "")
    return f"{sign}{hh:02d}:{mm:02d}"  # XXX


def _zone_name(dt, long: bool) -> str:
    tz = dt.tzinfo
    if tz is UTC:
        return "Coordinated Universal Time" if long else "UTC"
    name = dt.tzname()
    if name and not long:
        return name
    key = getattr(tz, "key", None)
    return key or name or format_offset(dt.utcoffset(), "XXX")


def _pad(value: int, count: int) -> str:
    return str(value).zfill(count) if value >= 0 else "-" + str(-value).zfill(count)


def _field(dt, nanos, letter, count):
    if letter in "yu":
        year = dt.year
        return _pad(year % 100, 2) if count == 2 else _pad(year, count)
    if letter == "Y":
        year = dt.isocalendar()[0]
        return _pad(year % 100, 2) if count == 2 else _pad(year, count)
    if letter in "ML":
        if count >= 4:
            return MONTHS[dt.month - 1] if count == 4 else MONTHS[dt.month - 1][0]
        if count == 3:
            return MONTHS[dt.month - 1][:3]
        return _pad(dt.month, count)
    if letter == "d":
        return _pad(dt.day, count)
    if letter == "D":
        return _pad(dt.timetuple().tm_yday, count)
    if letter in "Qq":
        q = (dt.month - 1) // 3 + 1
        if count == 3:
            return f"Q{q}"
        if count >= 4:
            return ["1st", "2nd", "3rd", "4th"][q - 1] + " quarter"
        return _pad(q, count)
    if letter == "w":
        return _pad(dt.isocalendar()[1], count)
    if letter == "W":
        return str((dt.day + _dt.date(dt.year, dt.month, 1).weekday()) // 7 + 1)
    if letter == "E" or (letter in "ec" and count >= 3):
        name = DAYS[dt.weekday()]
        return name if count == 4 else (name[0] if count == 5 else name[:3])
    if letter in "ec":
        return _pad(dt.isoweekday(), count)
    if letter == "a":
        return "AM" if dt.hour < 12 else "PM"
    if letter == "H":
        return _pad(dt.hour, count)
    if letter == "k":
        return _pad(dt.hour or 24, count)
    if letter == "K":
        return _pad(dt.hour % 12, count)
    if letter == "h":
        return _pad(dt.hour % 12 or 12, count)
    if letter == "m":
        return _pad(dt.minute, count)
    if letter == "s":
        return _pad(dt.second, count)
    if letter == "S":
        return str(nanos).zfill(9)[:count] if count <= 9 else str(nanos).zfill(9) + "0" * (count - 9)
    if letter == "n":
        return _pad(nanos, count)
    if letter == "A":
        ms = ((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1000 + nanos // 1_000_000
        return _pad(ms, count)
    if letter == "N":
        ns = ((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1_000_000_000 + nanos
        return _pad(ns, count)
    if letter == "G":
        return "AD" if count < 4 else "Anno Domini"
    if letter == "X":
        return format_offset(dt.utcoffset(), "X" * min(count, 5))
    if letter == "x":
        return format_offset(dt.utcoffset(), "X" * min(count, 5), zero_z=False)
    if letter == "Z":
        if count == 4:
            off = format_offset(dt.utcoffset(), "XXX", zero_z=False)
            return "GMT" if off == "+00:00" else "GMT" + off
        if count == 5:
            return format_offset(dt.utcoffset(), "XXXXX")
        return format_offset(dt.utcoffset(), "XX", zero_z=False)
    if letter == "O":
        off = dt.utcoffset()
        seconds = int(off.total_seconds()) if off else 0
        if seconds == 0:
            return "GMT"
        if count == 4:
            return "GMT" + format_offset(off, "XXX", zero_z=False)
        sign = "-" if seconds < 0 else "+"
        hh, rem = divmod(abs(seconds), 3600)
        return f"GMT{sign}{hh}" + (f":{rem // 60:02d}" if rem else "")
    if letter == "V":
        return zone_id(dt.tzinfo, dt)
    if letter == "z" or letter == "v":
        return _zone_name(dt, count >= 4)
    raise ExpressionError(f"Unknown pattern letter: {letter}")


def format_pattern(dt, nanos, pattern: str) -> str:
    out = []
    for tok in compile_pattern(pattern):
        if tok[0] == "lit":
            out.append(tok[1])
        else:
            out.append(_field(dt, nanos, tok[1], tok[2]))
    return "".join(out)


def _fraction_iso(nanos: int) -> str:
    if not nanos:
        return ""
    text = str(nanos).zfill(9)
    while text.endswith("000"):
        text = text[:-3]
    return "." + text


def _local_time(dt, nanos) -> str:
    return dt.strftime("%H:%M:%S") + _fraction_iso(nanos)


def _zone_suffix(dt) -> str:
    key = getattr(dt.tzinfo, "key", None)
    return f"[{key}]" if key else ""


def _fmt_named(dt, nanos, name: str):
    date = f"{_pad(dt.year, 4)}-{dt.month:02d}-{dt.day:02d}"
    offset = format_offset(dt.utcoffset(), "XXXXX")
    if name == "iso_date_time" or name == "iso_zoned_date_time":
        return f"{date}T{_local_time(dt, nanos)}{offset}{_zone_suffix(dt)}"
    if name == "iso_offset_date_time":
        return f"{date}T{_local_time(dt, nanos)}{offset}"
    if name == "iso_local_date_time":
        return f"{date}T{_local_time(dt, nanos)}"
    if name == "iso_date" or name == "iso_offset_date":
        return f"{date}{offset}"
    if name == "iso_time" or name == "iso_offset_time":
        return f"{_local_time(dt, nanos)}{offset}"
    if name == "iso_local_time":
        return _local_time(dt, nanos)
    if name == "iso_instant":
        u = dt.astimezone(UTC)
        text = str(nanos).zfill(9)
        frac = ""
        if nanos:
            frac = "." + (text[:3] if text[3:] == "000000" else text[:6] if text[6:] == "000" else text)
        return u.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
    if name == "basic_iso_date":
        return dt.strftime("%Y%m%d") + format_offset(dt.utcoffset(), "XX")
    if name == "rfc_1123_date_time":
        off = format_offset(dt.utcoffset(), "XX", zero_z=False)
        off = "GMT" if off == "+0000" else off
        return f"{DAYS[dt.weekday()][:3]}, {dt.day} {MONTHS[dt.month - 1][:3]} {dt.year} " \
               f"{dt.strftime('%H:%M:%S')} {off}"
    hour12 = dt.hour % 12 or 12
    ampm = "AM" if dt.hour < 12 else "PM"
    if name == "full":
        return f"{DAYS[dt.weekday()]}, {MONTHS[dt.month - 1]} {dt.day}, {dt.year} at " \
               f"{hour12}:{dt.minute:02d}:{dt.second:02d}\u202f{ampm} {_zone_name(dt, True)}"
    if name == "long":
        return f"{MONTHS[dt.month - 1]} {dt.day}, {dt.year} at " \
               f"{hour12}:{dt.minute:02d}:{dt.second:02d}\u202f{ampm} {_zone_name(dt, False)}"
    if name == "medium":
        return f"{MONTHS[dt.month - 1][:3]} {dt.day}, {dt.year}, " \
               f"{hour12}:{dt.minute:02d}:{dt.second:02d}\u202f{ampm}"
    if name == "short":
        return f"{dt.month}/{dt.day}/{dt.year % 100:02d}, {hour12}:{dt.minute:02d}\u202f{ampm}"
    return None


def format_date(value, fmt="iso", time_zone=None, existing_format=None, locale=None) -> str:
    tz = zone(time_zone)
    dt, nanos = convert(value, tz, existing_format)
    dt = dt.astimezone(tz)
    if fmt is None:
        fmt = "iso"
    fmt = str(fmt)
    named = _fmt_named(dt, nanos, fmt.lower())
    if named is not None:
        return named
    return format_pattern(dt, nanos, resolve_pattern(fmt))


# ---------------------------------------------------------------- parsing with a pattern

_NUM = {"y": r"[+-]?\d{1,9}", "u": r"[+-]?\d{1,9}"}


@functools.lru_cache(maxsize=256)
def _parse_regex(pattern: str):
    parts = []
    fields = []
    for tok in compile_pattern(pattern):
        if tok[0] == "lit":
            parts.append(re.escape(tok[1]))
            continue
        _, letter, count = tok
        name = f"f{len(fields)}"
        fields.append((name, letter, count))
        if letter in "yuY":
            rx = r"\d{2}" if count == 2 else (r"[+-]?\d{4,9}" if count >= 4 else r"[+-]?\d{1,9}")
        elif letter in "ML" and count >= 3:
            rx = "|".join(m if count == 4 else m[:3] for m in MONTHS)
        elif letter in "Eec" and (letter == "E" or count >= 3):
            rx = "|".join(d if count == 4 else d[:3] for d in DAYS)
        elif letter == "a":
            rx = "AM|PM|am|pm"
        elif letter == "S":
            rx = r"\d{%d}" % count
        elif letter in "Xx":
            rx = r"Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?"
        elif letter == "Z":
            rx = r"Z|GMT|[+-]\d{2}:?\d{2}|GMT[+-]\d{2}:\d{2}"
        elif letter == "O":
            rx = r"GMT(?:[+-]\d{1,2}(?::\d{2})?)?"
        elif letter in "Vzv":
            rx = r"[A-Za-z][A-Za-z0-9_/+\-]*"
        elif letter == "G":
            rx = r"AD|BC|Anno Domini"
        else:
            rx = r"\d{%d}" % count if count >= 2 else r"\d{1,9}"
        parts.append(f"(?P<{name}>{rx})")
    return re.compile("".join(parts) + r"\Z"), tuple(fields)


def parse_pattern(text: str, pattern: str, tz):
    regex, fields = _parse_regex(pattern)
    m = regex.match(text.strip())
    if not m:
        raise ExpressionError(f"Unable to parse date '{text}' with format '{pattern}'")
    year, month, day, hour, minute, second, nanos = 1970, 1, 1, 0, 0, 0, 0
    pm = None
    doy = None
    tzinfo = None
    for name, letter, count in fields:
        v = m.group(name)
        if letter in "yuY":
            year = int(v) + (2000 if count == 2 else 0)
        elif letter in "ML":
            if count >= 3:
                month = [x if count == 4 else x[:3] for x in MONTHS].index(v) + 1
            else:
                month = int(v)
        elif letter == "d":
            day = int(v)
        elif letter == "D":
            doy = int(v)
        elif letter in "Hk":
            hour = int(v) % 24
        elif letter in "hK":
            hour = int(v) % 12
        elif letter == "a":
            pm = v.upper() == "PM"
        elif letter == "m":
            minute = int(v)
        elif letter == "s":
            second = int(v)
        elif letter == "S":
            nanos = int((v + "000000000")[:9])
        elif letter == "n":
            nanos = int(v)
        elif letter in "XxZO":
            tzinfo = zone("UTC" if v in ("Z", "GMT") else v.replace("GMT", ""))
        elif letter in "Vzv":
            tzinfo = zone(v)
    if pm is not None and pm:
        hour += 12
    try:
        if doy is not None:
            base = _dt.datetime(year, 1, 1) + _dt.timedelta(days=doy - 1)
            month, day = base.month, base.day
        dt = _dt.datetime(year, month, day, hour, minute, second, nanos // 1000,
                          tzinfo=tzinfo or tz)
    except ValueError as e:
        raise ExpressionError(f"Unable to parse date '{text}' with format '{pattern}': {e}") from None
    return dt, nanos


# ---------------------------------------------------------------- arithmetic

_TIME_UNITS = {
    "NANOS": 1e-9, "MICROS": 1e-6, "MILLIS": 1e-3, "SECONDS": 1, "MINUTES": 60,
    "HOURS": 3600, "HALF_DAYS": 43200,
}
_DATE_UNITS = {"DAYS": (0, 1), "WEEKS": (0, 7), "MONTHS": (1, 0), "YEARS": (12, 0),
               "DECADES": (120, 0), "CENTURIES": (1200, 0), "MILLENNIA": (12000, 0)}


def add(dt, nanos, amount: int, unit: str):
    unit = str(unit).upper()
    amount = int(amount)
    if unit in _TIME_UNITS:
        if unit == "NANOS":
            total = nanos + amount
            carry, nanos = divmod(total, 1_000_000_000)
            u = dt.astimezone(UTC) + _dt.timedelta(seconds=carry)
            return u.replace(microsecond=nanos // 1000).astimezone(dt.tzinfo), nanos
        if unit == "MICROS":
            u = dt.astimezone(UTC) + _dt.timedelta(microseconds=amount)
        elif unit == "MILLIS":
            u = dt.astimezone(UTC) + _dt.timedelta(milliseconds=amount)
        else:
            u = dt.astimezone(UTC) + _dt.timedelta(seconds=amount * _TIME_UNITS[unit])
        return u.astimezone(dt.tzinfo), u.microsecond * 1000 + nanos % 1000
    if unit in _DATE_UNITS:
        months, days = _DATE_UNITS[unit]
        local = dt.replace(tzinfo=None)
        if months:
            total = local.year * 12 + (local.month - 1) + months * amount
            year, month = divmod(total, 12)
            month += 1
            import calendar
            day = min(local.day, calendar.monthrange(year, month)[1])
            local = local.replace(year=year, month=month, day=day)
        if days:
            local = local + _dt.timedelta(days=days * amount)
        return local.replace(tzinfo=dt.tzinfo), nanos
    raise ExpressionError(f"Unsupported unit '{unit}'")


def now(tz=None):
    value = _dt.datetime.now(UTC)
    return value.astimezone(zone(tz)) if tz else value
