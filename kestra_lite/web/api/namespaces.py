"""Namespaces (OSS: implicit, derived from flows and executions, parents included)."""
from __future__ import annotations

from flask import request

from ...store import search as search_store
from . import bp
from .params import page_args
from .serialize import paged, respond

MAX_NAMESPACES = 100_000


def _namespace(name: str) -> dict:
    return {"id": name, "disabled": False}


@bp.get("/namespaces/search")
def search_namespaces(tenant: str):
    page, size = page_args()
    text = (request.args.get("q") or "").strip().lower()
    names = [name for name in search_store.distinct_namespaces(tenant, limit=MAX_NAMESPACES)
             if text in name.lower()]
    if (request.args.get("sort") or "").endswith(":desc"):
        names.reverse()
    start = (page - 1) * size
    return respond(paged([_namespace(name) for name in names[start:start + size]], len(names)))


@bp.get("/namespaces/<namespace>")
def get_namespace(tenant: str, namespace: str):
    return respond(_namespace(namespace))
