"""Logs, the namespace KV store and namespaces through the API."""
from __future__ import annotations

import json
from datetime import timedelta

from kestra_lite.model.state import utcnow
from kestra_lite.store import kv as kv_store
from tests.api.conftest import FAILING, HELLO


def test_an_executions_logs_as_json_filtered_by_level_and_task(api, deploy, start, settle):
    deploy(HELLO)
    created = start("company.team", "hello", {"name": "Ada"})
    settle(created["id"])
    logs = api.get(f"/api/v1/logs/{created['id']}").get_json()
    assert any(line["message"] == "Hello Ada" and line["taskId"] == "say" for line in logs)
    assert api.get(f"/api/v1/logs/{created['id']}?minLevel=ERROR").get_json() == []
    by_task = api.get(f"/api/v1/logs/{created['id']}?taskId=say").get_json()
    assert by_task and all(line["taskId"] == "say" for line in by_task)
    assert api.get(f"/api/v1/logs/{created['id']}?minLevel=LOUD").status_code == 400


def test_downloading_logs_gives_one_text_line_per_log(api, deploy, start, settle):
    deploy(HELLO)
    created = start("company.team", "hello", {"name": "Ada"})
    settle(created["id"])
    response = api.get(f"/api/v1/logs/{created['id']}/download")
    assert response.mimetype == "text/plain"
    line = [text for text in response.get_data(as_text=True).splitlines() if "Hello" in text][0]
    timestamp, level, message = line.split(" ", 2)
    assert timestamp.endswith("Z") and level == "INFO" and message == "Hello Ada"


def test_searching_logs_and_deleting_an_executions_logs(api, deploy, start, settle):
    deploy(HELLO)
    deploy(FAILING)
    ok, bad = start("company.team", "hello"), start("company.team", "broken")
    settle(ok["id"])
    settle(bad["id"])
    errors = api.get("/api/v1/logs/search?minLevel=ERROR").get_json()
    assert errors["total"] >= 1
    assert all(line["executionId"] == bad["id"] for line in errors["results"])
    by_text = api.get("/api/v1/logs/search?q=Hello&namespace=company").get_json()
    assert by_text["results"][0]["executionId"] == ok["id"]
    assert api.delete(f"/api/v1/logs/{ok['id']}").status_code == 204
    assert api.get(f"/api/v1/logs/{ok['id']}").get_json() == []
    assert api.delete(f"/api/v1/logs/{ok['id']}?minLevel=DEBUG").status_code == 400


def test_kv_values_are_put_read_listed_and_deleted_with_their_types(api):
    base = "/api/v1/namespaces/company.team/kv"
    assert api.put(f"{base}/answer", data="42", content_type="text/plain").status_code == 200
    assert api.put(f"{base}/name", data='"Ada"', content_type="application/json") \
        .status_code == 200
    assert api.put(f"{base}/raw", data="plain words", content_type="text/plain") \
        .status_code == 200
    assert api.put(f"{base}/config", data=json.dumps({"a": [1, 2]}),
                   content_type="application/json").status_code == 200
    assert api.put(f"{base}/when", data='"2025-01-31T10:00:00Z"',
                   content_type="application/json").status_code == 200
    assert api.get(f"{base}/answer").get_json() == {"type": "NUMBER", "value": 42}
    assert api.get(f"{base}/name").get_json() == {"type": "STRING", "value": "Ada"}
    assert api.get(f"{base}/raw").get_json() == {"type": "STRING", "value": "plain words"}
    assert api.get(f"{base}/config").get_json() == {"type": "JSON", "value": {"a": [1, 2]}}
    assert api.get(f"{base}/when").get_json()["type"] == "DATETIME"
    keys = [entry["key"] for entry in api.get(base).get_json()]
    assert keys == ["answer", "config", "name", "raw", "when"]
    assert api.delete(f"{base}/answer").get_json() is True
    assert api.delete(f"{base}/answer").get_json() is False
    missing = api.get(f"{base}/answer")
    assert missing.status_code == 404
    assert "answer" in missing.get_json()["message"]


def test_a_kv_ttl_header_sets_the_expiration(api, app):
    base = "/api/v1/namespaces/company.team/kv"
    response = api.put(f"{base}/token", data='"abc"', content_type="application/json",
                       headers={"ttl": "PT1H"})
    assert response.status_code == 200
    entry = api.get(base).get_json()[0]
    assert entry["key"] == "token" and entry["expirationDate"]
    with app.app_context():   # an expired value reads as missing
        kv_store.kv_put("main", "company.team", "old", "x", ttl=timedelta(seconds=1),
                        now=utcnow() - timedelta(hours=1))
    assert api.get(f"{base}/old").status_code == 404


def test_bad_kv_requests_name_what_is_wrong(api):
    base = "/api/v1/namespaces/company.team/kv"
    bad_json = api.put(f"{base}/k", data="{nope", content_type="application/json")
    assert bad_json.status_code == 400 and "JSON" in bad_json.get_json()["message"]
    bad_ttl = api.put(f"{base}/k", data="1", content_type="text/plain", headers={"ttl": "1h"})
    assert bad_ttl.status_code == 400 and "ttl" in bad_ttl.get_json()["message"]
    bad_key = api.put(f"{base}/-k", data="1", content_type="text/plain")
    assert bad_key.status_code == 422


def test_deleting_several_kv_keys_at_once(api):
    base = "/api/v1/namespaces/company.team/kv"
    api.put(f"{base}/a", data="1", content_type="text/plain")
    api.put(f"{base}/b", data="2", content_type="text/plain")
    response = api.delete(base, data=json.dumps({"keys": ["a", "b", "c"]}),
                          content_type="application/json")
    assert response.get_json() == {"keys": ["a", "b"]}


def test_namespaces_are_derived_from_flows_with_their_parents(api, deploy):
    deploy(HELLO)
    found = api.get("/api/v1/namespaces/search").get_json()
    assert found == {"results": [{"id": "company", "disabled": False},
                                 {"id": "company.team", "disabled": False}], "total": 2}
    assert api.get("/api/v1/namespaces/search?q=team").get_json()["total"] == 1
    assert api.get("/api/v1/namespaces/company.team").get_json() == {"id": "company.team",
                                                                     "disabled": False}
