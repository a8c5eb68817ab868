"""What a running task may touch outside its own attempt: KV entries, internal storage files
of its execution, other executions. Tasks get it as `ctx.services`."""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterable

from kestra_lite.model.execution import Execution, TaskRun
from kestra_lite.model.state import utcnow
from kestra_lite.services import executions as service
from kestra_lite.services.runtime import Runtime
from kestra_lite.storage.internal import (check_scope, execution_prefix, readable_scopes,
                                          uri_of)
from kestra_lite.store import kv as kv_store


class TaskServices:
    def __init__(self, runtime: Runtime, execution: Execution, task_run: TaskRun):
        self.runtime, self.execution, self.task_run = runtime, execution, task_run
        self.tenant = execution.tenant

    @property
    def settings(self):
        return self.runtime.settings

    # -- KV store ------------------------------------------------------------------------
    def kv_get(self, namespace, key):
        return kv_store.kv_get(self.tenant, namespace, key, utcnow())

    def kv_put(self, namespace, key, value, *, type=None, ttl=None, overwrite=True):
        kv_store.kv_put(self.tenant, namespace, key, value, type=type, ttl=ttl, now=utcnow(),
                        overwrite=overwrite)

    def kv_delete(self, namespace, key):
        return kv_store.kv_delete(self.tenant, namespace, key)

    def kv_keys(self, namespace, prefix):
        return kv_store.kv_keys(self.tenant, namespace, prefix, now=utcnow())

    # -- internal storage ------------------------------------------------------------------
    def put_file(self, name: str, data: bytes | Iterable[bytes]) -> str:
        """Store a file produced by this task run (bytes, or chunks as they come); returns
        its kestra:// URI (`.../executions/<id>/tasks/<taskId>/<taskRunId>/<name>`)."""
        execution, task_run = self.execution, self.task_run
        clean = PurePosixPath("/" + name.replace("\\", "/"))
        parts = [part for part in clean.parts[1:] if part not in ("", ".", "..")]
        if not parts:
            raise ValueError(f"Invalid file name `{name}`")
        path = (execution_prefix(execution.namespace, execution.flow_id, execution.id)
                + f"/tasks/{task_run.task_id}/{task_run.id}/" + "/".join(parts))
        self.runtime.storage.put(self.tenant, path, data)
        return uri_of(path)

    def read_file(self, uri: str) -> bytes:
        """The bytes behind a kestra:// URI of this execution (PermissionError for another
        execution's file, FileNotFoundError when missing)."""
        execution = self.execution
        path = check_scope(uri, readable_scopes(execution))
        return self.runtime.storage.get(self.tenant, path)

    # -- other executions --------------------------------------------------------------------
    def resume_execution(self, execution_id, inputs):
        service.resume(self.runtime, self.tenant, execution_id, inputs)
