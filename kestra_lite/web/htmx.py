"""A few helpers for htmx 2.x requests (vendored static/vendor/htmx-2.0.11.min.js).

htmx 2 sends `HX-Request: true`, `HX-Target` (the target element's id), `HX-Trigger`
(the triggering element's id) and `HX-Current-URL`."""
from __future__ import annotations

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block  # noqa: F401 - re-exported for views


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def flash(message: str, kind: str = "info") -> Response:
    """A message shown in the page's #flash area whatever element asked."""
    response = make_response(render_template("macros/flash.html", message=message, kind=kind))
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def location(url: str) -> Response:
    """After an htmx POST: navigate (POST-redirect-GET without a full reload)."""
    response = make_response("", 204)
    response.headers["HX-Location"] = url
    return response


def redirect_or_location(url: str):
    """htmx request: HX-Location; plain form post: 303 redirect."""
    if is_htmx():
        return location(url)
    return redirect(url, code=303)
