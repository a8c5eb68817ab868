"""Internal storage: files addressed by kestra:// URIs, behind a small backend interface.

A URI is `kestra:///<namespace as path>/<flowId>/executions/<executionId>/<rest>`; the
backend only maps its path to bytes. Per-tenant and S3-compatible backends implement the
same four methods.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Iterable, Protocol

SCHEME = "kestra://"


class StorageBackend(Protocol):
    def put(self, tenant: str, path: str, data: bytes | Iterable[bytes]) -> None: ...
    def get(self, tenant: str, path: str) -> bytes: ...
    def size(self, tenant: str, path: str) -> int: ...
    def exists(self, tenant: str, path: str) -> bool: ...
    def delete_prefix(self, tenant: str, prefix: str) -> None: ...


class LocalStorage:
    """Files under `<base>/<tenant>/<path>`."""

    def __init__(self, base: Path):
        self.base = Path(base)

    def _file(self, tenant: str, path: str) -> Path:
        target = (self.base / tenant / path.lstrip("/")).resolve()
        root = (self.base / tenant).resolve()
        if root not in target.parents:
            raise ValueError(f"Invalid storage path `{path}`")
        return target

    def put(self, tenant: str, path: str, data: bytes | Iterable[bytes]) -> None:
        """Store bytes, or chunks as they come (a download); the file appears whole or not
        at all."""
        target = self._file(tenant, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            with temporary.open("wb") as file:
                for chunk in (data,) if isinstance(data, (bytes, bytearray)) else data:
                    file.write(chunk)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    def get(self, tenant: str, path: str) -> bytes:
        return self._file(tenant, path).read_bytes()

    def size(self, tenant: str, path: str) -> int:
        return self._file(tenant, path).stat().st_size

    def exists(self, tenant: str, path: str) -> bool:
        return self._file(tenant, path).is_file()

    def delete_prefix(self, tenant: str, prefix: str) -> None:
        """Remove a folder and everything under it (an execution's files)."""
        shutil.rmtree(self._file(tenant, prefix), ignore_errors=True)


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    return f"/{namespace.replace('.', '/')}/{flow_id}/executions/{execution_id}"


def uri_of(path: str) -> str:
    return SCHEME + "/" + path.lstrip("/")


def path_of(uri: str) -> str:
    if not uri.startswith(SCHEME):
        raise ValueError(f"`{uri}` is not a kestra:// URI")
    return "/" + uri[len(SCHEME):].lstrip("/")


def check_scope(uri: str, scopes: Iterable[tuple[str, str, str]]) -> str:
    """The path of `uri`, refused unless it belongs to one of the executions `scopes` names
    as (namespace, flow id, execution id)."""
    path = path_of(uri)
    if ".." not in path.split("/"):
        for namespace, flow_id, execution_id in scopes:
            if path.startswith(execution_prefix(namespace, flow_id, execution_id) + "/"):
                return path
    raise PermissionError(f"Unable to read the file '{uri}' as it didn't belong to the "
                          f"current execution")


def readable_scopes(execution) -> list[tuple[str, str, str]]:
    """The executions whose files an execution may read: itself, the execution it was
    replayed or restarted from (its task runs and inputs were copied), and the one that
    triggered it (a Subflow's parent, a Flow trigger's upstream execution)."""
    scopes = [(execution.namespace, execution.flow_id, execution.id)]
    for related in (execution.parent_id, execution.original_id):
        if related:
            scopes.append((execution.namespace, execution.flow_id, related))
    variables = (execution.trigger or {}).get("variables") or {}
    if all(isinstance(variables.get(key), str) for key in ("namespace", "flowId", "executionId")):
        scopes.append((variables["namespace"], variables["flowId"], variables["executionId"]))
    return scopes
