"""Kestra's JSON shapes: flows (the YAML's own keys, labels as a list of {key, value},
revision, deleted, source when asked), executions (`Execution.to_dict()`), paged results
`{"results": [...], "total": N}`."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import yaml
from flask import Response, current_app, json

from ...model.durations import format_duration
from ...model.execution import Execution, label_list
from ...model.state import iso

FIRST_KEYS = ("id", "namespace", "revision")


def jsonable(value):
    """Dates as ISO text (Flask would write HTTP dates), tuples as lists, recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def respond(body, status: int = 200) -> Response:
    """JSON in Kestra's key order (Flask would sort the keys)."""
    text = json.dumps(jsonable(body), sort_keys=False, ensure_ascii=False)
    return current_app.response_class(text, status=status, mimetype="application/json")


def paged(results: list, total: int) -> dict:
    return {"results": results, "total": total}


def _yaml_map(source: str) -> dict:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def flow_json(record, *, source: bool = False) -> dict:
    """A stored flow revision (store.flows.FlowRecord) as Kestra's Flow (FlowWithSource
    with `source=True`)."""
    data = _yaml_map(record.source)
    body = {"id": record.flow_id, "namespace": record.namespace, "revision": record.revision}
    for key, value in data.items():
        if key not in FIRST_KEYS and key != "labels":
            body[key] = value
    labels = label_list(data.get("labels")) if data.get("labels") else label_list(record.labels)
    if labels:
        body["labels"] = labels
    body["disabled"] = bool(record.disabled)
    body["deleted"] = bool(record.deleted)
    if record.tenant:
        body["tenantId"] = record.tenant
    if source:
        body["source"] = record.source
    return body


def execution_json(execution: Execution, *, with_task_runs: bool = True) -> dict:
    body = execution.to_dict()
    if not with_task_runs:
        body.pop("taskRunList", None)
    return body
