"""db.retrying: a unit of work retried while the database is unreachable.

The failures are raised by the operations themselves (peewee's OperationalError with
SQLite's transient message): what is tested is the retry policy, not an outage (real
outages are in tests/faults)."""
from __future__ import annotations

import time

import peewee
import pytest

from kestra_lite.store import db as database



def locked() -> peewee.OperationalError:
    return peewee.OperationalError("database is locked")


def test_a_transient_failure_is_retried_until_the_unit_succeeds(db):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise locked()
        return "done"
    assert database.retrying(flaky, within=5) == "done"
    assert len(calls) == 3


def test_nested_units_share_the_outermost_deadline(db):
    """The inner unit gives up when the outer one's time is up, and the outer one does not
    then run again a unit whose first part had already been done."""
    outer_runs, inner_runs = [], []

    def inner():
        inner_runs.append(1)
        raise locked()

    def outer():
        outer_runs.append(1)
        database.retrying(inner, within=60)
    started = time.monotonic()
    with pytest.raises(peewee.OperationalError):
        database.retrying(outer, within=0.5)
    assert time.monotonic() - started < 2
    assert len(outer_runs) == 1 and len(inner_runs) >= 2
