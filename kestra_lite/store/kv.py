"""The KV store, per tenant and namespace. An expired entry reads as missing.

Values are kept as JSON; dates, datetimes and durations as their ISO text (that is what
Kestra's API shows for them), with the type recorded beside the value.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import peewee

from ..errors import Conflict
from .db import BaseModel, JSONField, UTCDateTimeField, write_transaction

TYPES = ("STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON")



class KVRow(BaseModel):
    namespace = peewee.CharField(max_length=255)
    key = peewee.CharField(max_length=255)
    value = JSONField(null=True)
    type = peewee.CharField(max_length=16)
    expires_at = UTCDateTimeField(null=True, index=True)
    updated = UTCDateTimeField()

    class Meta:
        table_name = "kv"
        indexes = ((("tenant", "namespace", "key"), True),)


@dataclass
class KVEntry:
    key: str
    value: Any
    type: str
    expires_at: datetime | None
    updated: datetime


def infer_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, (int, float)):
        return "NUMBER"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, datetime):
        return "DATETIME"
    if isinstance(value, date):
        return "DATE"
    if isinstance(value, timedelta):
        return "DURATION"
    return "JSON"


def _storable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"PT{value.total_seconds():g}S"
    return value


def _live(query, now: datetime):
    return query.where((KVRow.expires_at.is_null()) | (KVRow.expires_at > now))


def kv_get(tenant: str, namespace: str, key: str, now: datetime) -> tuple[bool, Any]:
    """(True, value) when the key exists and has not expired, else (False, None)."""
    row = (_live(KVRow.select(KVRow.value), now)
           .where(KVRow.tenant == tenant, KVRow.namespace == namespace, KVRow.key == key)
           .first())
    if row is None:
        return False, None
    return True, row.value


def kv_put(tenant: str, namespace: str, key: str, value: Any, *, type: str | None = None,
           ttl: timedelta | None = None, now: datetime, overwrite: bool = True) -> None:
    """Store `value` under `key` (expiring after `ttl`). With overwrite=False an existing,
    unexpired key raises errors.Conflict."""
    kind = (type or infer_type(value)).upper()
    if kind not in TYPES:
        raise ValueError(f"unknown KV type {type!r}; expected one of {', '.join(TYPES)}")
    row = {"tenant": tenant, "namespace": namespace, "key": key, "value": _storable(value),
           "type": kind, "expires_at": now + ttl if ttl is not None else None,
           "updated": now}
    where = (KVRow.tenant == tenant, KVRow.namespace == namespace, KVRow.key == key)
    with write_transaction():
        if not overwrite:
            KVRow.delete().where(*where, KVRow.expires_at <= now).execute()
            inserted = KVRow.insert(**row).on_conflict_ignore().as_rowcount().execute()
            if not inserted:
                raise Conflict(f"key {key!r} already exists in namespace "
                                         f"{namespace!r}")
            return
        (KVRow.insert(**row)
         .on_conflict(conflict_target=[KVRow.tenant, KVRow.namespace, KVRow.key],
                      preserve=[KVRow.value, KVRow.type, KVRow.expires_at, KVRow.updated])
         .execute())


def kv_delete(tenant: str, namespace: str, key: str) -> bool:
    """Remove the key; True when an entry was there (expired or not)."""
    return KVRow.delete().where(KVRow.tenant == tenant, KVRow.namespace == namespace,
                                KVRow.key == key).execute() > 0


def kv_keys(tenant: str, namespace: str, prefix: str | None = None, *,
            now: datetime) -> list[str]:
    """Unexpired keys of the namespace, sorted, optionally starting with `prefix`."""
    query = (_live(KVRow.select(KVRow.key), now)
             .where(KVRow.tenant == tenant, KVRow.namespace == namespace))
    if prefix:
        query = query.where(peewee.fn.SUBSTR(KVRow.key, 1, len(prefix)) == prefix)
    return [key for (key,) in query.order_by(KVRow.key).tuples()]


def kv_list(tenant: str, namespace: str, *, now: datetime) -> list[KVEntry]:
    """Unexpired entries of the namespace, sorted by key."""
    query = (_live(KVRow.select(), now)
             .where(KVRow.tenant == tenant, KVRow.namespace == namespace)
             .order_by(KVRow.key))
    return [KVEntry(row.key, row.value, row.type, row.expires_at, row.updated)
            for row in query]


def kv_purge_expired(now: datetime) -> int:
    """Delete expired entries of every tenant (housekeeping)."""
    return KVRow.delete().where(KVRow.expires_at <= now).execute()
