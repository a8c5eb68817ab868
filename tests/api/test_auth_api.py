"""Who may call the API: Basic auth, personal tokens, a session; the tenant form of paths."""
from __future__ import annotations

import base64

from kestra_lite.services import accounts


def test_a_call_without_credentials_is_refused_with_401_and_a_json_message(app, alice):
    response = app.test_client().get("/api/v1/flows/search")
    assert response.status_code == 401
    assert response.get_json()["message"]
    # no Basic challenge to a caller that did not try Basic: no browser password prompt
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_password_is_refused_with_401(app, alice):
    header = "Basic " + base64.b64encode(b"alice@example.com:nope").decode()
    response = app.test_client().get("/api/v1/flows/search",
                                     headers={"Authorization": header})
    assert response.status_code == 401


def test_basic_auth_is_accepted(api):
    response = api.get("/api/v1/flows/search")
    assert response.status_code == 200
    assert response.get_json() == {"results": [], "total": 0}


def test_a_personal_api_token_is_accepted_as_a_bearer_token(app, alice):
    _, token = accounts.create_token(alice.id, "ci")
    client = app.test_client()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["username"] == "alice@example.com"
    refused = client.get("/api/v1/me", headers={"Authorization": "Bearer kl_not-a-token"})
    assert refused.status_code == 401


def test_the_tenant_form_of_a_path_answers_like_the_short_form(api, deploy):
    from tests.api.conftest import HELLO
    deploy(HELLO)
    short = api.get("/api/v1/flows/company.team/hello").get_json()
    tenant = api.get("/api/v1/main/flows/company.team/hello").get_json()
    assert short == tenant
    assert tenant["id"] == "hello"


def test_another_tenant_does_not_see_the_main_tenants_flows(api, deploy):
    from tests.api.conftest import HELLO
    deploy(HELLO)
    assert api.get("/api/v1/other/flows/company.team/hello").status_code == 404
    assert api.get("/api/v1/other/flows/search").get_json()["total"] == 0


def test_a_logged_in_browser_session_may_read_the_api(client):
    response = client.get("/api/v1/flows/search")
    assert response.status_code == 200


def test_configs_give_the_kestra_version_and_basic_auth(api):
    body = api.get("/api/v1/configs").get_json()
    assert body["version"] == "0.20.0"
    assert body["isBasicAuthEnabled"] is True
    assert body["uuid"] == api.get("/api/v1/configs").get_json()["uuid"]
