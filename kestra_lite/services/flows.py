"""Flow use cases: validate and save (a new revision when the source changed), delete.

A flow labelled `system.readOnly: "true"` (as stored, or as submitted) cannot be changed
or deleted from the UI or the API: such flows are managed elsewhere (CI, Git sync).
"""
from __future__ import annotations

from kestra_lite.errors import Forbidden, NotFound
from kestra_lite.model.flow import Flow
from kestra_lite.model.flow_parser import parse_flow
from kestra_lite.services import triggers as trigger_service
from kestra_lite.store import flows as flow_store

READ_ONLY_LABEL = "system.readOnly"


def is_read_only(labels) -> bool:
    """labels: a Kestra label map or list of {key, value}."""
    if isinstance(labels, dict):
        value = labels.get(READ_ONLY_LABEL)
    else:
        value = next((item.get("value") for item in labels or []
                      if item.get("key") == READ_ONLY_LABEL), None)
    return str(value).lower() == "true"


def _refuse_read_only(tenant: str, namespace: str, flow_id: str) -> None:
    record = flow_store.get_flow(tenant, namespace, flow_id)
    if record is not None and is_read_only(record.labels):
        raise Forbidden(f"The flow {namespace}.{flow_id} is read-only (label "
                        f'{READ_ONLY_LABEL}: "true"); it is managed outside the UI and API.')


def deploy(runtime, tenant: str, source: str, filename: str = "<flow>", *,
           from_user: bool = False) -> Flow:
    """Parse, validate and store a flow. Raises InvalidFlow (nothing stored).

    from_user: the change comes from the UI or the API, so read-only flows are refused
    (Forbidden)."""
    flow = parse_flow(source, filename, tenant=tenant)
    if from_user:
        _refuse_read_only(tenant, flow.namespace, flow.id)
    revision, _ = flow_store.save_flow(tenant, flow.namespace, flow.id, source,
                                       disabled=flow.disabled, labels=flow.labels)
    flow.revision = revision
    deployed = runtime.load_flow(tenant, flow.namespace, flow.id, revision) or flow
    trigger_service.sync_flow(runtime, deployed)
    return deployed


def delete(tenant: str, namespace: str, flow_id: str) -> None:
    """Delete a flow (its revisions stay for its past executions). Raises NotFound and,
    for a read-only flow, Forbidden."""
    _refuse_read_only(tenant, namespace, flow_id)
    if not flow_store.delete_flow(tenant, namespace, flow_id):
        raise NotFound(f"Flow {namespace}.{flow_id} not found")
    trigger_service.remove_flow(tenant, namespace, flow_id)
