"""Flow use cases: validate and save (a new revision when the source changed)."""
from __future__ import annotations

from kestra_lite.model.flow import Flow
from kestra_lite.model.flow_parser import parse_flow
from kestra_lite.store import flows as flow_store


def deploy(runtime, tenant: str, source: str, filename: str = "<flow>") -> Flow:
    """Parse, validate and store a flow. Raises InvalidFlow (nothing stored)."""
    flow = parse_flow(source, filename, tenant=tenant)
    revision, _ = flow_store.save_flow(tenant, flow.namespace, flow.id, source,
                                       disabled=flow.disabled, labels=flow.labels)
    flow.revision = revision
    return runtime.load_flow(tenant, flow.namespace, flow.id, revision) or flow
