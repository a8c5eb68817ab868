"""The dashboard: executions per state over a time range (server-drawn SVG), counts per
state linking to the executions list, and the latest failures. Everything follows the
filter bar's `q` (page "dashboard"); with no time criterion the range is the last 7 days.
"""
from __future__ import annotations

import dataclasses
from collections import Counter

from flask import Blueprint, render_template, request, url_for

from ..model.filters import Criterion, FilterError, add_criterion, parse_filters
from ..model.state import utcnow
from ..store import execution_search
from . import charts
from .executions import execution_url

bp = Blueprint("dashboard", __name__)
DEFAULT_SINCE = "7d"
BUCKETS = 30
RECENT_FAILURES = 10


def executions_url(tenant: str, query: str) -> str:
    return url_for("executions.index", tenant=tenant, q=query or None)


def only_state(filters, state: str) -> str:
    """The query text of `filters` with its state criteria replaced by `state`."""
    others = dataclasses.replace(filters, criteria=[c for c in filters.criteria
                                                    if c.key != "state"])
    return add_criterion(others.to_query(), "state", state)


@bp.context_processor
def links():
    return {"execution_url": execution_url}


@bp.get("/dashboard")
def index(tenant: str):
    q = request.args.get("q", "").strip()
    now = utcnow()
    context = {"q": q, "filters": None, "filter_error": None, "default_range": False,
               "chart": None, "counts": [], "total": 0, "failures": [], "scope_query": q}
    try:
        filters = parse_filters(q, "dashboard", now=now)
    except FilterError as error:
        context["filter_error"] = error.message
        return render_template("dashboard/index.html", **context), 200
    context["filters"] = filters
    effective, scope_query = filters, q
    if filters.start is None and filters.end is None:
        context["default_range"] = True
        scope_query = add_criterion(q, "since", DEFAULT_SINCE)
        effective = parse_filters(scope_query, "dashboard", now=now)
    rows = execution_search.histogram(tenant, effective, buckets=BUCKETS, now=now)
    totals = Counter()
    for _bucket, state, count in rows:
        totals[str(state)] += int(count)
    context.update(
        scope_query=scope_query,
        chart=charts.stacked_bars(rows, start=effective.start, end=effective.end or now,
                                  buckets=BUCKETS),
        total=sum(totals.values()),
        all_url=executions_url(tenant, scope_query),
        counts=[(state, totals[state], executions_url(tenant, only_state(effective, state)))
                for state in _state_order(totals)],
        failures=_recent_failures(tenant, effective),
        colors=charts.STATE_COLORS,
        state_url=lambda state: url_for("dashboard.index", tenant=tenant,
                                        q=add_criterion(q, "state", state)),
        label_url=lambda key, value: url_for("dashboard.index", tenant=tenant,
                                             q=add_criterion(q, "label", f"{key}={value}")),
    )
    return render_template("dashboard/index.html", **context)


def _state_order(totals: Counter) -> list[str]:
    known = [state for state in charts.STATE_COLORS if totals.get(state)]
    return known + sorted(state for state in totals if totals[state] and state not in known)


def _recent_failures(tenant: str, filters) -> list:
    failed = dataclasses.replace(filters, states=["FAILED"],
                                 criteria=[c for c in filters.criteria if c.key != "state"]
                                 + [Criterion("state", "FAILED")])
    return execution_search.search(tenant, failed, page=1, size=RECENT_FAILURES).results
