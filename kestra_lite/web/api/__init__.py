"""Kestra's REST API (0.20 paths and JSON shapes) under /api/v1 and /api/v1/<tenant>.

One blueprint, registered twice by create_app; every view takes `tenant` first. Errors are
domain errors (kestra_lite.errors) or 400s naming the bad parameter, answered as
`{"message": ...}` by web/errors.py. Routes live in one module per area, imported below so
they attach to `bp`.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)

from . import (executions, flows, instance, kv, logs, namespaces, triggers,  # noqa: E402,F401
               webhooks)
