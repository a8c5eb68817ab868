"""CSRF protection for every state-changing request made with the session cookie.

The token lives in the session; forms carry it in a hidden `csrf_token` field, htmx sends it
in the `X-CSRF-Token` header (set once on <body hx-headers>). API calls authenticated by
Basic auth or an API token carry no cookie-borne authority, so they need no token.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, g, request, session
from markupsafe import Markup, escape

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def token() -> str:
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def field() -> Markup:
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token())}">')


def _sent() -> str:
    return request.headers.get(HEADER) or request.form.get(FIELD) or ""


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(csrf_token=token, csrf_field=field)

    @app.before_request
    def check_csrf():
        if request.method in SAFE_METHODS or g.get("auth_without_cookie"):
            return None
        expected = session.get(FIELD)
        if not expected or not hmac.compare_digest(expected, _sent()):
            abort(400, description="The form expired or did not come from this site "
                                   "(missing or wrong CSRF token); reload the page and retry.")
        return None
