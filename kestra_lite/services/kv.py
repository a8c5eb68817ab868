"""KV writes from users (web UI): the key, the value for its type and the TTL are checked
before anything is stored; a bad one raises errors.InvalidInput with a message naming the
field and what was expected (nothing stored).

    put(tenant, namespace, key, text, type, ttl="", *, create=False, now=None) -> key
                                   (create=True: an existing key raises errors.Conflict)
    delete(tenant, namespace, key) -> bool
    parse_value(text, type) -> the typed value          (InvalidInput)
    parse_ttl(text) -> timedelta | None                 (InvalidInput)
    get(tenant, namespace, key) -> the live KVEntry or None
    edit_text(value, type) -> the text a form shows for a stored value
    namespaces_with_kv(tenant) -> {namespace: live entry count}
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import peewee

from ..errors import InvalidInput
from ..model.durations import format_duration, is_duration, parse_duration
from ..model.state import utcnow
from ..store import kv as kv_store
from ..store.db import write_transaction

TYPES = kv_store.TYPES
KEY = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MAX_KEY = 255
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$",
                            re.IGNORECASE)


def check_key(key: str) -> str:
    key = (key or "").strip()
    if not key:
        raise InvalidInput("Key is required.")
    if len(key) > MAX_KEY or not KEY.match(key):
        raise InvalidInput(f"Invalid key '{key}': a key starts with a letter or a digit and "
                           "contains only letters, digits, dots (.), underscores (_) and "
                           f"hyphens (-), at most {MAX_KEY} characters.")
    return key


def check_namespace(namespace: str) -> str:
    if not namespace or len(namespace) > 150 or not NAMESPACE.match(namespace):
        raise InvalidInput(f"Invalid namespace '{namespace}': lower-case letters, digits, dots, "
                           "underscores and hyphens, starting with a letter or a digit.")
    return namespace


def _number(text: str) -> int | float:
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        number = float(stripped)
    except ValueError:
        number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise InvalidInput(f"NUMBER value '{text}' is not a number (examples: 42, -1.5, 1e3).")
    return number


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidInput(f"BOOLEAN value '{text}' must be true or false.")
    return lowered == "true"


def _datetime(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise InvalidInput(f"DATETIME value '{text}' is not an ISO-8601 date and time "
                           "(example: 2025-01-31T08:30:00Z).") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"DATE value '{text}' is not an ISO-8601 date "
                           "(example: 2025-01-31).") from None


def _duration(text: str) -> str:
    try:
        return format_duration(parse_duration(text.strip()))
    except ValueError:
        raise InvalidInput(f"DURATION value '{text}' is not an ISO-8601 duration "
                           "(examples: PT30S, PT1H30M, P1D).") from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"JSON value is not valid JSON: {exc.msg} at line {exc.lineno}, "
                           f"column {exc.colno}.") from None


_PARSERS = {"STRING": str, "NUMBER": _number, "BOOLEAN": _boolean, "DATETIME": _datetime,
            "DATE": _date, "DURATION": _duration, "JSON": _json}


def parse_value(text: str | None, kind: str) -> Any:
    kind = (kind or "").upper()
    if kind not in _PARSERS:
        raise InvalidInput(f"Unknown type '{kind}'; expected one of {', '.join(TYPES)}.")
    text = text if text is not None else ""
    if kind != "STRING" and not text.strip():
        raise InvalidInput(f"A {kind} value is required.")
    return _PARSERS[kind](text)


def parse_ttl(text: str | None) -> timedelta | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        ttl = parse_duration(text)
    except ValueError:
        raise InvalidInput(f"TTL '{text}' is not an ISO-8601 duration (examples: PT1H, P7D); "
                           "leave it empty for no expiration.") from None
    if ttl <= timedelta(0):
        raise InvalidInput(f"TTL '{text}' must be longer than zero.")
    return ttl


def put(tenant: str, namespace: str, key: str, text: str | None, kind: str,
        ttl: str | None = "", *, create: bool = False, now: datetime | None = None) -> str:
    """Validate everything, then store. create=True refuses an existing key (Conflict).
    Returns the (stripped) key."""
    namespace, key = check_namespace(namespace), check_key(key)
    value, lifetime = parse_value(text, kind), parse_ttl(ttl)
    kv_store.kv_put(tenant, namespace, key, value, type=kind.upper(), ttl=lifetime,
                    now=now or utcnow(), overwrite=not create)
    return key


def put_value(tenant: str, namespace: str, key: str, value: Any, *,
              ttl: timedelta | None = None, now: datetime | None = None) -> None:
    """Store a value that is already typed (the API's JSON body): its KV type is inferred
    as Kestra does (text reading as a date-time, a date or an ISO duration takes that type)."""
    key = check_key(key)
    if ttl is not None and ttl <= timedelta(0):
        raise InvalidInput(f"Invalid ttl: {format_duration(ttl)} must be longer than zero")
    kv_store.kv_put(tenant, namespace, key, value, type=value_type(value), ttl=ttl,
                    now=now or utcnow())


def value_type(value: Any) -> str:
    if isinstance(value, str):
        if _DATETIME_TEXT.match(value):
            return "DATETIME"
        if _DATE_TEXT.match(value):
            try:
                date.fromisoformat(value)
                return "DATE"
            except ValueError:
                return "STRING"
        if value.upper().startswith(("P", "-P")) and is_duration(value):
            return "DURATION"
        return "STRING"
    return kv_store.infer_type(value)


def entries(tenant: str, namespace: str, *, now: datetime | None = None) -> list:
    return kv_store.kv_list(tenant, namespace, now=now or utcnow())


def delete(tenant: str, namespace: str, key: str) -> bool:
    with write_transaction():
        return kv_store.kv_delete(tenant, namespace, key)


def get(tenant: str, namespace: str, key: str, *, now: datetime | None = None):
    """The live entry of `key` (KVEntry) or None."""
    for entry in kv_store.kv_list(tenant, namespace, now=now or utcnow()):
        if entry.key == key:
            return entry
    return None


def edit_text(value: Any, kind: str) -> str:
    """How a stored value reads in the edit form (the text parse_value reads back)."""
    if kind == "JSON":
        return json.dumps(value, indent=2, ensure_ascii=False)
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def preview(value: Any, kind: str, limit: int = 120) -> str:
    text = (json.dumps(value, ensure_ascii=False) if kind == "JSON" or not isinstance(value, str)
            else value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def remaining_ttl(expires_at: datetime | None, now: datetime | None = None) -> str:
    """The time left before expiry as an ISO duration, whole seconds ("" when none)."""
    if expires_at is None:
        return ""
    left = expires_at - (now or utcnow())
    return format_duration(timedelta(seconds=max(int(left.total_seconds()), 1)))


def namespaces_with_kv(tenant: str, *, now: datetime | None = None) -> dict[str, int]:
    """{namespace: number of live entries} of every namespace holding KV entries."""
    row = kv_store.KVRow
    query = (row.select(row.namespace, peewee.fn.COUNT(peewee.SQL("*")))
             .where(row.tenant == tenant,
                    (row.expires_at.is_null()) | (row.expires_at > (now or utcnow())))
             .group_by(row.namespace).tuples())
    return dict(query)
