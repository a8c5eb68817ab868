from datetime import date, datetime, timedelta, timezone

import pytest

from kestra_lite.errors import Conflict
from kestra_lite.store import kv

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_a_value_reads_back_with_its_inferred_type(db):
    kv.kv_put("main", "ns", "text", "hello", now=NOW)
    kv.kv_put("main", "ns", "number", 42, now=NOW)
    kv.kv_put("main", "ns", "flag", False, now=NOW)
    kv.kv_put("main", "ns", "doc", {"a": [1, 2]}, now=NOW)
    kv.kv_put("main", "ns", "day", date(2024, 1, 2), now=NOW)
    assert kv.kv_get("main", "ns", "text", NOW) == (True, "hello")
    assert kv.kv_get("main", "ns", "number", NOW) == (True, 42)
    assert kv.kv_get("main", "ns", "flag", NOW) == (True, False)
    assert kv.kv_get("main", "ns", "doc", NOW) == (True, {"a": [1, 2]})
    assert kv.kv_get("main", "ns", "missing", NOW) == (False, None)
    types = {entry.key: entry.type for entry in kv.kv_list("main", "ns", now=NOW)}
    assert types == {"text": "STRING", "number": "NUMBER", "flag": "BOOLEAN",
                     "doc": "JSON", "day": "DATE"}


def test_an_expired_key_reads_as_missing(db):
    kv.kv_put("main", "ns", "short", "v", ttl=timedelta(minutes=1), now=NOW)
    kv.kv_put("main", "ns", "long", "v", now=NOW)
    later = NOW + timedelta(minutes=1, seconds=1)
    assert kv.kv_get("main", "ns", "short", NOW + timedelta(seconds=59)) == (True, "v")
    assert kv.kv_get("main", "ns", "short", later) == (False, None)
    assert kv.kv_keys("main", "ns", now=NOW) == ["long", "short"]
    assert kv.kv_keys("main", "ns", now=later) == ["long"]
    assert [e.key for e in kv.kv_list("main", "ns", now=later)] == ["long"]
    assert kv.kv_purge_expired(later) == 1


def test_overwrite_false_conflicts_with_a_live_key_but_not_an_expired_one(db):
    kv.kv_put("main", "ns", "k", "first", ttl=timedelta(minutes=1), now=NOW)
    with pytest.raises(Conflict):
        kv.kv_put("main", "ns", "k", "second", now=NOW, overwrite=False)
    assert kv.kv_get("main", "ns", "k", NOW) == (True, "first")
    later = NOW + timedelta(minutes=2)
    kv.kv_put("main", "ns", "k", "third", now=later, overwrite=False)
    assert kv.kv_get("main", "ns", "k", later) == (True, "third")


def test_overwriting_replaces_value_type_and_expiry(db):
    kv.kv_put("main", "ns", "k", "v", ttl=timedelta(seconds=1), now=NOW)
    kv.kv_put("main", "ns", "k", 3.5, now=NOW)
    assert kv.kv_get("main", "ns", "k", NOW + timedelta(days=1)) == (True, 3.5)


def test_keys_filter_by_prefix_literally_and_delete_reports_presence(db):
    for key in ("a_1", "ab", "A_2", "b"):
        kv.kv_put("main", "ns", key, 1, now=NOW)
    kv.kv_put("main", "other", "a_3", 1, now=NOW)
    kv.kv_put("tenant2", "ns", "a_4", 1, now=NOW)
    assert kv.kv_keys("main", "ns", "a_", now=NOW) == ["a_1"]
    assert kv.kv_delete("main", "ns", "a_1") is True
    assert kv.kv_delete("main", "ns", "a_1") is False
    assert kv.kv_keys("main", "ns", now=NOW) == ["A_2", "ab", "b"]
