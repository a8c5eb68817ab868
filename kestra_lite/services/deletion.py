"""Deleting an execution with, as asked, its logs and its internal-storage files (Kestra's
DELETE /executions/{id}: deleteLogs, deleteStorage; metrics are not stored here).

A running execution is asked to stop first (its task processes are killed), then removed;
jobs still queued for it find nothing and end.
"""
from __future__ import annotations

import logging

from kestra_lite.errors import IllegalTransition, NotFound
from kestra_lite.services import executions as service
from kestra_lite.services.runtime import Runtime
from kestra_lite.storage.internal import execution_prefix
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store

log = logging.getLogger(__name__)


def delete_execution(runtime: Runtime, tenant: str, execution_id: str, *,
                     delete_logs: bool = True, delete_storage: bool = True) -> None:
    """Raises NotFound."""
    execution = store.find_execution(tenant, execution_id)
    if execution is None:
        raise NotFound(f"Execution {execution_id} not found")
    if not execution.current.is_terminated:
        try:
            service.kill(runtime, tenant, execution_id)
        except (IllegalTransition, NotFound):
            pass
    store.delete_execution(tenant, execution_id)
    if delete_logs:
        log_store.delete_logs(tenant, execution_id)
    if delete_storage:
        delete_files(runtime, tenant, execution.namespace, execution.flow_id, execution_id)


def delete_logs(tenant: str, execution_id: str) -> int:
    return log_store.delete_logs(tenant, execution_id)


def delete_files(runtime: Runtime, tenant: str, namespace: str, flow_id: str,
                 execution_id: str) -> None:
    """Remove the execution's folder of the internal storage (inputs, outputs)."""
    runtime.storage.delete_prefix(tenant, execution_prefix(namespace, flow_id, execution_id))
