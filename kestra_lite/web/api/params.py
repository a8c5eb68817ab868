"""Reading a request: query parameters and bodies, each bad value answered with a 400 that
names the parameter (never a traceback)."""
from __future__ import annotations

import json
from datetime import datetime

from flask import abort, request

from ...model.state import State, bounded_utc

TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")
MAX_PAGE_SIZE = 500       # the store's largest page


def bad(message: str):
    abort(400, description=message)


def int_arg(name: str, default: int | None = None, *, minimum: int = 1,
            maximum: int | None = 2**31 - 1) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        bad(f"Invalid query parameter `{name}`: `{raw}` is not an integer")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        bad(f"Invalid query parameter `{name}`: {value} must be at least {minimum}{upper}")
    return value


def page_args(default_size: int = 10, max_size: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    return (int_arg("page", 1), int_arg("size", default_size, maximum=max_size))


def bool_arg(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    bad(f"Invalid query parameter `{name}`: `{raw}` is not a boolean (true or false)")


def state_value(raw, name: str) -> State:
    try:
        return State(str(raw).upper())
    except ValueError:
        bad(f"Invalid {name} `{raw}`: expected one of {', '.join(s.value for s in State)}")


def datetime_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace(" ", "+"))
        return bounded_utc(value)
    except ValueError as error:
        reason = str(error) if "out of range" in str(error) else (
            "not an ISO-8601 date-time (e.g. 2025-01-31T10:00:00Z)")
        bad(f"Invalid query parameter `{name}`: `{raw}` is {reason}")


def label_args(name: str = "labels") -> list[dict]:
    """`labels=key:value`, repeatable."""
    labels = []
    for raw in request.args.getlist(name):
        key, sep, value = raw.partition(":")
        if not sep or not key.strip():
            bad(f"Invalid query parameter `{name}`: `{raw}` must be `key:value`")
        labels.append({"key": key.strip(), "value": value})
    return labels


def json_body(what: str = "body"):
    """The parsed JSON body (any content type), or a 400 saying what is wrong."""
    raw = request.get_data(as_text=True)
    if not raw.strip():
        bad(f"Missing JSON {what}")
    try:
        return json.loads(raw)
    except ValueError as error:
        bad(f"Invalid JSON {what}: {error}")


def label_list_body(value, what: str = "labels") -> list[dict]:
    """A JSON list of {key, value} (Kestra's Label list)."""
    if not isinstance(value, list):
        bad(f"Invalid {what}: expected a JSON list of {{\"key\": ..., \"value\": ...}}")
    labels = []
    for item in value:
        if (not isinstance(item, dict) or not isinstance(item.get("key"), str)
                or not item["key"].strip() or "value" not in item
                or isinstance(item["value"], (dict, list))):
            bad(f"Invalid {what}: every label needs a non-empty string `key` and a `value`, "
                f"got `{json.dumps(item)}`")
        value_text = item["value"]
        if isinstance(value_text, bool):
            value_text = "true" if value_text else "false"
        labels.append({"key": item["key"], "value": "" if value_text is None else str(value_text)})
    return labels


MAX_BULK_IDS = 1000


def id_list_body(value, what: str = "body") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        bad(f"Invalid {what}: expected a JSON list of execution ids")
    if len(value) > MAX_BULK_IDS:
        bad(f"Invalid {what}: {len(value)} ids, at most {MAX_BULK_IDS} per call")
    return value
