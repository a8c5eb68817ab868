"""The web process's Runtime (database, Redis, queue, storage), built on first use."""
from __future__ import annotations

from flask import current_app

from ..services.runtime import Runtime


def runtime() -> Runtime:
    found = current_app.extensions.get("kestra_runtime")
    if found is None:
        found = Runtime(current_app.config["KESTRA_SETTINGS"])
        current_app.extensions["kestra_runtime"] = found
    return found
