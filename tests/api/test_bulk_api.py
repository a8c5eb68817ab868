"""Bulk actions on executions, by ids and by query: all refused when one cannot take the
action (BulkErrorResponse), else `{"count": n}`."""
from __future__ import annotations

import json

from tests.api.conftest import FAILING, HELLO, PAUSING


def ids_body(*ids) -> dict:
    return {"data": json.dumps(list(ids)), "content_type": "application/json"}


def test_killing_by_ids_counts_the_killed_executions(api, deploy, start, settle):
    deploy(PAUSING)
    first, second = start("company.team", "waiting"), start("company.team", "waiting")
    settle(first["id"])
    settle(second["id"])
    response = api.delete("/api/v1/executions/kill/by-ids", **ids_body(first["id"], second["id"]))
    assert response.status_code == 200
    assert response.get_json() == {"count": 2}
    assert settle(first["id"]).current.value == "KILLED"
    assert settle(second["id"]).current.value == "KILLED"


def test_one_refused_id_refuses_the_whole_bulk_and_names_each_reason(api, deploy, start,
                                                                     settle):
    deploy(PAUSING)
    deploy(HELLO)
    paused = start("company.team", "waiting")
    done = start("company.team", "hello")
    settle(paused["id"])
    settle(done["id"])
    response = api.delete("/api/v1/executions/kill/by-ids",
                          **ids_body(paused["id"], done["id"], "missing"))
    assert response.status_code == 400
    body = response.get_json()
    assert body["message"] == "invalid bulk kill"
    reasons = {item["invalidValue"]: item["message"] for item in body["invalids"]}
    assert reasons == {done["id"]: "execution already finished",
                       "missing": "execution not found"}
    assert settle(paused["id"]).current.value == "PAUSED"     # nothing was done


def test_deleting_by_ids_and_by_query(api, deploy, start, settle):
    deploy(HELLO)
    deploy(FAILING)
    ok, failed = start("company.team", "hello"), start("company.team", "broken")
    settle(ok["id"])
    settle(failed["id"])
    response = api.delete("/api/v1/executions/by-ids", **ids_body(ok["id"]))
    assert response.get_json() == {"count": 1}
    assert api.get(f"/api/v1/executions/{ok['id']}").status_code == 404
    by_query = api.delete("/api/v1/executions/by-query?state=FAILED")
    assert by_query.get_json() == {"count": 1}
    assert api.get("/api/v1/executions/search").get_json()["total"] == 0


def test_restarting_resuming_and_replaying_by_query(api, deploy, start, settle):
    deploy(FAILING)
    deploy(PAUSING)
    failed = start("company.team", "broken")
    paused = start("company.team", "waiting")
    settle(failed["id"])
    settle(paused["id"])
    restarted = api.post("/api/v1/executions/restart/by-query?flowId=broken")
    assert restarted.get_json() == {"count": 1}
    replayed = api.post("/api/v1/executions/replay/by-ids", **ids_body(failed["id"]))
    assert replayed.get_json() == {"count": 1}
    refused = api.post("/api/v1/executions/resume/by-query?namespace=company.team")
    assert refused.status_code == 400          # the FAILED ones are not paused
    resumed = api.post("/api/v1/executions/resume/by-query?state=PAUSED")
    assert resumed.status_code == 422          # the Pause task wants its onResume input
    assert resumed.get_json()["invalids"][0]["invalidValue"] == paused["id"]


def test_setting_labels_and_changing_status_by_ids(api, deploy, start, settle):
    deploy(HELLO)
    first, second = start("company.team", "hello"), start("company.team", "hello")
    settle(first["id"])
    settle(second["id"])
    labelled = api.post("/api/v1/executions/labels/by-ids", data=json.dumps({
        "executionsId": [first["id"], second["id"]],
        "executionLabels": [{"key": "batch", "value": "7"}]}), content_type="application/json")
    assert labelled.get_json() == {"count": 2}
    found = api.get("/api/v1/executions/search?labels=batch:7").get_json()
    assert found["total"] == 2
    changed = api.post("/api/v1/executions/change-status/by-ids?newStatus=FAILED",
                       **ids_body(first["id"]))
    assert changed.get_json() == {"count": 1}
    assert settle(first["id"]).current.value == "FAILED"
    refused = api.post("/api/v1/executions/change-status/by-ids?newStatus=RUNNING",
                       **ids_body(first["id"]))
    assert refused.status_code == 422


def test_a_bulk_body_that_is_not_a_list_of_ids_is_a_400(api):
    response = api.post("/api/v1/executions/restart/by-ids", data='{"a": 1}',
                        content_type="application/json")
    assert response.status_code == 400
    assert "list of execution ids" in response.get_json()["message"]


def test_bulk_delete_refuses_running_executions_unless_include_non_terminated(api, deploy,
                                                                             start, settle):
    deploy(PAUSING)
    paused = start("company.team", "waiting")
    settle(paused["id"])
    refused = api.delete("/api/v1/executions/by-ids", **ids_body(paused["id"]))
    assert refused.status_code == 400
    assert "not terminated" in refused.get_json()["invalids"][0]["message"]
    done = api.delete("/api/v1/executions/by-ids?includeNonTerminated=true",
                      **ids_body(paused["id"]))
    assert done.get_json() == {"count": 1}
    assert api.get(f"/api/v1/executions/{paused['id']}").status_code == 404
