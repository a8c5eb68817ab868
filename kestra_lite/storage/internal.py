"""Internal storage: files addressed by kestra:// URIs, behind a small backend interface.

A URI is `kestra:///<namespace as path>/<flowId>/executions/<executionId>/<rest>`; the
backend only maps its path to bytes. Per-tenant and S3-compatible backends implement the
same four methods.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

SCHEME = "kestra://"


class StorageBackend(Protocol):
    def put(self, tenant: str, path: str, data: bytes) -> None: ...
    def get(self, tenant: str, path: str) -> bytes: ...
    def size(self, tenant: str, path: str) -> int: ...
    def exists(self, tenant: str, path: str) -> bool: ...


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

    def put(self, tenant: str, path: str, data: bytes) -> None:
        target = self._file(tenant, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".part")
        temporary.write_bytes(data)
        os.replace(temporary, target)

    def get(self, tenant: str, path: str) -> bytes:
        return self._file(tenant, path).read_bytes()

    def size(self, tenant: str, path: str) -> int:
        return self._file(tenant, path).stat().st_size

    def exists(self, tenant: str, path: str) -> bool:
        return self._file(tenant, path).is_file()


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    return f"/{namespace.replace('.', '/')}/{flow_id}/executions/{execution_id}"


def uri_of(path: str) -> str:
    return SCHEME + "/" + path.lstrip("/")


def path_of(uri: str) -> str:
    if not uri.startswith(SCHEME):
        raise ValueError(f"`{uri}` is not a kestra:// URI")
    return "/" + uri[len(SCHEME):].lstrip("/")


def check_scope(uri: str, namespace: str, flow_id: str, execution_id: str) -> str:
    """The path of `uri`, refused unless it belongs to the given execution."""
    path = path_of(uri)
    prefix = execution_prefix(namespace, flow_id, execution_id) + "/"
    if not path.startswith(prefix) or ".." in path.split("/"):
        raise PermissionError(f"Unable to read `{uri}`: it does not belong to execution "
                              f"`{execution_id}`")
    return path
