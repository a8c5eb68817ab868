"""Namespaces: the list (derived from flows and KV entries, as a tree by dots) and one
namespace's tabs: overview (its flows and child namespaces), KV store (list, create, edit,
delete; values checked against their type), secrets (names only, never values).

The KV forms post to `/namespaces/<ns>/kv` (create or edit, by the `mode` field) and
`/namespaces/<ns>/kv/delete`; keys travel in form fields and query strings, so any key a
task stored can be edited or deleted. A bad value re-renders the form (422) with the
message beside it and nothing stored; success redirects back to the KV tab (303).
"""
from __future__ import annotations


from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..errors import Conflict, InvalidInput, NotFound
from ..model.filters import add_criterion
from ..model.state import utcnow
from ..services import kv as kv_service
from ..services import namespaces as namespace_service
from ..store import flows as flow_store
from ..store import kv as kv_store
from .query_args import int_arg
from .runtime import runtime

bp = Blueprint("namespaces", __name__)
PAGE_SIZE = 100
TYPES = kv_service.TYPES


def _checked(namespace: str) -> str:
    try:
        return kv_service.check_namespace(namespace)
    except InvalidInput:
        raise NotFound(f"Namespace '{namespace}' is not a valid namespace name.") from None


def flow_url(tenant: str, namespace: str, flow_id: str) -> str:
    return url_for("flows.detail", tenant=tenant, namespace=namespace, flow_id=flow_id)


def area_url(endpoint: str, tenant: str, query: str) -> str:
    """The executions or logs list filtered by `query`."""
    return url_for(endpoint, tenant=tenant, q=query)


@bp.context_processor
def helpers():
    return {"flow_url": flow_url, "TYPES": TYPES}


@bp.get("/namespaces")
def index(tenant: str):
    if "go" in request.args:
        return _go(tenant, request.args.get("go", "").strip())
    text = request.args.get("q", "").strip()
    found = namespace_service.summaries(tenant, text)
    return render_template("namespaces/index.html", q=text, total=len(found),
                           **_paged(found, "namespaces"))


def _paged(items: list, name: str) -> dict:
    """{name: this page's items, "page", "pages"} (`?page=`, PAGE_SIZE a page)."""
    page = int_arg("page", 1)
    pages = max((len(items) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page, pages)
    return {name: items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], "page": page,
            "pages": pages}


def _go(tenant: str, name: str):
    """The "go to namespace" form (a namespace may not exist yet: KV can create it)."""
    try:
        kv_service.check_namespace(name)
    except InvalidInput as error:
        flash(error.message, "error")
        return redirect(url_for("namespaces.index", tenant=tenant), code=303)
    return redirect(url_for("namespaces.detail", tenant=tenant, namespace=name), code=303)


def _tab_context(tenant: str, namespace: str, tab: str) -> dict:
    return {"namespace": namespace, "tab": tab,
            "parents": _parents(namespace),
            "executions_url": area_url("executions.index", tenant,
                                       add_criterion("", "namespace", namespace)),
            "logs_url": area_url("logs.index", tenant,
                                 add_criterion("", "namespace", namespace))}


def _parents(namespace: str) -> list[str]:
    parts = namespace.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


@bp.get("/namespaces/<namespace>")
def detail(tenant: str, namespace: str):
    namespace = _checked(namespace)
    flows = flow_store.list_flows(tenant, namespace)
    return render_template("namespaces/overview.html", total=len(flows),
                           **_paged(flows, "flows"),
                           children=namespace_service.children(tenant, namespace),
                           **_tab_context(tenant, namespace, "overview"))


# -- KV store ----------------------------------------------------------------------------
def _kv_page(tenant: str, namespace: str, *, form: dict | None = None, error: str | None = None,
             status: int = 200):
    now = utcnow()
    paged = _paged(kv_store.kv_list(tenant, namespace, now=now), "entries")
    paged["entries"] = [(entry, kv_service.preview(entry.value, entry.type))
                        for entry in paged["entries"]]
    form = form or {"mode": "create", "key": "", "type": "STRING", "value": "", "ttl": ""}
    return render_template("namespaces/kv.html", form=form, error=error, **paged,
                           **_tab_context(tenant, namespace, "kv")), status


@bp.get("/namespaces/<namespace>/kv")
def kv(tenant: str, namespace: str):
    return _kv_page(tenant, _checked(namespace))


@bp.get("/namespaces/<namespace>/kv/edit")
def kv_edit(tenant: str, namespace: str):
    namespace = _checked(namespace)
    key = request.args.get("key", "")
    entry = kv_service.get(tenant, namespace, key)
    if entry is None:
        raise NotFound(f"The key '{key}' does not exist in the namespace '{namespace}'.")
    form = {"mode": "edit", "key": entry.key, "type": entry.type,
            "value": kv_service.edit_text(entry.value, entry.type),
            "ttl": kv_service.remaining_ttl(entry.expires_at), "expires_at": entry.expires_at}
    return render_template("namespaces/kv_edit.html", form=form, error=None,
                           **_tab_context(tenant, namespace, "kv"))


@bp.post("/namespaces/<namespace>/kv")
def kv_save(tenant: str, namespace: str):
    namespace = _checked(namespace)
    form = {name: request.form.get(name, "") for name in ("mode", "key", "type", "value", "ttl")}
    form["mode"] = "edit" if form["mode"] == "edit" else "create"
    try:
        key = kv_service.put(tenant, namespace, form["key"], form["value"], form["type"],
                             form["ttl"], create=form["mode"] == "create")
    except (InvalidInput, Conflict) as error:
        message = getattr(error, "message", None) or str(error)
        if form["mode"] == "edit":
            return render_template("namespaces/kv_edit.html", form=form, error=message,
                                   **_tab_context(tenant, namespace, "kv")), 422
        return _kv_page(tenant, namespace, form=form, error=message, status=422)
    verb = "saved" if form["mode"] == "edit" else "created"
    flash(f"Key '{key}' {verb}.", "success")
    return redirect(url_for("namespaces.kv", tenant=tenant, namespace=namespace), code=303)


@bp.post("/namespaces/<namespace>/kv/delete")
def kv_delete(tenant: str, namespace: str):
    namespace = _checked(namespace)
    key = request.form.get("key", "")
    if kv_service.delete(tenant, namespace, key):
        flash(f"Key '{key}' deleted.", "success")
    else:
        flash(f"The key '{key}' does not exist in the namespace '{namespace}'.", "error")
    return redirect(url_for("namespaces.kv", tenant=tenant, namespace=namespace), code=303)


# -- secrets -----------------------------------------------------------------------------
@bp.get("/namespaces/<namespace>/secrets")
def secrets(tenant: str, namespace: str):
    namespace = _checked(namespace)
    names = namespace_service.secret_names(runtime().secrets)
    return render_template("namespaces/secrets.html", names=names,
                           **_tab_context(tenant, namespace, "secrets"))
