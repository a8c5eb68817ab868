"""Webhook triggers (semantics 9.2): an HTTP request with the right key starts the flow.

The key (rendered with the flow's variables, so `{{ secret('KEY') }}` works) is compared in
constant time. The request is available as `trigger.body` (JSON if it parses, else the raw
text; None when empty), `trigger.headers` and `trigger.parameters` (name -> list of values).
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from kestra_lite.engine.conditions import ConditionContext, ConditionError, all_conditions_match
from kestra_lite.engine.expressions import ExpressionError, render, render_value
from kestra_lite.errors import Conflict, InvalidInput, NotFound
from kestra_lite.model.execution import Execution, label_list
from kestra_lite.model.flow import Flow
from kestra_lite.model.triggers import WEBHOOK
from kestra_lite.services import executions as execution_service
from kestra_lite.services.runtime import Runtime, RuntimeHooks
from kestra_lite.store import triggers as trigger_store


@dataclass
class WebhookRequest:
    method: str
    body: bytes
    content_type: str | None
    headers: dict[str, list[str]]
    parameters: dict[str, list[str]]

    def parsed_body(self):
        if not self.body:
            return None
        text = self.body.decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except (ValueError, RecursionError):     # not JSON, or nested too deep to keep
            return text


def receive(runtime: Runtime, tenant: str, namespace: str, flow_id: str, key: str,
            request: WebhookRequest, now: datetime | None = None) -> Execution | None:
    """The created execution, or None when the trigger's conditions reject the request."""
    flow = runtime.load_flow(tenant, namespace, flow_id)
    if flow is None:
        raise NotFound("Flow not found")
    if flow.disabled:
        raise Conflict(f"Cannot execute the disabled flow `{namespace}`.`{flow_id}`")
    definition = _webhook(runtime, flow, key)
    trigger_variables = {"body": request.parsed_body(), "headers": request.headers,
                         "parameters": request.parameters}
    variables = {"trigger": trigger_variables, "flow": _flow_variables(flow)}
    hooks = _hooks(runtime, flow)
    try:
        context = ConditionContext(variables=variables,
                                   render=lambda template: render(template, variables, hooks))
        if not all_conditions_match(definition.get("conditions") or [], context):
            return None
        inputs = render_value(definition.get("inputs") or {}, variables, hooks)
        labels = label_list(render_value(definition.get("labels"), variables, hooks))
    except (ConditionError, ExpressionError) as error:
        raise InvalidInput(f"Webhook trigger '{definition['id']}': {error}")
    return execution_service.create_execution(
        runtime, flow, inputs=inputs, labels=labels, now=now,
        trigger={"id": definition["id"], "type": WEBHOOK, "variables": trigger_variables})


def _webhook(runtime: Runtime, flow: Flow, key: str) -> dict:
    """The enabled Webhook trigger of `flow` whose rendered key is `key`."""
    for definition in flow.triggers:
        if definition["type"] != WEBHOOK or definition.get("disabled") is True:
            continue
        if not hmac.compare_digest(_key(runtime, flow, definition).encode(), key.encode()):
            continue
        row = trigger_store.get_trigger(flow.tenant, flow.namespace, flow.id, definition["id"])
        if row is not None and row.disabled:
            continue
        return definition
    raise NotFound("Webhook not found")


def _key(runtime: Runtime, flow: Flow, definition: dict) -> str:
    try:
        key = render(str(definition["key"]), {"flow": _flow_variables(flow)},
                     _hooks(runtime, flow))
    except ExpressionError:
        return ""                   # an unrenderable key matches nothing
    return str(key).strip()


def _flow_variables(flow: Flow) -> dict:
    return {"id": flow.id, "namespace": flow.namespace, "revision": flow.revision,
            "tenantId": flow.tenant}


def _hooks(runtime: Runtime, flow: Flow) -> RuntimeHooks:
    """secret() and kv() for a request that has no execution yet."""
    return RuntimeHooks(runtime, flow, SimpleNamespace(tenant=flow.tenant, id=None))
