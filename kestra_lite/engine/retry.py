"""Retry policies (semantics 6.8): when, if ever, a failed task run runs again."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from kestra_lite.model.durations import parse_duration
from kestra_lite.model.execution import TaskRun

RETRY_FAILED_TASK = "RETRY_FAILED_TASK"
CREATE_NEW_EXECUTION = "CREATE_NEW_EXECUTION"


def behavior(policy: dict) -> str:
    return policy.get("behavior") or RETRY_FAILED_TASK


def next_retry_date(policy: dict, attempts_done: int, first_start: datetime,
                    last_end: datetime, rng=random) -> datetime | None:
    """The date of the next attempt, or None when the policy is exhausted."""
    max_attempt = policy.get("maxAttempt")
    if max_attempt is not None and attempts_done >= int(max_attempt):
        return None
    date = last_end + _interval(policy, attempts_done, rng)
    max_duration = policy.get("maxDuration")
    if max_duration and date > first_start + parse_duration(max_duration):
        return None
    return date


def _interval(policy: dict, attempts_done: int, rng) -> timedelta:
    kind = (policy.get("type") or "constant").lower()
    if kind == "constant":
        return parse_duration(policy["interval"])
    if kind == "exponential":
        interval = parse_duration(policy["interval"])
        factor = float(policy.get("delayFactor") or 2)
        value = interval * (factor ** max(attempts_done - 1, 0))
        maximum = parse_duration(policy["maxInterval"])
        return min(value, maximum)
    if kind == "random":
        low = parse_duration(policy["minInterval"]).total_seconds()
        high = parse_duration(policy["maxInterval"]).total_seconds()
        return timedelta(seconds=rng.uniform(low, high))
    raise ValueError(f"unknown retry type `{kind}`")


def attempt_bounds(task_run: TaskRun) -> tuple[datetime, datetime]:
    """(start of the first attempt, end of the last one)."""
    first = task_run.attempts[0].state.start_date if task_run.attempts else task_run.state.start_date
    last = task_run.attempts[-1].state.histories[-1].date if task_run.attempts else first
    return first, last
