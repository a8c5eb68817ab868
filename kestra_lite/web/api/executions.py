"""Executions: create (multipart inputs, optional wait), read, search, delete, the user
actions (kill, pause, resume, restart, replay, mark a task run, change status, labels),
bulk actions by ids or by query, file download and the SSE follow stream (Kestra's
ExecutionController, 0.20)."""
from __future__ import annotations

import json
import mimetypes
import time
from pathlib import PurePosixPath

from flask import Response, request, stream_with_context
from werkzeug.datastructures import MultiDict

from ...errors import Conflict, IllegalTransition, InvalidFlow, InvalidInput, NotFound
from ...model.execution import Execution
from ...model.inputs import parse_input_specs
from ...model.state import State
from ...services import bulk
from ...services import deletion
from ...services import executions as service
from ...storage.internal import check_scope, readable_scopes
from ...store import executions as execution_store
from ...store import flows as flow_store
from ..runtime import runtime
from . import bp
from .params import (bad, bool_arg, datetime_arg, id_list_body, int_arg, json_body,
                     label_args, label_list_body, page_args, state_value)
from .search import api_filters, execution_page, matching_execution_ids, sort_arg
from .serialize import execution_json, paged, respond

WAIT_LIMIT_SECONDS = 600        # ?wait=true answers after this long even if still running
FOLLOW_LIMIT_SECONDS = 3600
FOLLOW_POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15


def _execution(tenant: str, execution_id: str) -> Execution:
    execution = execution_store.find_execution(tenant, execution_id)
    if execution is None:
        raise NotFound(f"Execution {execution_id} not found")
    return execution


def _url(execution: Execution) -> str:
    base = runtime().settings.public_url.rstrip("/")
    return (f"{base}/ui/{execution.tenant}/executions/{execution.namespace}/"
            f"{execution.flow_id}/{execution.id}")


def _with_url(execution: Execution) -> dict:
    body = execution_json(execution)
    body["url"] = _url(execution)
    return body


def _form_inputs(file_ids: set[str]) -> dict:
    """Inputs of a multipart (or urlencoded) body, the way Kestra reads them: a field is a
    value (a list when repeated); a file part named `files` is the FILE input named by its
    filename (the Kestra UI's form); any other file part is the FILE input of its field name
    when that input is a FILE (kept as (filename, bytes)), else its content as text (the
    `kestra` Python client sends every input as a file part). A JSON object body is taken
    as the inputs too."""
    if request.mimetype == "application/json":
        body = json_body("inputs")
        if not isinstance(body, dict):
            bad("Invalid inputs: expected a JSON object of input id -> value")
        return body
    inputs: dict = {}
    form: MultiDict = request.form
    for key in form:
        values = form.getlist(key)
        inputs[key] = values[0] if len(values) == 1 else values
    for key in request.files:
        for upload in request.files.getlist(key):
            data = upload.read()
            if key == "files" and upload.filename and "files" not in file_ids:
                inputs[upload.filename] = (upload.filename, data)
            elif key in file_ids:
                inputs[key] = (upload.filename or key, data)
            else:
                try:
                    inputs[key] = data.decode("utf-8")
                except UnicodeDecodeError:
                    bad(f"Invalid input `{key}`: a file was sent for an input that is not "
                        "of type FILE")
    return inputs


def _file_ids(specs) -> set[str]:
    return {spec.id for spec in specs or () if spec.type == "FILE"}


def _resume_file_ids(execution: Execution) -> set[str]:
    """FILE inputs among the onResume inputs of the execution's paused Pause task."""
    flow = runtime().load_flow(execution.tenant, execution.namespace, execution.flow_id,
                               execution.flow_revision)
    if flow is None:
        return set()
    ids: set[str] = set()
    for task_run in execution.task_runs:
        if task_run.current is not State.PAUSED:
            continue
        try:
            on_resume = flow.find_task(task_run.task_id).props.get("onResume")
            ids |= _file_ids(parse_input_specs(on_resume or [], "onResume"))
        except (KeyError, InvalidFlow):
            continue
    return ids


# -- create -------------------------------------------------------------------------------
@bp.post("/executions/<namespace>/<flow_id>")
def create_execution(tenant: str, namespace: str, flow_id: str):
    revision = int_arg("revision")
    labels = label_args("labels")
    wait = bool_arg("wait")
    schedule_date = datetime_arg("scheduleDate")
    record = flow_store.get_flow(tenant, namespace, flow_id, revision)
    if record is None:
        what = f" revision {revision}" if revision is not None else ""
        raise NotFound(f"Flow {namespace}.{flow_id}{what} not found")
    flow = runtime().load_flow(tenant, namespace, flow_id, record.revision)
    if flow is None:
        raise Conflict(f"Cannot execute the invalid flow {namespace}.{flow_id} "
                       f"revision {record.revision}; fix its source first")
    inputs = _form_inputs(_file_ids(flow.inputs))
    execution = service.create_execution(runtime(), flow, inputs=inputs, labels=labels or None,
                                         schedule_date=schedule_date)
    if wait:
        execution = _wait_for_end(tenant, execution.id) or execution
    return respond(_with_url(execution))


def _wait_for_end(tenant: str, execution_id: str) -> Execution | None:
    """Poll until the execution ends (or pauses), at most WAIT_LIMIT_SECONDS."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    delay = 0.02
    execution = None
    while time.monotonic() < deadline:
        execution = execution_store.find_execution(tenant, execution_id)
        if execution is None or execution.current.is_terminated or execution.current.is_paused:
            return execution
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    return execution


# -- read -----------------------------------------------------------------------------------
@bp.get("/executions/<execution_id>")
def get_execution(tenant: str, execution_id: str):
    return respond(execution_json(_execution(tenant, execution_id)))


@bp.get("/executions/search")
def search_executions(tenant: str):
    page, size = page_args()
    found = execution_page(tenant, api_filters("executions"), page, size,
                           sort_arg("state.startDate:desc"))
    return respond(paged([execution_json(e, with_task_runs=False) for e in found.results],
                         found.total))


@bp.get("/executions")
def list_flow_executions(tenant: str):
    """Kestra's GET /executions?namespace=&flowId= (same filters as search)."""
    return search_executions(tenant)


# -- delete ---------------------------------------------------------------------------------
@bp.delete("/executions/<execution_id>")
def delete_execution(tenant: str, execution_id: str):
    deletion.delete_execution(runtime(), tenant, execution_id,
                              delete_logs=bool_arg("deleteLogs", True),
                              delete_storage=bool_arg("deleteStorage", True))
    return "", 204


# -- actions ----------------------------------------------------------------------------------
@bp.route("/executions/<execution_id>/kill", methods=["DELETE", "POST"])
def kill_execution(tenant: str, execution_id: str):
    execution = _execution(tenant, execution_id)
    if execution.current.is_terminated:
        raise IllegalTransition(f"Execution {execution_id} is already finished "
                                f"({execution.current.value}), can't kill it")
    service.kill(runtime(), tenant, execution_id)
    return "", 202


@bp.post("/executions/<execution_id>/pause")
def pause_execution(tenant: str, execution_id: str):
    """Kestra answers 200, and 422 for an execution that is not running."""
    _execution(tenant, execution_id)
    try:
        service.pause(runtime(), tenant, execution_id)
    except IllegalTransition as error:
        return respond({"message": str(error)}, 422)
    return "", 200


@bp.post("/executions/<execution_id>/resume")
def resume_execution(tenant: str, execution_id: str):
    execution = _execution(tenant, execution_id)
    service.resume(runtime(), tenant, execution_id, _form_inputs(_resume_file_ids(execution)))
    return "", 204


def _same_revision(execution: Execution) -> None:
    """Kestra's `revision` parameter: the revision must exist; running another revision than
    the execution's is not supported here."""
    revision = int_arg("revision")
    if revision is None or revision == execution.flow_revision:
        return
    if flow_store.get_flow(execution.tenant, execution.namespace, execution.flow_id,
                           revision, allow_deleted=True) is None:
        raise NotFound(f"Unable to find revision {revision} on flow "
                       f"{execution.namespace}.{execution.flow_id}")
    raise InvalidInput(f"Execution {execution.id} runs revision {execution.flow_revision}; "
                       f"restarting or replaying it on revision {revision} is not supported")


@bp.post("/executions/<execution_id>/restart")
def restart_execution(tenant: str, execution_id: str):
    _same_revision(_execution(tenant, execution_id))
    service.restart(runtime(), tenant, execution_id)
    return respond(execution_json(_execution(tenant, execution_id)))


@bp.post("/executions/<execution_id>/replay")
def replay_execution(tenant: str, execution_id: str):
    _same_revision(_execution(tenant, execution_id))
    task_run_id = request.args.get("taskRunId") or None
    replayed = service.replay(runtime(), tenant, execution_id, task_run_id=task_run_id)
    return respond(execution_json(replayed))


@bp.post("/executions/<execution_id>/state")
def mark_task_run(tenant: str, execution_id: str):
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("taskRunId"), str) \
            or not body.get("state"):
        bad('Invalid body: expected {"taskRunId": "...", "state": "SUCCESS|FAILED|..."}')
    state = state_value(body["state"], "state")
    _execution(tenant, execution_id)
    service.mark_task_run(runtime(), tenant, execution_id, body["taskRunId"], state)
    return respond(execution_json(_execution(tenant, execution_id)))


def _terminal_state(name: str) -> State:
    raw = request.args.get(name)
    if not raw:
        bad(f"Missing query parameter `{name}` (a terminal state such as SUCCESS or FAILED)")
    state = state_value(raw, f"query parameter `{name}`")
    if not state.is_terminated:
        raise InvalidInput("You can only change the state of an execution to a terminal "
                           f"state, not {state.value}")
    return state


@bp.post("/executions/<execution_id>/change-status")
def change_status(tenant: str, execution_id: str):
    state = _terminal_state("status")
    _execution(tenant, execution_id)
    service.change_status(runtime(), tenant, execution_id, state)
    return respond(execution_json(_execution(tenant, execution_id)))


@bp.post("/executions/<execution_id>/labels")
def set_labels(tenant: str, execution_id: str):
    labels = label_list_body(json_body("labels"))
    execution = _execution(tenant, execution_id)
    if not execution.current.is_terminated:
        bad(f"The execution is not terminated ({execution.current.value}); labels can only "
            "be set on a terminated execution")
    service.set_labels(runtime(), tenant, execution_id, labels)
    return respond(execution_json(_execution(tenant, execution_id)))


# -- files and follow ---------------------------------------------------------------------------
@bp.get("/executions/<execution_id>/file")
def download_file(tenant: str, execution_id: str):
    """A kestra:// file of this execution (or of the executions whose files it may read:
    the one it was replayed from, the one that started it); 404 for any other path."""
    uri = request.args.get("path")
    if not uri:
        bad("Missing query parameter `path` (a kestra:// URI of the execution's files)")
    execution = _execution(tenant, execution_id)
    try:
        path = check_scope(uri, readable_scopes(execution))
        data = runtime().storage.get(tenant, path)
    except (PermissionError, ValueError, FileNotFoundError, IsADirectoryError):
        raise NotFound(f"File {uri} not found in execution {execution_id}")
    name = PurePosixPath(path).name
    response = Response(data, mimetype=mimetypes.guess_type(name)[0]
                        or "application/octet-stream")
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response


@bp.get("/executions/<execution_id>/follow")
def follow_execution(tenant: str, execution_id: str):
    """Server-sent events: `start`, then a `progress` event each time the execution changes,
    `end` once it is terminated (Kestra's event ids)."""
    _execution(tenant, execution_id)

    def events():
        yield _event("start", {"id": execution_id})
        version, started, quiet_since = None, time.monotonic(), time.monotonic()
        while time.monotonic() - started < FOLLOW_LIMIT_SECONDS:
            execution = execution_store.find_execution(tenant, execution_id)
            if execution is None:
                return
            if execution.current.is_terminated:
                yield _event("end", execution_json(execution))
                return
            if execution.version != version:
                version, quiet_since = execution.version, time.monotonic()
                yield _event("progress", execution_json(execution))
            elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keepalive\n\n"
            time.sleep(FOLLOW_POLL_SECONDS)

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _event(event_id: str, data) -> str:
    return f"id: {event_id}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


# -- bulk -----------------------------------------------------------------------------------
def _bulk(tenant: str, action: str, ids: list[str], **options):
    try:
        result = bulk.run(runtime(), tenant, action, ids, **options)
    except bulk.BulkRefused as refused:
        return respond({"message": str(refused),
                        "invalids": [r.to_dict() for r in refused.refusals]}, 400)
    if result.failures:
        return respond({"message": f"bulk {action} done with errors", "count": result.count,
                        "invalids": [f.to_dict() for f in result.failures]}, 422)
    return respond({"count": result.count})


def _ids_body() -> list[str]:
    return id_list_body(json_body("list of execution ids"))


def _query_ids(tenant: str) -> list[str]:
    return matching_execution_ids(tenant, api_filters("executions"))


def _delete_options() -> dict:
    return {"include_non_terminated": bool_arg("includeNonTerminated"),
            "delete_logs": bool_arg("deleteLogs", True),
            "delete_storage": bool_arg("deleteStorage", True)}


@bp.route("/executions/by-ids", methods=["DELETE", "POST"])
def delete_by_ids(tenant: str):
    return _bulk(tenant, "delete", _ids_body(), **_delete_options())


@bp.delete("/executions/by-query")
def delete_by_query(tenant: str):
    return _bulk(tenant, "delete", _query_ids(tenant), **_delete_options())


@bp.route("/executions/kill/by-ids", methods=["DELETE", "POST"])
def kill_by_ids(tenant: str):
    return _bulk(tenant, "kill", _ids_body())


@bp.route("/executions/kill/by-query", methods=["DELETE", "POST"])
def kill_by_query(tenant: str):
    return _bulk(tenant, "kill", _query_ids(tenant))


def _simple_bulk(action: str):
    def by_ids(tenant: str):
        return _bulk(tenant, action, _ids_body())

    def by_query(tenant: str):
        return _bulk(tenant, action, _query_ids(tenant))

    bp.add_url_rule(f"/executions/{action}/by-ids", f"{action}_by_ids", by_ids,
                    methods=["POST"])
    bp.add_url_rule(f"/executions/{action}/by-query", f"{action}_by_query", by_query,
                    methods=["POST"])


for _action in ("restart", "resume", "pause", "replay"):
    _simple_bulk(_action)


@bp.post("/executions/labels/by-ids")
def labels_by_ids(tenant: str):
    """Body {"executionsId": [...], "executionLabels": [{key, value}...]}."""
    body = json_body()
    if not isinstance(body, dict):
        bad('Invalid body: expected {"executionsId": [...], "executionLabels": [...]}')
    ids = id_list_body(body.get("executionsId"), "executionsId")
    labels = label_list_body(body.get("executionLabels"), "executionLabels")
    return _bulk(tenant, "labels", ids, labels=labels)


@bp.post("/executions/labels/by-query")
def labels_by_query(tenant: str):
    labels = label_list_body(json_body("labels"))
    return _bulk(tenant, "labels", _query_ids(tenant), labels=labels)


def _bulk_status() -> State:
    return _terminal_state("newStatus" if request.args.get("newStatus") else "status")


@bp.post("/executions/change-status/by-ids")
def change_status_by_ids(tenant: str):
    state = _bulk_status()
    return _bulk(tenant, "change-status", _ids_body(), state=state.value)


@bp.post("/executions/change-status/by-query")
def change_status_by_query(tenant: str):
    state = _bulk_status()
    return _bulk(tenant, "change-status", _query_ids(tenant), state=state.value)
