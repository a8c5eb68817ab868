"""The dates of a schedule trigger (Schedule: a cron in a timezone; ScheduleOnDates: a list
of dates), from its validated trigger map."""
from __future__ import annotations

from datetime import datetime, timezone

from .cron import Cron
from .state import parse_iso
from .triggers import SCHEDULE_ON_DATES


def cron_of(definition: dict) -> Cron:
    return Cron.parse(str(definition["cron"]), with_seconds=bool(definition.get("withSeconds")),
                      timezone=definition.get("timezone"))


def _listed_dates(definition: dict) -> list[datetime]:
    dates = definition.get("dates")
    if not isinstance(dates, list):
        return []
    parsed = []
    for value in dates:
        moment = value if isinstance(value, datetime) else parse_iso(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        parsed.append(moment.astimezone(timezone.utc))
    return sorted(parsed)


def next_date(definition: dict, after: datetime) -> datetime | None:
    """The first date strictly after `after` (None: no more dates)."""
    if definition.get("type") == SCHEDULE_ON_DATES:
        return next((d for d in _listed_dates(definition) if d > after), None)
    return cron_of(definition).next_after(after)


def previous_date(definition: dict, before: datetime) -> datetime | None:
    if definition.get("type") == SCHEDULE_ON_DATES:
        return next((d for d in reversed(_listed_dates(definition)) if d < before), None)
    return cron_of(definition).previous_before(before)


def dates_between(definition: dict, start: datetime, end: datetime,
                  limit: int | None = None) -> list[datetime]:
    """Dates d with start <= d <= end, ascending, at most `limit`."""
    if definition.get("type") == SCHEDULE_ON_DATES:
        dates = [d for d in _listed_dates(definition) if start <= d <= end]
        return dates[:limit] if limit is not None else dates
    return cron_of(definition).dates_between(start, end, limit)


def timing(definition: dict) -> tuple:
    """What decides the dates: a change of it restarts the schedule from now."""
    return (definition.get("cron"), bool(definition.get("withSeconds")),
            definition.get("timezone"), repr(definition.get("dates")))
