"""The bridge between expressions and the outside world (secrets, KV, files, logs).

The expression package performs no I/O: the engine passes a subclass of :class:`Hooks`.
"""
from __future__ import annotations

from typing import Any

from .errors import ExpressionError


class Hooks:
    """Base class; every method raises "not available here" unless overridden."""

    def _unavailable(self, name: str):
        raise ExpressionError(f"The '{name}' function is not available here")

    def secret(self, key: str) -> str | None:
        self._unavailable("secret")

    def kv(self, namespace: str, key: str, error_on_missing: bool) -> Any:
        self._unavailable("kv")

    def read(self, path: str) -> str:
        self._unavailable("read")

    def file_uri(self, path: str) -> str:
        self._unavailable("fileURI")

    def file_size(self, path: str) -> int:
        self._unavailable("fileSize")

    def error_logs(self) -> list[dict]:
        raise ExpressionError(
            "The 'errorLogs' function can only be used in the Worker as it access the execution logs"
        )


DEFAULT_HOOKS = Hooks()


import contextvars  # noqa: E402

CURRENT_HOOKS: contextvars.ContextVar = contextvars.ContextVar("kestra_hooks", default=DEFAULT_HOOKS)


def current_hooks() -> Hooks:
    return CURRENT_HOOKS.get()
