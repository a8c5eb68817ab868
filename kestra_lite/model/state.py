"""Kestra 0.20 states (semantics 6.1) and the state-with-history value."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum


class State(str, Enum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    RESTARTED = "RESTARTED"
    KILLING = "KILLING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLED = "KILLED"
    CANCELLED = "CANCELLED"
    QUEUED = "QUEUED"
    RETRYING = "RETRYING"
    RETRIED = "RETRIED"
    SKIPPED = "SKIPPED"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminated(self) -> bool:
        return self in TERMINATED

    @property
    def is_running(self) -> bool:
        return self in (State.RUNNING, State.KILLING)

    @property
    def is_created(self) -> bool:
        return self in (State.CREATED, State.RESTARTED)

    @property
    def is_failed(self) -> bool:
        return self is State.FAILED

    @property
    def is_paused(self) -> bool:
        return self is State.PAUSED

    @property
    def is_retrying(self) -> bool:
        return self in (State.RETRYING, State.RETRIED)


TERMINATED = frozenset({State.FAILED, State.WARNING, State.SUCCESS, State.KILLED,
                        State.CANCELLED, State.RETRIED, State.SKIPPED})

# Final-state priority over top-level task runs (semantics 6.4 / quirk 1).
_PRIORITY = {State.KILLED: 4, State.FAILED: 3, State.WARNING: 2, State.PAUSED: 1}


def worst(states) -> State:
    """KILLED > FAILED > WARNING > PAUSED > SUCCESS (SKIPPED and the rest count as success)."""
    result = State.SUCCESS
    for state in states:
        if _PRIORITY.get(state, 0) > _PRIORITY.get(result, 0):
            result = state
    return result


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def bounded_utc(moment: datetime) -> datetime:
    """`moment` in UTC (naive = UTC), refused (ValueError) outside the years 1900-9999 that
    every store and serializer handles."""
    try:
        moment = as_utc(moment)
    except OverflowError:
        raise ValueError("date out of range (years 1900 to 9999)") from None
    if not 1900 <= moment.year <= 9999:
        raise ValueError("date out of range (years 1900 to 9999)")
    return moment


def iso(date: datetime | None) -> str | None:
    if date is None:
        return None
    return date.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class History:
    state: State
    date: datetime


@dataclass
class StateInfo:
    """A current state with every change recorded (Kestra's `state.histories`)."""
    histories: list[History] = field(default_factory=list)

    @classmethod
    def new(cls, state: State, now: datetime) -> "StateInfo":
        return cls([History(state, now)])

    @property
    def current(self) -> State:
        return self.histories[-1].state

    @property
    def start_date(self) -> datetime:
        return self.histories[0].date

    @property
    def end_date(self) -> datetime | None:
        if self.current.is_terminated or self.current.is_paused:
            return self.histories[-1].date
        return None

    def duration(self, now: datetime | None = None):
        end = self.end_date or now or utcnow()
        return end - self.start_date

    def set(self, state: State, now: datetime) -> bool:
        """Append `state`; setting the current state again is ignored. Returns True on change."""
        if self.histories and self.current is state:
            return False
        self.histories.append(History(state, now))
        return True

    def count(self, state: State) -> int:
        return sum(1 for h in self.histories if h.state is state)

    def last_date(self, state: State) -> datetime | None:
        for history in reversed(self.histories):
            if history.state is state:
                return history.date
        return None

    def to_dict(self, now: datetime | None = None) -> dict:
        duration = self.duration(now).total_seconds()
        return {
            "current": self.current.value,
            "histories": [{"state": h.state.value, "date": iso(h.date)} for h in self.histories],
            "startDate": iso(self.start_date),
            "endDate": iso(self.end_date),
            "duration": _iso_duration(duration),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "StateInfo":
        return cls([History(State(h["state"]), parse_iso(h["date"])) for h in data["histories"]])


def _iso_duration(seconds: float) -> str:
    return f"PT{round(seconds, 3)}S"
