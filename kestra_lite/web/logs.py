"""Logs: every task log line of the tenant, searched through the filter bar (page "logs":
level, namespace, flow, execution, since/from/to, free text), newest first, 100 a page.

Live tail (`?tail=1`): the page carries a poller that asks `/logs/tail?after_id=<newest id
shown>` every second; the answer is the new matching lines (put on top of the list) and a
fresh poller carrying the new newest id (out-of-band swap), or 204 when nothing is new.
Turning tail off is a link to the same page without `tail`: no poller, no polling.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from markupsafe import Markup, escape

from ..model.filters import FilterError, add_criterion, parse_filters
from ..store import logs as log_store
from .executions import execution_url
from .query_args import int_arg

bp = Blueprint("logs", __name__)
PAGE_SIZE = 100
MESSAGE_LIMIT = 300       # escaped characters of a message shown in the list (100 lines
                          # stay well under 100 KB of HTML)


def _newest_first(lines: list[dict]) -> list[dict]:
    return sorted(lines, key=lambda line: line["id"], reverse=True)


def clip(message: str, limit: int = MESSAGE_LIMIT) -> tuple[Markup, int]:
    """The message escaped and cut at `limit` characters of HTML (entities count in full),
    and how many characters were left out."""
    head = escape(message[:limit])
    if len(head) <= limit and len(message) <= limit:
        return head, 0
    out, size = [], 0
    for index, char in enumerate(message):
        piece = escape(char)
        size += len(piece)
        if size > limit:
            return Markup("".join(out)), len(message) - index
        out.append(piece)
    return Markup("".join(out)), 0


@bp.context_processor
def helpers():
    def filter_url(q: str, *pairs: tuple[str, str]) -> str:
        for key, value in pairs:
            q = add_criterion(q, key, value)
        return url_for("logs.index", tenant=request.view_args["tenant"], q=q,
                       tail=request.args.get("tail") or None)
    return {"execution_url": execution_url, "filter_url": filter_url, "clip": clip}


@bp.get("/logs")
def index(tenant: str):
    q = request.args.get("q", "").strip()
    tail = request.args.get("tail") == "1"
    page = 1 if tail else int_arg("page", 1)
    context = {"q": q, "tail": tail, "page": page, "filters": None, "filter_error": None,
               "lines": [], "total": 0, "capped": False, "pages": 1, "newest_id": 0}
    try:
        filters = parse_filters(q, "logs")
    except FilterError as error:
        context["filter_error"] = error.message
        return render_template("logs/index.html", **context)
    found = log_store.search_logs(tenant, filters, page=page, size=PAGE_SIZE)
    lines = _newest_first(found.results)
    context.update(filters=filters, lines=lines, total=found.total, capped=found.capped,
                   pages=max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                   newest_id=max((line["id"] for line in lines), default=0))
    return render_template("logs/index.html", **context)


@bp.get("/logs/tail")
def tail(tenant: str):
    """The lines newer than `after_id` matching `q` and the next poller; 204 when none."""
    q = request.args.get("q", "").strip()
    after_id = int_arg("after_id", 0, low=0)
    try:
        filters = parse_filters(q, "logs")
    except FilterError:
        return Response(status=286)          # htmx: stop polling
    lines = log_store.newer_logs(tenant, filters, after_id, limit=PAGE_SIZE)
    if not lines:
        return Response(status=204)
    lines = _newest_first(lines)
    return render_template("logs/_tail.html", q=q, lines=lines, newest_id=lines[0]["id"],
                           tail=True)
