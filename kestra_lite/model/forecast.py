"""Duration forecast of a running execution, from its flow's past successful executions.

Beyond Kestra: a running execution shows when it should end (p50 and p95 of the durations
of its flow's recent successful executions), and is "at risk" once it runs longer than
their p95 or can no longer meet a MAX_DURATION SLA. Pure: the durations come from
store/forecast.py, `now` from the caller.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from .durations import format_minutes_and_more
from .state import as_utc

MIN_SAMPLES = 3          # fewer past runs say too little to forecast anything
UNNAMED_SLA = "maxDuration"


@dataclass(frozen=True)
class Forecast:
    p50: timedelta
    p95: timedelta
    samples: int


def forecast(durations: Sequence[float]) -> Forecast | None:
    """p50 and p95 (nearest rank) of durations in seconds; None under MIN_SAMPLES."""
    values = sorted(d for d in durations if d is not None and d >= 0)
    if len(values) < MIN_SAMPLES:
        return None
    return Forecast(p50=timedelta(seconds=nearest_rank(values, 50)),
                    p95=timedelta(seconds=nearest_rank(values, 95)), samples=len(values))


def nearest_rank(ordered: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile of sorted values: the smallest value with at least
    `percent`% of the values at or below it."""
    rank = max(math.ceil(percent / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def expected_end(start: datetime, forecast: Forecast) -> tuple[datetime, datetime]:
    """(p50 end, p95 end) of an execution started at `start`."""
    return start + forecast.p50, start + forecast.p95


def risk(execution_start: datetime, now: datetime, forecast: Forecast | None,
         max_durations: Iterable[timedelta | tuple[str, timedelta]]) -> str | None:
    """Why a running execution is at risk, or None.

    `max_durations`: the flow's MAX_DURATION SLAs, as durations or (SLA id, duration). An
    SLA can no longer be met when its deadline has passed, or when the time the median run
    still needs (p50 minus the time elapsed, at least 0) would end after it. Missing an SLA
    is said first: it is the graver news."""
    for name, limit in _named(max_durations):
        deadline = execution_start + limit
        if now > deadline or (forecast and now + _remaining(execution_start, now, forecast)
                              > deadline):
            return f"cannot meet SLA `{name}` (deadline {clock_time(deadline, now)} UTC)"
    if forecast and now - execution_start > forecast.p95:
        return (f"running longer than 95% of past successful runs "
                f"(p95 {format_span(forecast.p95)})")
    return None


def _remaining(start: datetime, now: datetime, forecast: Forecast) -> timedelta:
    return max(forecast.p50 - (now - start), timedelta(0))


def _named(max_durations) -> list[tuple[str, timedelta]]:
    return [item if isinstance(item, tuple) else (UNNAMED_SLA, item)
            for item in max_durations or ()]


# -- words for the pages ------------------------------------------------------------------

def clock_time(moment: datetime, now: datetime) -> str:
    """`12:00:00` in UTC, with the date in front when it is not `now`'s day."""
    moment, today = as_utc(moment), as_utc(now)
    if moment.date() == today.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def format_span(delta: timedelta) -> str:
    """A duration for people: `850ms`, `12s`, `4m 10s`, `2h 03m`, `3d 04h`."""
    seconds = max(delta.total_seconds(), 0.0)
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s".replace(".0s", "s")
    return format_minutes_and_more(seconds)
