"""Accounts at the door: first-run setup, login (rate limited), logout, CSRF, API auth."""
from __future__ import annotations

import base64

from kestra_lite.services import accounts
from kestra_lite.store import accounts as account_store
from tests.web.conftest import PASSWORD, Browser, login


def basic(email, password=PASSWORD):
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def test_without_users_every_page_leads_to_the_setup_which_creates_a_super_admin(app):
    browser = Browser(app.test_client())
    assert browser.get("/ui/main/flows").headers["Location"].endswith("/setup")
    browser.get("/setup")
    response = browser.post("/setup", data={"email": "Root@Example.com", "password": PASSWORD,
                                            "confirm": PASSWORD})
    assert response.status_code == 302
    user = account_store.find_user("root@example.com")
    assert user.superadmin and user.password_hash.startswith("scrypt:")
    assert browser.get("/ui/main/dashboard").status_code == 200
    # the setup page is gone once a user exists
    assert app.test_client().get("/setup").headers["Location"].endswith("/login")


def test_setup_refuses_a_short_password_and_stores_nothing(app):
    browser = Browser(app.test_client())
    browser.get("/setup")
    response = browser.post("/setup", data={"email": "a@b.c", "password": "short",
                                            "confirm": "short"})
    assert response.status_code == 422
    assert "at least 8 characters" in response.get_data(as_text=True)
    assert account_store.count_users() == 0


def test_a_form_post_without_the_csrf_token_is_refused(app, alice):
    browser = login(app, alice.email)
    response = browser.client.post("/logout")
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_logout_ends_the_session(app, alice):
    browser = login(app, alice.email)
    browser.post("/logout")
    assert browser.get("/ui/main/dashboard").status_code == 302


def test_login_is_rate_limited_after_ten_failures(app, alice):
    browser = Browser(app.test_client())
    browser.get("/login")
    for _ in range(10):
        response = browser.post("/login", data={"email": alice.email, "password": "nope"})
        assert response.status_code == 401
    response = browser.post("/login", data={"email": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.get_data(as_text=True)


def test_login_does_not_follow_a_next_url_to_another_site(app, alice):
    browser = Browser(app.test_client())
    browser.get("/login")
    response = browser.post("/login?next=https://evil.example/", data={
        "email": alice.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_login_does_not_follow_a_backslash_path_browsers_read_as_another_host(app, alice):
    browser = Browser(app.test_client())
    browser.get("/login")
    response = browser.post("/login?next=/%5Cevil.example/", data={
        "email": alice.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_the_api_wants_credentials_and_accepts_basic_auth_and_api_tokens(app, alice):
    client = app.test_client()
    response = client.get("/health")
    assert response.status_code == 200
    response = client.get("/api/v1/main/flows/search")
    assert response.status_code == 401 and "message" in response.get_json()
    assert client.get("/api/v1/main/flows/search",
                      headers=basic(alice.email, "wrong")).status_code == 401
    assert client.get("/api/v1/main/flows/search",
                      headers=basic(alice.email)).status_code != 401
    _, token = accounts.create_token(alice.id, "ci")
    assert client.get("/api/v1/main/flows/search",
                      headers={"Authorization": f"Bearer {token}"}).status_code != 401
    assert client.get("/api/v1/main/flows/search",
                      headers={"Authorization": "Bearer kl_forged"}).status_code == 401


def test_session_cookies_are_http_only_and_same_site(app, alice):
    browser = Browser(app.test_client())
    browser.get("/login")
    response = browser.client.post("/login", data={"email": alice.email, "password": PASSWORD,
                                                   "csrf_token": browser.csrf})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_malformed_tenant_is_not_found(client):
    assert client.get("/ui/Not a tenant!/dashboard").status_code == 404


def test_only_named_endpoints_are_open_whatever_the_tenant_is_called(app, alice):
    client = app.test_client()
    assert client.get("/api/v1/configs").status_code == 200
    for url in ("/api/v1/configs/flows/search", "/api/v1/configsx/flows/search",
                "/api/v1/executions/webhook/x", "/api/v1/health/flows/search"):
        assert client.get(url).status_code == 401, url
    browser = Browser(app.test_client())
    browser.get("/login")          # an anonymous session with a CSRF token opens nothing
    response = browser.post("/api/v1/configs/flows", data="id: x\nnamespace: y\n",
                            content_type="application/x-yaml")
    assert response.status_code == 401


def test_a_cross_site_post_with_saved_basic_credentials_needs_the_csrf_token(app, alice):
    source = "id: hello\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    client = app.test_client()
    cross = client.post("/api/v1/main/flows", data=source, content_type="text/plain",
                        headers={**basic(alice.email), "Origin": "https://evil.example",
                                 "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 400 and "CSRF" in cross.get_json()["message"]
    direct = client.post("/api/v1/main/flows", data=source,
                         content_type="application/x-yaml", headers=basic(alice.email))
    assert direct.status_code == 200


def test_failed_logins_from_elsewhere_do_not_lock_the_user_out(app, alice):
    attacker = Browser(app.test_client())
    attacker.get("/login")
    for _ in range(10):
        attacker.client.post("/login", data={"email": alice.email, "password": "nope",
                                             "csrf_token": attacker.csrf},
                             environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert login(app, alice.email) is not None     # from her own address


def test_a_password_change_ends_the_other_sessions(app, alice):
    other = login(app, alice.email)
    accounts.change_password(alice.id, PASSWORD, "a brand new password")
    assert other.get("/ui/main/dashboard").status_code == 302
