"""The profile page: the user's email, password change, personal API tokens (shown once,
authenticate `Authorization: Bearer`, stop working once deleted)."""
from __future__ import annotations

import re

from kestra_lite.services import accounts
from kestra_lite.store import accounts as account_store
from tests.web.conftest import PASSWORD, login

TOKEN = re.compile(r'class="token-value" type="text" readonly value="(kl_[^"]+)"')


def _bearer(app, token: str):
    return app.test_client().get("/api/v1/me",
                                 headers={"Authorization": f"Bearer {token}"})


def test_the_profile_shows_the_users_email(client):
    html = client.get("/ui/main/profile").get_data(as_text=True)
    assert '<strong class="email">alice@example.com</strong>' in html
    assert "No API token." in html


def test_a_token_is_shown_once_authenticates_the_api_and_stops_after_deletion(app, client):
    response = client.post("/ui/main/profile/tokens", data={"name": "ci pipeline"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    token = TOKEN.search(html).group(1)
    assert f"Authorization: Bearer {token}" in html
    assert "it will not be shown again" in html

    listed = client.get("/ui/main/profile").get_data(as_text=True)
    assert token not in listed                          # never shown again
    assert "ci pipeline" in listed and f"<code>{token[:8]}…</code>" in listed
    assert "never" in listed

    assert app.test_client().get("/api/v1/me").status_code == 401
    response = _bearer(app, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["email"] == "alice@example.com"
    [record] = account_store.user_tokens(1)
    assert record.last_used is not None
    assert "never" not in client.get("/ui/main/profile").get_data(as_text=True)

    response = client.post(f"/ui/main/profile/tokens/{record.id}/delete")
    assert response.status_code == 303
    assert "API token deleted" in client.get("/ui/main/profile").get_data(as_text=True)
    assert _bearer(app, token).status_code == 401


def test_creating_a_token_with_htmx_swaps_the_tokens_section(client):
    response = client.post("/ui/main/profile/tokens", data={"name": "laptop"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="tokens">')
    assert "<html" not in html
    assert TOKEN.search(html) and "laptop" in html


def test_a_token_needs_a_name(client):
    response = client.post("/ui/main/profile/tokens", data={"name": "  "})
    assert response.status_code == 422
    assert "the token name is required" in response.get_data(as_text=True)
    response = client.post("/ui/main/profile/tokens", data={"name": ""}, htmx=True)
    assert response.status_code == 200
    assert "the token name is required" in response.get_data(as_text=True)
    assert account_store.user_tokens(1) == []


def test_a_user_cannot_delete_someone_elses_token(app, client, bob):
    record, _ = accounts.create_token(1, "alice's")
    browser = login(app, bob.email)
    assert browser.post(f"/ui/main/profile/tokens/{record.id}/delete").status_code == 404
    assert len(account_store.user_tokens(1)) == 1
    assert "alice&#39;s" not in browser.get("/ui/main/profile").get_data(as_text=True)


def test_the_password_changes_with_the_current_one(app, client):
    response = client.post("/ui/main/profile/password", data={
        "current": PASSWORD, "new": "a brand new secret", "confirm": "a brand new secret"})
    assert response.status_code == 303
    assert "Password changed." in client.get("/ui/main/profile").get_data(as_text=True)
    assert accounts.authenticate("alice@example.com", PASSWORD) is None
    assert accounts.authenticate("alice@example.com", "a brand new secret") is not None
    login(app, "alice@example.com", "a brand new secret")


def test_a_wrong_or_short_password_is_refused_inline(client):
    cases = [({"current": "wrong password", "new": "a brand new secret",
               "confirm": "a brand new secret"}, "the current password is wrong"),
             ({"current": PASSWORD, "new": "short", "confirm": "short"},
              "the password must have at least 8 characters"),
             ({"current": PASSWORD, "new": "a brand new secret", "confirm": "another one!"},
              "the two new passwords differ")]
    for form, message in cases:
        response = client.post("/ui/main/profile/password", data=form)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert f'<span class="field-error">{message}' in html, html
    assert accounts.authenticate("alice@example.com", PASSWORD) is not None
