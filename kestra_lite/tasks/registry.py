"""Runnable task implementations, loaded lazily from the catalog's `impl` strings."""
from __future__ import annotations

import importlib
from functools import lru_cache

from kestra_lite.model import catalog


@lru_cache(maxsize=None)
def implementation(type_string: str):
    task_type = catalog.lookup(type_string)
    if task_type is None or not task_type.impl:
        raise LookupError(f"No runnable implementation for task type `{type_string}`")
    module_name, _, class_name = task_type.impl.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise LookupError(f"Task type `{type_string}` is not available in this installation")
    return getattr(module, class_name)()


def preload() -> None:
    """Import every core implementation (before a worker forks)."""
    for task_type in catalog.all_types():
        if task_type.impl and task_type.impl.startswith("kestra_lite.tasks.core."):
            implementation(task_type.type)
