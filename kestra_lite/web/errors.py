"""Every error becomes a message, never a traceback: JSON `{"message": ...}` with the right
status under /api/, an error page (or, for htmx, a flash fragment) elsewhere."""
from __future__ import annotations

import logging
import secrets

from flask import Flask, jsonify, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from ..errors import (Conflict, Forbidden, IllegalTransition, InvalidFlow, InvalidInput,
                      KestraLiteError, NotFound)
from . import htmx

log = logging.getLogger(__name__)
STATUS = {NotFound: 404, Conflict: 409, Forbidden: 403, InvalidInput: 422, InvalidFlow: 422,
          IllegalTransition: 409}


def status_of(error: KestraLiteError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def _body(error: KestraLiteError) -> dict:
    body = {"message": str(error)}
    if isinstance(error, InvalidFlow):
        body["errors"] = [problem.to_dict() for problem in error.problems]
    return body


def respond(message: str, status: int, body: dict | None = None):
    if request.path.startswith("/api/"):
        response = jsonify(body or {"message": message})
    elif htmx.is_htmx():
        response = htmx.flash(message, "error")
    else:
        response = _error_page(message, status)
    return response, status


def _error_page(message: str, status: int):
    try:
        return render_template("error.html", message=message, status=status)
    except Exception:  # noqa: BLE001 - the layout itself failed: a bare page, still no traceback
        log.exception("error page failed path=%s", request.path)
        return (f"<!doctype html><title>Error {status}</title><h1>Error {status}</h1>"
                f"<p>{escape(message)}</p>")


def _has_nul() -> bool:
    values = [request.path, *request.args.values()]
    if request.method not in ("GET", "HEAD") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += list(request.form.values())
    return any("\x00" in value for value in values)


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul():
        """PostgreSQL cannot store a NUL character: refuse it at the door, with a message."""
        if _has_nul():
            return respond("The request contains a NUL character (\\x00); remove it.", 400)
        return None

    @app.errorhandler(KestraLiteError)
    def domain_error(error: KestraLiteError):
        return respond(str(error), status_of(error), _body(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return respond(error.description or error.name, error.code or 500)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        reference = secrets.token_hex(4)
        log.exception("unexpected error reference=%s path=%s", reference, request.path)
        return respond(f"Something went wrong on our side (reference {reference}); "
                       "it has been logged.", 500)
