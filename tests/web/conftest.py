"""Web fixtures: the Flask app on this test's database/Redis/storage, users, and test
clients that log in through the real login form (CSRF token included).

Personas: alice (super admin), bob (member). `client` is alice's logged-in client; its
`post`/`put`/`delete` helpers add the CSRF header the page would send.
"""
from __future__ import annotations

import base64
import re

import pytest

from kestra_lite.services import accounts
from kestra_lite.services import runtime as runtimes
from kestra_lite.web import create_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(settings, runtime):
    """The app, sharing the test's runtime (so a burst worker sees the same queue)."""
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["kestra_runtime"] = runtime
    return app


@pytest.fixture
def alice(app):
    return accounts.create_user("alice@example.com", PASSWORD, superadmin=True)


@pytest.fixture
def bob(app):
    return accounts.create_user("bob@example.com", PASSWORD)


class Browser:
    """A test client that behaves like the browser: keeps the CSRF token of the last page
    and sends it with every state-changing request (as the form or htmx would)."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def _remember(self, response):
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.csrf = found.group(1)
        return response

    def get(self, url, **kwargs):
        return self._remember(self.client.get(url, **kwargs))

    def _send(self, method, url, htmx=False, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.csrf is None:
            self.get("/login")
        headers.setdefault("X-CSRF-Token", self.csrf)
        if htmx:
            headers["HX-Request"] = "true"
        return self._remember(getattr(self.client, method)(url, headers=headers, **kwargs))

    def post(self, url, **kwargs):
        return self._send("post", url, **kwargs)

    def put(self, url, **kwargs):
        return self._send("put", url, **kwargs)

    def delete(self, url, **kwargs):
        return self._send("delete", url, **kwargs)


def login(app, email: str, password: str = PASSWORD) -> Browser:
    browser = Browser(app.test_client())
    browser.get("/login")
    response = browser.client.post("/login", data={"email": email, "password": password,
                                                   "csrf_token": browser.csrf})
    assert response.status_code == 302, response.get_data(as_text=True)
    browser.get("/ui/main/dashboard")
    return browser


@pytest.fixture
def client(app, alice) -> Browser:
    """alice, logged in through the form."""
    return login(app, alice.email)


@pytest.fixture
def api(app, alice):
    """A test client for /api/v1 with alice's Basic auth header on every call."""
    header = "Basic " + base64.b64encode(f"{alice.email}:{PASSWORD}".encode()).decode()

    class Api:
        def __getattr__(self, method):
            call = getattr(app.test_client(), method)

            def with_auth(url, **kwargs):
                kwargs.setdefault("headers", {})["Authorization"] = header
                return call(url, **kwargs)
            return with_auth
    return Api()
