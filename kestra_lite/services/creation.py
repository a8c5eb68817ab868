"""Building a new execution of a flow: inputs parsed and validated, labels, correlation id."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kestra_lite.engine.expressions import ExpressionError, render
from kestra_lite.errors import InvalidInput
from kestra_lite.model.execution import Execution, label_list, new_id
from kestra_lite.model.flow import Flow
from kestra_lite.model.inputs import resolve_inputs
from kestra_lite.model.state import State, StateInfo
from kestra_lite.storage.encryption import EncryptionUnavailable
from kestra_lite.storage.internal import execution_prefix, uri_of

CORRELATION_ID = "system.correlationId"


def build_execution(runtime, flow: Flow, *, inputs: dict | None, labels, trigger: dict | None,
                    now: datetime, parsed: bool = True, local_files: bool = False) -> Execution:
    """A CREATED execution (not stored). `parsed=False` keeps `inputs` as given (no validation).
    `local_files=True` (the CLI only) lets a FILE input name a file of this machine.

    Raises InvalidInput for bad inputs or labels."""
    execution_id = new_id()
    execution = Execution(id=execution_id, namespace=flow.namespace, flow_id=flow.id,
                          flow_revision=flow.revision, tenant=flow.tenant,
                          state=StateInfo.new(State.CREATED, now), trigger=trigger,
                          original_created_date=now)
    execution.labels = execution_labels(flow, label_list(labels) if labels else [], execution_id)
    if parsed:
        execution.inputs = resolve_execution_inputs(runtime, flow, execution, inputs or {},
                                                    local_files)
    else:
        execution.inputs = dict(inputs or {})
    return execution


def execution_labels(flow: Flow, given: list[dict], execution_id: str) -> list[dict]:
    """Flow labels (non-system) + given labels + system.correlationId (semantics 11)."""
    labels: list[dict] = [dict(l) for l in flow.labels if not l["key"].startswith("system.")]
    for label in given:
        key = label["key"]
        if "\x00" in f"{key}{label['value']}":
            raise InvalidInput(f"Label `{key}` contains a NUL character")
        if key.startswith("system.") and key != CORRELATION_ID:
            raise InvalidInput("System labels can only be set by Kestra itself, offending label: "
                               f"{key}={label['value']}")
        labels = [l for l in labels if l["key"] != key] + [dict(label)]
    if not any(l["key"] == CORRELATION_ID for l in labels):
        labels.append({"key": CORRELATION_ID, "value": execution_id})
    return labels


def resolve_execution_inputs(runtime, flow: Flow, execution: Execution, provided: dict,
                             local_files: bool = False) -> dict:
    prefix = execution_prefix(flow.namespace, flow.id, execution.id)

    def store_file(input_id: str, value) -> str:
        return store_input_file(runtime, execution.tenant, f"{prefix}/inputs/{input_id}", value,
                                local_files)

    def render_condition(expression: str, inputs: dict):
        try:
            return render(expression, {"inputs": inputs, "flow": {"id": flow.id,
                                       "namespace": flow.namespace}})
        except ExpressionError as error:
            raise InvalidInput(str(error))

    try:
        return resolve_inputs(flow.inputs, provided, render=render_condition,
                              store_file=store_file, encrypt=runtime.encryption.encrypt)
    except EncryptionUnavailable as error:
        raise InvalidInput(str(error))


def store_input_file(runtime, tenant: str, folder: str, value, local_files: bool = False) -> str:
    """Store an uploaded file: `value` is (filename, bytes), a kestra:// URI, or (only with
    `local_files`) a path on this machine."""
    if isinstance(value, str) and value.startswith("kestra://"):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        filename, data = value
    elif not local_files:
        raise InvalidInput(f"Expected an uploaded file but received `{value}`")
    else:
        path = Path(str(value))
        if not path.is_file():
            raise InvalidInput(f"Unable to read the file `{value}`")
        filename, data = path.name, path.read_bytes()
    name = Path(str(filename)).name or "file.upl"
    target = f"{folder}/{name}"
    runtime.storage.put(tenant, target, data if isinstance(data, bytes) else str(data).encode())
    return uri_of(target)
