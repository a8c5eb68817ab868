"""Tenants in the URL: `/ui/<tenant>/...`, `/api/v1/<tenant>/...` (default `main`).

Every view gets `tenant` as an argument and passes it to every query; `g.tenant` holds it
for templates. A malformed tenant answers 404.
"""
from __future__ import annotations

import re

from flask import Flask, abort, g

DEFAULT_TENANT = "main"
TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def init_app(app: Flask) -> None:
    @app.url_value_preprocessor
    def pick_tenant(endpoint, values):
        tenant = (values or {}).get("tenant")
        if tenant is None:
            g.tenant = DEFAULT_TENANT
        elif not TENANT.match(tenant):
            abort(404)
        else:
            g.tenant = tenant
