"""Flows: create, update, read, delete, list, search (by name and inside sources), revisions,
validation, distinct namespaces (Kestra's FlowController, 0.20)."""
from __future__ import annotations

import json
import re

import yaml
from flask import request

from ...errors import Conflict, Forbidden, InvalidFlow, InvalidInput, NotFound
from ...model.flow_parser import parse_flow, parse_flows
from ...services import flows as flow_service
from ...store import flows as flow_store
from ...store.db import write_transaction
from ..runtime import runtime
from . import bp
from .params import bad, bool_arg, int_arg, page_args
from .search import api_filters, flow_page
from .serialize import flow_json, paged, respond

SEPARATOR = re.compile(r"^---[ \t]*(#.*)?$")


def _source_body() -> str:
    """The flow YAML of the request (JSON bodies, Kestra's older form, are turned to YAML)."""
    text = request.get_data(as_text=True)
    if not text.strip():
        bad("Missing flow source: send the flow YAML as the request body "
            "(Content-Type: application/x-yaml)")
    if request.mimetype == "application/json":
        try:
            data = json.loads(text)
        except ValueError as error:
            bad(f"Invalid JSON body: {error}")
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text


def _record(tenant: str, namespace: str, flow_id: str, revision: int | None = None,
            allow_deleted: bool = False):
    record = flow_store.get_flow(tenant, namespace, flow_id, revision, allow_deleted)
    if record is None:
        what = f" revision {revision}" if revision is not None else ""
        raise NotFound(f"Flow {namespace}.{flow_id}{what} not found")
    return record


def _saved(tenant: str, flow) -> dict:
    record = _record(tenant, flow.namespace, flow.id, flow.revision)
    return flow_json(record, source=True)


@bp.post("/flows")
def create_flow(tenant: str):
    source = _source_body()
    flow = parse_flow(source, "<api>", tenant=tenant)
    if flow_store.get_flow(tenant, flow.namespace, flow.id) is not None:
        raise Conflict(f"Flow id already exists: {flow.namespace}.{flow.id} (update it with "
                       f"PUT /api/v1/flows/{flow.namespace}/{flow.id})")
    deployed = flow_service.deploy(runtime(), tenant, source, "<api>", from_user=True)
    return respond(_saved(tenant, deployed))


@bp.put("/flows/<namespace>/<flow_id>")
def update_flow(tenant: str, namespace: str, flow_id: str):
    source = _source_body()
    flow = parse_flow(source, "<api>", tenant=tenant)
    if flow.namespace != namespace or flow.id != flow_id:
        raise InvalidInput(f"The flow in the body ({flow.namespace}.{flow.id}) is not the one "
                           f"of the URL ({namespace}.{flow_id}); a flow's id and namespace "
                           "cannot change")
    _record(tenant, namespace, flow_id)
    deployed = flow_service.deploy(runtime(), tenant, source, "<api>", from_user=True)
    return respond(_saved(tenant, deployed))


@bp.post("/flows/<namespace>")
def update_namespace_flows(tenant: str, namespace: str):
    """Create or update every flow of a multi-document YAML; `delete=true` (default) also
    deletes the namespace's flows it does not contain."""
    source = _source_body()
    delete_others = bool_arg("delete", True)
    flows = parse_flows(source, "<api>", tenant=tenant)
    for flow in flows:
        if flow.namespace != namespace:
            raise InvalidInput(f"Flow {flow.namespace}.{flow.id} is not in namespace "
                               f"{namespace}")
    kept = {flow.id for flow in flows}
    if len(kept) != len(flows):
        twice = sorted({flow.id for flow in flows if [f.id for f in flows].count(flow.id) > 1})
        raise InvalidInput(f"Flow {namespace}.{twice[0]} is given more than once in the body")
    others = [record for record in flow_store.list_flows(tenant, namespace)
              if record.flow_id not in kept] if delete_others else []
    for flow_id in sorted(kept) + [record.flow_id for record in others]:
        _refuse_read_only(tenant, namespace, flow_id)
    saved = []
    with write_transaction():      # all the flows change, or none
        for _, text in _documents(source):
            deployed = flow_service.deploy(runtime(), tenant, text, "<api>", from_user=True)
            saved.append(_saved(tenant, deployed))
        for record in others:
            flow_service.delete(tenant, namespace, record.flow_id)
    return respond(saved)


def _refuse_read_only(tenant: str, namespace: str, flow_id: str) -> None:
    """Checked for every flow before any is written, so nothing is half done."""
    record = flow_store.get_flow(tenant, namespace, flow_id)
    if record is not None and flow_service.is_read_only(record.labels):
        raise Forbidden(f"The flow {namespace}.{flow_id} is read-only (label "
                        f'{flow_service.READ_ONLY_LABEL}: "true"); nothing was changed.')


@bp.get("/flows/<namespace>/<flow_id>")
def get_flow(tenant: str, namespace: str, flow_id: str):
    record = _record(tenant, namespace, flow_id, int_arg("revision"),
                     bool_arg("allowDeleted"))
    return respond(flow_json(record, source=bool_arg("source")))


@bp.delete("/flows/<namespace>/<flow_id>")
def delete_flow(tenant: str, namespace: str, flow_id: str):
    flow_service.delete(tenant, namespace, flow_id)
    return "", 204


@bp.get("/flows/<namespace>")
def list_namespace_flows(tenant: str, namespace: str):
    return respond([flow_json(record) for record in flow_store.list_flows(tenant, namespace)])


@bp.get("/flows/<namespace>/<flow_id>/revisions")
def flow_revisions(tenant: str, namespace: str, flow_id: str):
    records = flow_store.revisions(tenant, namespace, flow_id)
    if not records:
        raise NotFound(f"Flow {namespace}.{flow_id} not found")
    return respond([flow_json(record, source=True) for record in records])


@bp.get("/flows/search")
def search_flows(tenant: str):
    page, size = page_args()
    found = flow_page(tenant, api_filters("flows"), page, size)
    return respond(paged([flow_json(record) for record in found.results], found.total))


@bp.get("/flows/source")
def search_flow_sources(tenant: str):
    """Flows whose YAML source contains the words of `q`, with the matching lines
    (`[mark]word[/mark]`), Kestra's SearchResult shape `{model, fragments}`."""
    page, size = page_args()
    filters = api_filters("flows")
    found = flow_page(tenant, filters, page, size, source_text=True)
    return respond(paged([{"model": flow_json(record),
                           "fragments": _fragments(record.source, filters.words)}
                          for record in found.results], found.total))


def _fragments(source: str, words: list[str], limit: int = 10) -> list[str]:
    if not words:
        return []
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    found = []
    for line in source.splitlines():
        if pattern.search(line):
            found.append(pattern.sub(lambda m: f"[mark]{m.group(0)}[/mark]", line.strip()))
            if len(found) == limit:
                break
    return found


@bp.get("/flows/distinct-namespaces")
def distinct_namespaces(tenant: str):
    text = (request.args.get("q") or "").lower()
    names = sorted({record.namespace for record in flow_store.list_flows(tenant)})
    return respond([name for name in names if text in name.lower()])


# -- validation ------------------------------------------------------------------------
def _documents(source: str) -> list[tuple[int, str]]:
    """(0-based first line, text) of every non-empty YAML document."""
    chunks, start, current = [], 0, []
    lines = source.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if SEPARATOR.match(line.rstrip("\r\n")):
            chunks.append((start, "".join(current)))
            start, current = index + 1, []
        else:
            current.append(line)
    chunks.append((start, "".join(current)))
    return [(offset, text) for offset, text in chunks if _has_content(text)]


def _has_content(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") and line.strip() != "..."
               for line in text.splitlines())


def _id_and_namespace(text: str) -> tuple[str | None, str | None]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    flow_id, namespace = data.get("id"), data.get("namespace")
    return (flow_id if isinstance(flow_id, str) else None,
            namespace if isinstance(namespace, str) else None)


@bp.post("/flows/validate")
def validate_flows(tenant: str):
    """One entry per YAML document: its id and namespace, and `constraints` (every problem
    as `line:column: message`, lines counted in the whole body) or null when valid."""
    source = request.get_data(as_text=True)
    results = []
    for index, (offset, text) in enumerate(_documents(source)):
        flow_id, namespace = _id_and_namespace(text)
        constraints = None
        try:
            # leading newlines keep the reported lines those of the whole body
            parse_flow("\n" * offset + text, "<api>", tenant=tenant)
        except InvalidFlow as error:
            constraints = "\n".join(str(problem) for problem in error.problems)
        results.append({"index": index, "flow": flow_id, "namespace": namespace,
                        "constraints": constraints, "outdated": False,
                        "deprecationPaths": [], "warnings": [], "infos": []})
    return respond(results)
