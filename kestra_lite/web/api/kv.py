"""The namespace KV store: list, read (`{type, value}`), write (JSON or text body, `ttl`
header), delete (Kestra's KVController, 0.20)."""
from __future__ import annotations

import json

from flask import request

from ...errors import NotFound
from ...model.durations import parse_duration
from ...model.state import iso
from ...services import kv as kv_service
from . import bp
from .params import bad, json_body
from .serialize import respond


@bp.get("/namespaces/<namespace>/kv")
def list_keys(tenant: str, namespace: str):
    return respond([{"key": entry.key, "creationDate": iso(entry.updated),
                     "updateDate": iso(entry.updated),
                     "expirationDate": iso(entry.expires_at)}
                    for entry in kv_service.entries(tenant, namespace)])


@bp.get("/namespaces/<namespace>/kv/<key>")
def get_value(tenant: str, namespace: str, key: str):
    entry = kv_service.get(tenant, namespace, key)
    if entry is None:
        raise NotFound(f"No value found for key '{key}' in namespace '{namespace}'")
    return respond({"type": entry.type, "value": entry.value})


def _body_value():
    """application/json: the JSON value (a string must be quoted). Any other type: JSON
    when the text parses as JSON, else the text itself (Kestra's rule)."""
    text = request.get_data(as_text=True)
    if request.mimetype == "application/json":
        return json_body("value")
    try:
        return json.loads(text)
    except ValueError:
        return text


@bp.put("/namespaces/<namespace>/kv/<key>")
def put_value(tenant: str, namespace: str, key: str):
    ttl = None
    raw_ttl = request.headers.get("ttl")
    if raw_ttl:
        try:
            ttl = parse_duration(raw_ttl)
        except ValueError as error:
            bad(f"Invalid header `ttl`: {error}")
    kv_service.put_value(tenant, namespace, key, _body_value(), ttl=ttl)
    return "", 200


@bp.delete("/namespaces/<namespace>/kv/<key>")
def delete_value(tenant: str, namespace: str, key: str):
    return respond(kv_service.delete(tenant, namespace, key))


@bp.delete("/namespaces/<namespace>/kv")
def delete_values(tenant: str, namespace: str):
    """Body {"keys": [...]}: the keys that were there."""
    body = json_body()
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        bad('Invalid body: expected {"keys": ["key1", "key2"]}')
    deleted = [key for key in keys if kv_service.delete(tenant, namespace, key)]
    return respond({"keys": deleted})
