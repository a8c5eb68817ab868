"""Logs: search, one execution's logs (JSON or a text download), deletion (Kestra's
LogController, 0.20)."""
from __future__ import annotations

from flask import Response, request

from ...services import deletion
from ...store import logs as log_store
from . import bp
from .params import bad, int_arg, page_args
from .search import api_filters, log_page
from .serialize import paged, respond

LOG_FILTERS = ("minLevel", "taskRunId", "taskId", "attempt")


@bp.get("/logs/search")
def search_logs(tenant: str):
    page, size = page_args(max_size=1000)
    found = log_page(tenant, api_filters("logs"), page, size)
    return respond(paged(found.results, found.total))


def _execution_logs(tenant: str, execution_id: str) -> list[dict]:
    """minLevel, taskRunId, taskId, attempt narrow the lines."""
    min_level = request.args.get("minLevel") or None
    try:
        if min_level:
            log_store.level_rank(min_level)
        lines = log_store.execution_logs(tenant, execution_id, min_level,
                                         request.args.get("taskRunId") or None)
    except ValueError as error:
        bad(f"Invalid query parameter `minLevel`: {error}")
    task_id = request.args.get("taskId") or None
    attempt = int_arg("attempt", minimum=0)
    if task_id:
        lines = [line for line in lines if line["taskId"] == task_id]
    if attempt is not None:
        lines = [line for line in lines if line["attemptNumber"] == attempt]
    return lines


@bp.get("/logs/<execution_id>")
def execution_logs(tenant: str, execution_id: str):
    return respond(_execution_logs(tenant, execution_id))


@bp.get("/logs/<execution_id>/download")
def download_logs(tenant: str, execution_id: str):
    text = "".join(f"{line['timestamp']} {line['level']} {line['message']}\n"
                   for line in _execution_logs(tenant, execution_id))
    response = Response(text, mimetype="text/plain")
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"{execution_id}.log")
    return response


@bp.delete("/logs/<execution_id>")
def delete_logs(tenant: str, execution_id: str):
    narrowed = [name for name in LOG_FILTERS if request.args.get(name)]
    if narrowed:
        bad(f"Deleting only some lines ({', '.join(narrowed)}) is not supported; "
            "DELETE /logs/{executionId} removes all the execution's logs")
    deletion.delete_logs(tenant, execution_id)
    return "", 204
