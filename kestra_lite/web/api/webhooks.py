"""Webhook triggers (semantics 9.2): `GET|POST|PUT /executions/webhook/{namespace}/{flowId}/{key}`
starts the flow whose enabled Webhook trigger has that key.

Answers as Kestra: 200 with the created execution, 204 when the trigger's conditions reject
the request, 404 `Not Found: Flow not found` / `Not Found: Webhook not found` (a wrong key
and a disabled trigger look the same: nothing tells a caller which keys exist), 409 for a
disabled flow, 413 for a body over MAX_BODY_BYTES.

These endpoints are open (no credentials: the key is the secret; `auth.OPEN_ENDPOINTS`
lists them by name), so they must lend no authority from a browser's session to a
cross-site request: the view never reads the session or the user, the CSRF check is
skipped for these two endpoint names only, and the Cookie header is not handed to the flow
(it would store a logged-in user's session cookie in the execution's trigger variables).
"""
from __future__ import annotations

from flask import abort, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from ...errors import NotFound
from ...services import webhooks
from ..runtime import runtime
from . import bp
from .serialize import execution_json, respond

MAX_BODY_BYTES = 10 * 1024 * 1024
ENDPOINT = "webhook_trigger"
# both registrations of the API blueprint (web/__init__.py); auth.OPEN_ENDPOINTS lists them
ENDPOINTS = frozenset({f"api.{ENDPOINT}", f"api_main.{ENDPOINT}"})
# credentials a browser or a proxy may add: never stored in an execution's trigger.headers
PRIVATE_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization"})


@bp.url_value_preprocessor
def _webhook_request_first(endpoint: str | None, values: dict | None) -> None:
    """Flask runs URL value preprocessors before any before_request hook, so a webhook is
    prepared here, ahead of the app's CSRF and NUL checks:
    - `g.auth_without_cookie` tells web/csrf.py that no cookie-borne authority is used (the
      view reads nothing of the session), so there is no token to check;
    - the body is read once, bounded, and cached: a form-encoded body parsed by the NUL
      check would otherwise be consumed before the view could hand its raw bytes on."""
    if endpoint not in ENDPOINTS:
        return
    g.auth_without_cookie = True
    _read_body()


def _limit() -> int:
    return min(MAX_BODY_BYTES, runtime().settings.max_upload_bytes)


def _read_body() -> bytes:
    limit = _limit()
    if request.content_length is not None and request.content_length > limit:
        _too_large(limit)
    request.max_content_length = limit
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        _too_large(limit)


def _too_large(limit: int):
    abort(413, description=f"The webhook body is larger than {limit // (1024 * 1024)} MB; "
                           "send a smaller body (or a link to the data)")


def _headers() -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        if name.lower() not in PRIVATE_HEADERS:
            headers.setdefault(name, []).append(value)
    return headers


def webhook_request() -> webhooks.WebhookRequest:
    """The request as the trigger sees it (`trigger.body`, `trigger.headers`,
    `trigger.parameters`)."""
    return webhooks.WebhookRequest(
        method=request.method, body=_read_body(), content_type=request.content_type,
        headers=_headers(), parameters=request.args.to_dict(flat=False))


@bp.route("/executions/webhook/<namespace>/<flow_id>/<key>", endpoint=ENDPOINT,
          methods=["GET", "POST", "PUT"])
def webhook_trigger(tenant: str, namespace: str, flow_id: str, key: str):
    if request.method == "HEAD":    # Flask adds HEAD to GET routes: a link preview or a
        abort(405)                  # checker must not start the flow
    try:
        execution = webhooks.receive(runtime(), tenant, namespace, flow_id, key,
                                     webhook_request())
    except NotFound as error:
        return respond({"message": f"Not Found: {error}"}, 404)
    if execution is None:
        return "", 204
    return respond(execution_json(execution))
