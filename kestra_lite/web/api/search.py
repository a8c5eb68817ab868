"""Kestra's legacy search parameters (namespace, flowId, state, labels, q, startDate,
endDate, timeRange, scope, childFilter, minLevel, triggerExecutionId) turned into the
filter language of `model.filters`, and the store searches that take them."""
from __future__ import annotations

from flask import request

from ...model.filters import FilterError, filters_from_api
from ...store import flows as flow_store
from ...store import logs as log_store
from ...store import execution_search
from .params import bad

BULK_LIMIT = 10_000        # executions one /by-query action may touch
BULK_PAGE = 500
EXECUTION_SORTS = ("id", "state.startDate", "state.endDate", "state.duration", "namespace",
                   "flowId", "state.current")
FLOW_SORTS = ("id", "namespace")


def api_filters(page: str):
    try:
        return filters_from_api(request.args, page)
    except FilterError as error:
        bad(error.message)


def sort_arg(default: str, fields: tuple[str, ...] = EXECUTION_SORTS) -> str:
    """Kestra's `field:asc|desc` (state.startDate, flowId...)."""
    raw = request.args.get("sort")
    if not raw:
        return default
    field, _, direction = raw.partition(":")
    if field not in fields or direction.lower() not in ("", "asc", "desc"):
        bad(f"Invalid query parameter `sort`: `{raw}`; expected `field:asc` or `field:desc` "
            f"with field one of {', '.join(fields)}")
    return f"{field}:{direction.lower() or 'asc'}"


def execution_page(tenant: str, filters, page: int, size: int, sort: str):
    return execution_search.search(tenant, filters, page=page, size=size, sort=sort)


def flow_page(tenant: str, filters, page: int, size: int, *, source_text: bool = False):
    return flow_store.search_flows(tenant, filters, page=page, size=size,
                                   source_text=source_text,
                                   sort=sort_arg("namespace:asc", FLOW_SORTS))


def log_page(tenant: str, filters, page: int, size: int):
    return log_store.search_logs(tenant, filters, page=page, size=size)


def matching_execution_ids(tenant: str, filters) -> list[str]:
    """Ids of every execution the filters select (at most BULK_LIMIT), for /by-query."""
    ids: list[str] = []
    page = 1
    while len(ids) < BULK_LIMIT:
        found = execution_page(tenant, filters, page, BULK_PAGE, "start_date:desc")
        ids.extend(execution.id for execution in found.results)
        if len(found.results) < BULK_PAGE:
            break
        page += 1
    return list(dict.fromkeys(ids))[:BULK_LIMIT]
