"""Cron schedules (semantics 9.1): parsing and fire dates in a time zone, DST-exact.

`Cron.parse("0 9 * * MON-FRI", timezone="Europe/Paris").next_after(now)` is the first fire
date strictly after `now`, as an aware UTC datetime.

Syntax: 5 fields (minute hour day-of-month month day-of-week), or 6 with `with_seconds`
(Kestra puts the seconds FIRST: `*/5 * * * * *` fires every 5 seconds); nicknames
`@yearly @annually @monthly @weekly @daily @midnight @hourly`; `*`, values, ranges `a-b`,
steps `*/n`, `a-b/n`, `a/n`, lists `a,b`; names JAN..DEC and SUN..SAT; day-of-week 0-7 with
0 and 7 = Sunday; `?` (Quartz, Kestra) means `*` in the two day fields. When both day
fields are restricted a day matches either of them (Vixie cron, cron-utils' UNIX flavour).

Fire dates are computed on the wall clock of `timezone`, then converted:
- a wall time that does not exist (spring forward) fires once, at the first instant after
  the gap (`30 2 * * *` in Europe/Paris fires at 03:00 local on the last Sunday of March);
- a wall time that exists twice (fall back) fires once, at its first occurrence, so a
  schedule never runs the same local date twice (partitions named after it stay unique);
  a `*/15 * * * *` schedule is therefore silent during the second pass of that hour.
"""
from __future__ import annotations

import bisect
import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo

from .state import as_utc

UTC = dt_timezone.utc
SECOND = timedelta(seconds=1)
NICKNAMES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTH_NAMES = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
DAY_NAMES = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
# How far ahead a schedule may look for its next date: Feb 29 can be 8 years away (2096 ->
# 2104); anything rarer never fires.
SEARCH_YEARS = 9


class CronError(ValueError):
    """A cron expression or time zone that cannot be used; the message says what and where."""


@dataclass(frozen=True)
class _Field:
    """One cron field: its name, its bounds and the names it accepts."""
    name: str
    low: int
    high: int
    names: dict | None = None
    name_hint: str = ""


SECONDS = _Field("second", 0, 59)
MINUTES = _Field("minute", 0, 59)
HOURS = _Field("hour", 0, 23)
DAYS = _Field("day-of-month", 1, 31)
MONTHS = _Field("month", 1, 12, MONTH_NAMES, ", or a name JAN..DEC")
WEEKDAYS = _Field("day-of-week", 0, 7, DAY_NAMES, " (0 and 7 = Sunday), or a name SUN..SAT")


@dataclass(frozen=True)
class Cron:
    expression: str
    with_seconds: bool = False
    timezone: str = "UTC"
    # parsed once in __post_init__: sorted allowed values of each field
    _seconds: tuple = field(default=(), repr=False, compare=False)
    _minutes: tuple = field(default=(), repr=False, compare=False)
    _hours: tuple = field(default=(), repr=False, compare=False)
    _days: frozenset = field(default=frozenset(), repr=False, compare=False)
    _months: tuple = field(default=(), repr=False, compare=False)
    _weekdays: frozenset = field(default=frozenset(), repr=False, compare=False)
    _day_rule: str = field(default="any", repr=False, compare=False)
    _zone: ZoneInfo | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, expression: str, *, with_seconds: bool = False,
              timezone: str | None = None) -> "Cron":
        """Validate and compile; raises CronError naming the field that is wrong."""
        if not isinstance(expression, str) or not expression.strip():
            raise CronError("Invalid cron expression: must be a non-empty string")
        return cls(expression.strip(), bool(with_seconds), timezone or "UTC")

    def __post_init__(self):
        fields = _split(self.expression, self.with_seconds)
        parsed = {
            "_zone": _zone(self.timezone),
            "_seconds": tuple(sorted(_values(fields[0], SECONDS, self.expression))),
            "_minutes": tuple(sorted(_values(fields[1], MINUTES, self.expression))),
            "_hours": tuple(sorted(_values(fields[2], HOURS, self.expression))),
            "_days": frozenset(_values(fields[3], DAYS, self.expression)),
            "_months": tuple(sorted(_values(fields[4], MONTHS, self.expression))),
            "_weekdays": frozenset(v % 7 for v in _values(fields[5], WEEKDAYS,
                                                          self.expression)),
            "_day_rule": _day_rule(fields[3], fields[5]),
        }
        for name, value in parsed.items():
            object.__setattr__(self, name, value)   # frozen: set once, here
        self._check_can_fire()

    # -- public API ----------------------------------------------------------------------
    def next_after(self, moment: datetime) -> datetime:
        """The first fire date strictly after `moment` (aware UTC)."""
        moment = as_utc(moment)
        wall = _wall(moment, self._zone)
        for _ in range(100_000):
            wall = self._next_wall(wall)
            fire = self._instant(wall)
            if fire > moment:   # walls of a repeated hour map to instants before `moment`
                return fire
        raise CronError(f"Cron expression `{self.expression}` has no date after {moment}")

    def previous_before(self, moment: datetime) -> datetime:
        """The last fire date strictly before `moment` (aware UTC)."""
        moment = as_utc(moment)
        local = moment.astimezone(self._zone)
        wall = local.replace(tzinfo=None, fold=0)
        if local.fold:
            # in the second pass of a repeated hour, later walls of that hour fired (first
            # occurrence) before `moment`: start looking from the end of that hour
            wall += local.replace(fold=0).utcoffset() - local.utcoffset()
            wall += SECOND
        for _ in range(100_000):
            wall = self._previous_wall(wall)
            fire = self._instant(wall)
            if fire < moment:
                return fire
        raise CronError(f"Cron expression `{self.expression}` has no date before {moment}")

    def dates_between(self, start: datetime, end: datetime,
                      limit: int | None = None) -> list[datetime]:
        """Fire dates d with start <= d <= end, ascending (at most `limit`)."""
        start, end = as_utc(start), as_utc(end)
        dates: list[datetime] = []
        current = start - timedelta(microseconds=1)
        while limit is None or len(dates) < limit:
            current = self.next_after(current)
            if current > end:
                break
            dates.append(current)
        return dates

    # -- wall-clock search ---------------------------------------------------------------
    def _day_matches(self, year: int, month: int, day: int) -> bool:
        if self._day_rule == "any":
            return True
        in_days = day in self._days
        if self._day_rule == "days":
            return in_days
        in_weekdays = (calendar.weekday(year, month, day) + 1) % 7 in self._weekdays
        if self._day_rule == "weekdays":
            return in_weekdays
        return in_days or in_weekdays

    def _next_wall(self, wall: datetime) -> datetime:
        """The smallest matching wall time (naive, whole seconds) strictly after `wall`."""
        t = wall.replace(microsecond=0) + SECOND
        limit = t.year + SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self._months:
                t = _first_of_next_month(t, self._months)
            elif not self._day_matches(t.year, t.month, t.day):
                t = _start_of_day(t) + timedelta(days=1)
            elif t.hour not in self._hours:
                t = _bump(t, self._hours, t.hour, "hour", timedelta(days=1))
            elif t.minute not in self._minutes:
                t = _bump(t, self._minutes, t.minute, "minute", timedelta(hours=1))
            elif t.second not in self._seconds:
                t = _bump(t, self._seconds, t.second, "second", timedelta(minutes=1))
            else:
                return t
        raise CronError(f"Cron expression `{self.expression}` has no date after {wall}")

    def _previous_wall(self, wall: datetime) -> datetime:
        """The largest matching wall time (naive, whole seconds) strictly before `wall`."""
        t = wall.replace(microsecond=0) - (SECOND if wall.microsecond == 0 else timedelta(0))
        limit = t.year - SEARCH_YEARS
        while t.year >= limit:
            if t.month not in self._months:
                t = _last_of_previous_month(t, self._months)
            elif not self._day_matches(t.year, t.month, t.day):
                t = _start_of_day(t) - SECOND
            elif t.hour not in self._hours:
                t = _drop(t, self._hours, t.hour, "hour", _start_of_day(t))
            elif t.minute not in self._minutes:
                t = _drop(t, self._minutes, t.minute, "minute", t.replace(minute=0, second=0))
            elif t.second not in self._seconds:
                t = _drop(t, self._seconds, t.second, "second", t.replace(second=0))
            else:
                return t
        raise CronError(f"Cron expression `{self.expression}` has no date before {wall}")

    def _instant(self, wall: datetime) -> datetime:
        """The UTC instant a matching wall time fires at (first occurrence; after a gap)."""
        first = wall.replace(tzinfo=self._zone, fold=0).astimezone(UTC)
        if _wall(first, self._zone) == wall:
            return first
        return _gap_end(wall, self._zone)

    def _check_can_fire(self) -> None:
        """Refuse `0 0 30 2 *` and the like at parse time rather than at run time."""
        if self._day_rule != "days":
            return
        longest = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}
        if not any(day <= longest.get(month, 31) for month in self._months
                   for day in self._days):
            raise CronError(f"Invalid cron expression `{self.expression}`: the day-of-month "
                            "never exists in the given months, the schedule would never fire")


# -- parsing -------------------------------------------------------------------------------

def _zone(name) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except Exception:
        raise CronError(f"Invalid timezone `{name}`: expected an IANA name such as "
                        "`Europe/Paris` or `UTC`") from None


def _split(expression: str, with_seconds: bool) -> list[str]:
    """Six fields, seconds first (`0` for a 5-field expression or a nickname)."""
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() not in NICKNAMES:
            raise CronError(f"Invalid cron expression `{expression}`: unknown nickname "
                            "(expected one of " + ", ".join(NICKNAMES) + ")")
        return ["0"] + NICKNAMES[text.lower()].split()
    fields = text.split()
    expected = 6 if with_seconds else 5
    if len(fields) != expected:
        hint = (" (seconds first, `withSeconds: true`)" if with_seconds
                else " (use `withSeconds: true` for 6 fields)")
        raise CronError(f"Invalid cron expression `{expression}`: expected {expected} "
                        f"fields{hint}, got {len(fields)}")
    return fields if with_seconds else ["0"] + fields


def _day_rule(days: str, weekdays: str) -> str:
    """Which day fields restrict: "any", "days", "weekdays" or "either" (Vixie: a field
    starting with `*` or `?` does not restrict)."""
    days_free = days.startswith(("*", "?"))
    weekdays_free = weekdays.startswith(("*", "?"))
    if days_free and weekdays_free:
        return "any"
    if weekdays_free:
        return "days"
    if days_free:
        return "weekdays"
    return "either"


def _values(text: str, spec: _Field, expression: str) -> set[int]:
    """The set of values one field allows."""
    values: set[int] = set()
    for part in text.split(","):
        values |= _part_values(part, spec, expression)
    return values


def _part_values(part: str, spec: _Field, expression: str) -> set[int]:
    where = f"in cron expression `{expression}`"
    if not part:
        raise CronError(f"Empty {spec.name} list item {where}")
    range_text, _, step_text = part.partition("/")
    step = 1
    if step_text:
        if not _is_small_number(step_text) or int(step_text) == 0:
            raise CronError(f"Invalid step `/{step_text}` in {spec.name} `{part}` {where}: "
                            "expected a positive number")
        step = int(step_text)
    if range_text in ("*", "?"):
        if range_text == "?" and spec not in (DAYS, WEEKDAYS):
            raise CronError(f"`?` is only allowed in day-of-month and day-of-week {where}")
        low, high = spec.low, spec.high
    elif "-" in range_text:
        start, _, stop = range_text.partition("-")
        low, high = _number(start, spec, expression), _number(stop, spec, expression)
        if spec is WEEKDAYS and high == 0 and low > 0:
            high = 7            # MON-SUN
        if low > high:
            raise CronError(f"Invalid {spec.name} range `{range_text}` {where}: the start is "
                            "after the end")
    else:
        low = _number(range_text, spec, expression)
        high = spec.high if step_text else low
    return set(range(low, high + 1, step))


def _is_small_number(token: str) -> bool:
    """ASCII digits only (`²` passes str.isdigit but not int()), at most 4 of them."""
    return token.isascii() and token.isdigit() and len(token) <= 4


def _number(token: str, spec: _Field, expression: str) -> int:
    where = f"in cron expression `{expression}`"
    upper = token.upper()
    if spec.names and upper in spec.names:
        return spec.names[upper]
    if not _is_small_number(token):
        raise CronError(f"Invalid {spec.name} `{token}` {where}: expected a number "
                        f"{spec.low}-{spec.high}{spec.name_hint} (`L`, `W` and `#` are not "
                        "supported)")
    value = int(token)
    if not spec.low <= value <= spec.high:
        raise CronError(f"Invalid {spec.name} `{token}` {where}: out of range "
                        f"{spec.low}-{spec.high}")
    return value


# -- wall-clock arithmetic -----------------------------------------------------------------

def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def _start_of_day(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0)


def _first_of_next_month(t: datetime, months: tuple) -> datetime:
    index = bisect.bisect_right(months, t.month)
    if index < len(months):
        return datetime(t.year, months[index], 1)
    return datetime(t.year + 1, months[0], 1)


def _last_of_previous_month(t: datetime, months: tuple) -> datetime:
    index = bisect.bisect_left(months, t.month) - 1
    year, month = (t.year, months[index]) if index >= 0 else (t.year - 1, months[-1])
    return datetime(year, month, calendar.monthrange(year, month)[1], 23, 59, 59)


_SMALLER = {"hour": ("minute", "second"), "minute": ("second",), "second": ()}


def _bump(t: datetime, allowed: tuple, current: int, unit: str, carry: timedelta) -> datetime:
    """Move `unit` forward to its next allowed value (smaller units to 0), or carry over."""
    index = bisect.bisect_right(allowed, current)
    if index < len(allowed):
        return t.replace(**{unit: allowed[index]}, **{u: 0 for u in _SMALLER[unit]})
    start_of_unit = t.replace(**{u: 0 for u in (unit,) + _SMALLER[unit]})
    return start_of_unit + carry


def _drop(t: datetime, allowed: tuple, current: int, unit: str, start: datetime) -> datetime:
    """Move `unit` back to its previous allowed value (smaller units to their maximum),
    or to the second before `start` (the start of the enclosing unit)."""
    index = bisect.bisect_left(allowed, current) - 1
    if index >= 0:
        return t.replace(**{unit: allowed[index]}, **{u: 59 for u in _SMALLER[unit]})
    return start - SECOND


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after the DST gap that swallowed `wall` (whose local time is
    later than `wall`), found by bisection between its two readings."""
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)    # before the transition
    high = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)   # after it
    if low > high:
        low, high = high, low
    while high - low > SECOND:
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if _wall(middle, zone) > wall:
            high = middle
        else:
            low = middle
    return high
