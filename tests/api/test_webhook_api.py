"""Webhook triggers through HTTP: /api/v1/executions/webhook/{namespace}/{flowId}/{key} (and
the tenant form) starts the flow with the request as `trigger.*`, with no credentials."""
from __future__ import annotations

import pytest

from kestra_lite.services import triggers as trigger_service
from kestra_lite.store import executions as execution_store
from tests.web.conftest import login

HOOK = """\
id: hook
namespace: company.team
labels:
  team: data
tasks:
  - id: out
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.body | json }}"
triggers:
  - id: on-call
    type: io.kestra.plugin.core.trigger.Webhook
    key: s3cret-key
"""

GUARDED = """\
id: guarded
namespace: company.team
tasks:
  - id: out
    type: io.kestra.plugin.core.debug.Return
    format: ok
triggers:
  - id: on-call
    type: io.kestra.plugin.core.trigger.Webhook
    key: guarded-key
    conditions:
      - type: io.kestra.plugin.core.condition.Expression
        expression: "{{ trigger.parameters.token[0] == 'yes' }}"
"""

URL = "/api/v1/executions/webhook/company.team/hook/s3cret-key"


@pytest.fixture
def hook(deploy):
    deploy(HOOK)


@pytest.fixture
def anonymous(app):
    """A caller with no credentials and no session."""
    return app.test_client()


def _variables(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["trigger"]["variables"]


def _executions(flow_id: str = "hook") -> list:
    return [e for e in execution_store.search_executions("main") if e.flow_id == flow_id]


def test_a_post_with_a_json_body_starts_the_flow_with_body_parameters_and_headers(
        hook, anonymous, settle):
    response = anonymous.post(URL + "?name=john&age=12&age=13", json={"a": 1, "b": True},
                              headers={"X-Source": "ci"})
    variables = _variables(response)
    assert variables["body"] == {"a": 1, "b": True}
    assert variables["parameters"] == {"name": ["john"], "age": ["12", "13"]}
    assert variables["headers"]["X-Source"] == ["ci"]
    body = response.get_json()
    assert body["trigger"]["id"] == "on-call"
    assert body["trigger"]["type"] == "io.kestra.plugin.core.trigger.Webhook"
    assert {"key": "team", "value": "data"} in body["labels"]
    final = settle(body["id"])
    assert final.current.value == "SUCCESS"
    assert final.task_runs[0].outputs["value"] == '{"a":1,"b":true}'


def test_a_put_with_a_json_array_gives_the_array_as_body(hook, anonymous):
    variables = _variables(anonymous.put(URL, json=[{"a": 1, "b": True}]))
    assert variables["body"] == [{"a": 1, "b": True}]
    assert variables["parameters"] == {}


def test_a_body_that_is_not_json_is_given_as_text(hook, anonymous):
    variables = _variables(anonymous.post(URL, data="bla", content_type="text/plain"))
    assert variables["body"] == "bla"


def test_a_form_encoded_body_is_given_as_its_raw_text(hook, anonymous):
    variables = _variables(anonymous.post(URL, data={"a": "1", "b": "two"}))
    assert variables["body"] == "a=1&b=two"


def test_a_get_has_a_null_body(hook, anonymous):
    variables = _variables(anonymous.get(URL + "?page=3"))
    assert variables["body"] is None
    assert variables["parameters"] == {"page": ["3"]}


def test_the_tenant_form_of_the_path_answers_like_the_short_form(hook, anonymous):
    response = anonymous.post("/api/v1/main/executions/webhook/company.team/hook/s3cret-key",
                              json={"via": "tenant"})
    assert _variables(response)["body"] == {"via": "tenant"}
    other = anonymous.post("/api/v1/other/executions/webhook/company.team/hook/s3cret-key")
    assert other.status_code == 404
    assert other.get_json()["message"] == "Not Found: Flow not found"


def test_a_wrong_key_answers_404_and_creates_nothing(hook, anonymous):
    response = anonymous.post("/api/v1/executions/webhook/company.team/hook/wrong-key",
                              json={"a": 1})
    assert response.status_code == 404
    assert response.get_json()["message"] == "Not Found: Webhook not found"
    assert _executions() == []


@pytest.mark.parametrize("method", ["get", "post", "put"])
def test_an_unknown_flow_answers_404_flow_not_found(anonymous, method):
    response = getattr(anonymous, method)("/api/v1/executions/webhook/not-found/webhook/"
                                          "not-found")
    assert response.status_code == 404
    assert response.get_json()["message"] == "Not Found: Flow not found"


def test_a_trigger_disabled_in_the_flow_answers_404(deploy, anonymous):
    deploy(HOOK.replace("    key: s3cret-key", "    key: s3cret-key\n    disabled: true"))
    response = anonymous.post(URL, json={})
    assert response.status_code == 404
    assert response.get_json()["message"] == "Not Found: Webhook not found"
    assert _executions() == []


def test_a_trigger_switched_off_through_the_api_answers_404(hook, runtime, anonymous):
    trigger_service.set_disabled(runtime, "main", "company.team", "hook", "on-call", True)
    assert anonymous.post(URL, json={}).status_code == 404
    trigger_service.set_disabled(runtime, "main", "company.team", "hook", "on-call", False)
    assert anonymous.post(URL, json={}).status_code == 200


def test_a_disabled_flow_answers_409(deploy, anonymous):
    deploy(HOOK.replace("labels:", "disabled: true\nlabels:", 1))
    response = anonymous.post(URL, json={})
    assert response.status_code == 409
    assert "disabled" in response.get_json()["message"]
    assert _executions() == []


def test_conditions_that_reject_the_request_answer_204_and_create_nothing(deploy, anonymous):
    deploy(GUARDED)
    url = "/api/v1/executions/webhook/company.team/guarded/guarded-key"
    refused = anonymous.post(url + "?token=no")
    assert refused.status_code == 204
    assert refused.get_data() == b""
    assert _executions("guarded") == []
    accepted = anonymous.post(url + "?token=yes")
    assert accepted.status_code == 200
    assert [e.id for e in _executions("guarded")] == [accepted.get_json()["id"]]


def test_a_body_over_10_mb_answers_413_with_a_message(hook, anonymous):
    response = anonymous.post(URL, data=b"x" * (10 * 1024 * 1024 + 1),
                              content_type="application/octet-stream")
    assert response.status_code == 413
    assert "10 MB" in response.get_json()["message"]
    assert _executions() == []


def test_a_head_request_does_not_start_the_flow(hook, anonymous):
    assert anonymous.head(URL).status_code == 405
    assert _executions() == []


def test_a_logged_in_browser_posting_cross_site_reaches_only_the_webhook(app, alice, hook):
    """The session cookie lends nothing: the webhook (open anyway) answers without a CSRF
    token and does not store the cookie; any other API write still needs the token."""
    browser = login(app, alice.email).client
    cross_site = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    response = browser.post(URL, json={"a": 1}, headers=cross_site)
    headers = _variables(response)["headers"]
    assert "Cookie" not in headers
    refused = browser.post("/api/v1/executions/company.team/hook", headers=cross_site)
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["message"]
    assert len(_executions()) == 1


def test_credentials_sent_with_a_webhook_are_not_stored_in_the_execution(hook, anonymous):
    response = anonymous.post(URL, json={"a": 1}, headers={
        "Authorization": "Basic YWxpY2U6c2VjcmV0", "Proxy-Authorization": "Bearer kl_x",
        "X-Request-Id": "r-1"})
    headers = {name.lower() for name in _variables(response)["headers"]}
    assert "x-request-id" in headers
    assert not headers & {"authorization", "proxy-authorization", "cookie"}
