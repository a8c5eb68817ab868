"""The triggers API (Kestra's TriggerController, 0.20): search, a flow's triggers, unlock,
enable/disable, backfills; bad bodies answer a message, never a server error."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kestra_lite import scheduler
from kestra_lite.model.state import parse_iso
from kestra_lite.store import triggers as trigger_store

NIGHTLY = """\
id: nightly
namespace: company.team
inputs:
  - id: size
    type: INT
    defaults: 1
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "size {{ inputs.size }}"
triggers:
  - id: every-night
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
    timezone: UTC
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
"""

REPORTS = """\
id: reports
namespace: company.other
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: report
triggers:
  - id: every-minute
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * *"
"""

LISTENER = """\
id: listener
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "after {{ trigger.executionId }}"
triggers:
  - id: on-nightly
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: nightly
"""

NIGHTLY_KEY = {"namespace": "company.team", "flowId": "nightly", "triggerId": "every-night"}
REPORTS_KEY = {"namespace": "company.other", "flowId": "reports", "triggerId": "every-minute"}
BACKFILL = {"start": "2025-01-01T00:00:00Z", "end": "2025-01-03T00:00:00Z"}


@pytest.fixture
def flows(deploy):
    for source in (NIGHTLY, REPORTS, LISTENER):
        deploy(source)


def _ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _refused(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    message = response.get_json()["message"]
    for word in words:
        assert word in message, message
    return message


def _search(api, query: str = "") -> dict:
    return _ok(api.get(f"/api/v1/triggers/search?size=50{query}"))


def _ids(found: dict) -> list[str]:
    return [result["triggerContext"]["triggerId"] for result in found["results"]]


def _stored(key: dict):
    return trigger_store.get_trigger("main", key["namespace"], key["flowId"], key["triggerId"])


# -- search and read ------------------------------------------------------------------------

def test_search_pairs_each_trigger_definition_with_its_context(api, flows):
    found = _search(api)
    assert found["total"] == 4
    by_id = {r["triggerContext"]["triggerId"]: r for r in found["results"]}
    assert set(by_id) == {"every-night", "hook", "every-minute", "on-nightly"}
    night = by_id["every-night"]
    assert night["abstractTrigger"]["id"] == "every-night"
    assert night["abstractTrigger"]["cron"] == "0 2 * * *"
    assert night["abstractTrigger"]["disabled"] is False
    context = night["triggerContext"]
    assert context["tenantId"] == "main"
    assert (context["namespace"], context["flowId"], context["flowRevision"]) == (
        "company.team", "nightly", 1)
    assert context["disabled"] is False
    assert context["executionId"] is None
    assert context["backfill"] is None
    assert parse_iso(context["nextExecutionDate"]).hour == 2
    assert context["nextExecutionDate"].endswith("Z")
    assert by_id["hook"]["triggerContext"]["nextExecutionDate"] is None


def test_search_filters_by_namespace_and_its_children_flow_id_and_text(api, flows):
    assert _search(api, "&namespace=company.team")["total"] == 3
    assert _search(api, "&namespace=company")["total"] == 4
    assert _ids(_search(api, "&flowId=reports")) == ["every-minute"]
    assert _ids(_search(api, "&q=nightly")) == ["on-nightly", "every-night", "hook"]
    assert _ids(_search(api, "&namespace=company.team&flowId=reports")) == []


def test_search_takes_the_filter_bars_typed_criteria(api, flows):
    assert _ids(_search(api, "&filter=type:Webhook")) == ["hook"]
    _ok(api.put("/api/v1/triggers", json={**REPORTS_KEY, "disabled": True}))
    assert _ids(_search(api, "&filter=enabled:false")) == ["every-minute"]
    _refused(api.get("/api/v1/triggers/search?filter=type:Cron"), 400, "type")


def test_search_pages_through_the_triggers(api, flows):
    first = _ok(api.get("/api/v1/triggers/search?page=1&size=3"))
    second = _ok(api.get("/api/v1/triggers/search?page=2&size=3"))
    assert (first["total"], second["total"]) == (4, 4)
    assert len(first["results"]) == 3 and len(second["results"]) == 1
    assert set(_ids(first)) | set(_ids(second)) == {"every-night", "hook", "every-minute",
                                                    "on-nightly"}
    assert _ok(api.get("/api/v1/triggers/search?page=3&size=3"))["results"] == []


def test_search_sorts_by_next_execution_date_with_the_untimed_last(api, flows):
    dates = [r["triggerContext"]["nextExecutionDate"] for r in
             _search(api, "&sort=nextExecutionDate:asc")["results"]]
    timed = [date for date in dates if date is not None]
    assert dates == sorted(timed) + [None, None]


def test_search_refuses_a_sort_or_a_page_it_cannot_honour(api, flows):
    _refused(api.get("/api/v1/triggers/search?sort=nextExecutionDate:desc"), 400, "sort",
             "nextExecutionDate:asc")
    _refused(api.get("/api/v1/triggers/search?page=0"), 400, "page")
    _refused(api.get("/api/v1/triggers/search?size=lots"), 400, "size")


def test_a_flows_triggers_are_its_trigger_contexts(api, flows):
    found = _ok(api.get("/api/v1/triggers/company.team/nightly"))
    assert found["total"] == 2
    assert [c["triggerId"] for c in found["results"]] == ["every-night", "hook"]
    assert _ok(api.get("/api/v1/triggers/company.team/nightly?q=hook"))["total"] == 1
    assert _ok(api.get("/api/v1/triggers/company.team/nope")) == {"results": [], "total": 0}


def test_the_tenant_form_answers_like_the_short_form_and_credentials_are_needed(
        api, app, flows):
    assert _search(api) == _ok(api.get("/api/v1/main/triggers/search?size=50"))
    assert _ok(api.get("/api/v1/other/triggers/search"))["total"] == 0
    assert app.test_client().get("/api/v1/triggers/search").status_code == 401


# -- unlock, enable, disable ----------------------------------------------------------------

def test_unlock_frees_a_schedule_held_by_its_running_execution(api, runtime, flows):
    due = _stored(REPORTS_KEY).next_date
    scheduler.tick(runtime, due + timedelta(seconds=1))
    locked = _stored(REPORTS_KEY)
    assert locked.execution_id is not None
    context = _ok(api.post("/api/v1/triggers/company.other/reports/every-minute/unlock"))
    assert context["executionId"] is None
    assert _stored(REPORTS_KEY).execution_id is None
    again = _ok(api.post("/api/v1/triggers/company.other/reports/every-minute/unlock"))
    assert again["executionId"] is None
    _refused(api.post("/api/v1/triggers/company.other/reports/nope/unlock"), 404, "nope")


def test_put_with_disabled_switches_a_trigger_off_and_on(api, flows):
    context = _ok(api.put("/api/v1/triggers", json={**NIGHTLY_KEY, "disabled": True}))
    assert context["disabled"] is True
    assert _stored(NIGHTLY_KEY).enabled is False
    context = _ok(api.put("/api/v1/triggers", json={**NIGHTLY_KEY, "disabled": False}))
    assert context["disabled"] is False
    assert _stored(NIGHTLY_KEY).enabled is True


def test_put_refuses_a_bad_trigger_body_with_a_message(api, flows):
    _refused(api.put("/api/v1/triggers", json={"flowId": "nightly", "triggerId": "x"}), 400,
             "`namespace`")
    _refused(api.put("/api/v1/triggers", json=[NIGHTLY_KEY]), 400, "JSON object")
    _refused(api.put("/api/v1/triggers", data="{not json", content_type="application/json"),
             400, "Invalid JSON")
    _refused(api.put("/api/v1/triggers", json={**NIGHTLY_KEY, "disabled": "yes"}), 400,
             "`disabled`")
    _refused(api.put("/api/v1/triggers", json={**NIGHTLY_KEY, "triggerId": "nope"}), 404,
             "nope")


def test_a_trigger_disabled_in_its_flow_cannot_be_enabled_through_the_api(api, deploy):
    deploy(REPORTS.replace('cron: "* * * * *"', 'cron: "* * * * *"\n    disabled: true'))
    _refused(api.put("/api/v1/triggers", json={**REPORTS_KEY, "disabled": False}), 409,
             "flow source")


def test_set_disabled_by_triggers_switches_each_existing_trigger(api, flows):
    body = {"triggers": [NIGHTLY_KEY, REPORTS_KEY, {**REPORTS_KEY, "triggerId": "gone"}],
            "disabled": True}
    assert _ok(api.post("/api/v1/triggers/set-disabled/by-triggers", json=body)) == {"count": 2}
    assert not _stored(NIGHTLY_KEY).enabled and not _stored(REPORTS_KEY).enabled
    body["disabled"] = False
    assert _ok(api.post("/api/v1/triggers/set-disabled/by-triggers", json=body)) == {"count": 2}
    assert _stored(NIGHTLY_KEY).enabled and _stored(REPORTS_KEY).enabled


def test_set_disabled_by_triggers_refuses_a_bad_body_and_changes_nothing(api, flows):
    url = "/api/v1/triggers/set-disabled/by-triggers"
    _refused(api.post(url, json={"disabled": True}), 400, "triggers")
    _refused(api.post(url, json={"triggers": [NIGHTLY_KEY]}), 400, "`disabled`")
    _refused(api.post(url, json={"triggers": [NIGHTLY_KEY, {"namespace": "company.team",
                                                            "flowId": "nightly"}],
                                 "disabled": True}), 400, "triggers[1]", "`triggerId`")
    assert _stored(NIGHTLY_KEY).enabled


# -- backfills ------------------------------------------------------------------------------

def _set_backfill(api, backfill: dict, key: dict = NIGHTLY_KEY):
    return api.put("/api/v1/triggers", json={**key, "backfill": backfill})


def test_a_backfill_is_set_paused_unpaused_and_deleted(api, flows):
    backfill = _ok(_set_backfill(api, {**BACKFILL, "inputs": {"size": 3},
                                       "labels": [{"key": "run", "value": "backfill"}]}))
    assert backfill["backfill"]["start"] == "2025-01-01T00:00:00Z"
    assert backfill["backfill"]["end"] == "2025-01-03T00:00:00Z"
    assert backfill["backfill"]["currentDate"] == "2025-01-01T02:00:00Z"
    assert backfill["backfill"]["paused"] is False
    assert backfill["backfill"]["inputs"] == {"size": 3}
    assert backfill["backfill"]["labels"] == [{"key": "run", "value": "backfill"}]
    paused = _ok(api.put("/api/v1/triggers/backfill/pause", json=NIGHTLY_KEY))
    assert paused["backfill"]["paused"] is True
    assert _stored(NIGHTLY_KEY).backfill["paused"] is True
    unpaused = _ok(api.put("/api/v1/triggers/backfill/unpause", json=NIGHTLY_KEY))
    assert unpaused["backfill"]["paused"] is False
    deleted = _ok(api.post("/api/v1/triggers/backfill/delete", json=NIGHTLY_KEY))
    assert deleted["backfill"] is None
    assert _stored(NIGHTLY_KEY).backfill is None


def test_backfill_actions_without_a_backfill_answer_400(api, flows):
    _refused(api.put("/api/v1/triggers/backfill/pause", json=NIGHTLY_KEY), 400, "no backfill")
    _refused(api.post("/api/v1/triggers/backfill/delete", json=NIGHTLY_KEY), 400,
             "no backfill")
    _refused(api.put("/api/v1/triggers/backfill/unpause", json={"namespace": "company.team"}),
             400, "`flowId`", "`triggerId`")


def test_a_backfill_map_of_labels_is_accepted(api, flows):
    context = _ok(_set_backfill(api, {**BACKFILL, "labels": {"run": "backfill"}}))
    assert context["backfill"]["labels"] == [{"key": "run", "value": "backfill"}]


@pytest.mark.parametrize("backfill,words", [
    ({"end": "2025-01-03T00:00:00Z"}, ("`start`", "required")),
    ({"start": "yesterday"}, ("`start`", "ISO-8601")),
    ({"start": "2025-01-01T00:00:00"}, ("`start`", "offset")),
    ({"start": "2025-01-01T00:00:00Z", "end": 20250103}, ("`end`",)),
    ({"start": "0001-01-01T00:00:00+14:00"}, ("`start`", "range")),
    ({"start": "2025-01-03T00:00:00Z", "end": "2025-01-01T00:00:00Z"}, ("before its start",)),
    ({**BACKFILL, "inputs": {"size": "many"}}, ("size",)),
    ({**BACKFILL, "inputs": ["size"]}, ("`inputs`",)),
    ({**BACKFILL, "labels": ["run"]}, ("labels",)),
    ({**BACKFILL, "labels": [{"key": "system.x", "value": "y"}]}, ("System labels",)),
    ("2025-01-01", ("JSON object",)),
])
def test_a_bad_backfill_answers_400_naming_what_is_wrong(api, flows, backfill, words):
    _refused(_set_backfill(api, backfill), 400, *words)
    assert _stored(NIGHTLY_KEY).backfill is None


def test_only_a_schedule_can_be_backfilled(api, flows):
    hook = {"namespace": "company.team", "flowId": "nightly", "triggerId": "hook"}
    _refused(_set_backfill(api, BACKFILL, hook), 400, "only schedules")


def test_a_second_backfill_conflicts_but_the_uis_round_trip_of_the_first_does_not(api, flows):
    first = _ok(_set_backfill(api, BACKFILL))
    _refused(_set_backfill(api, {"start": "2024-06-01T00:00:00Z"}), 409, "already")
    # Kestra's UI sends the whole context back to switch `disabled`, backfill included
    echoed = _ok(api.put("/api/v1/triggers", json={**first, "disabled": True}))
    assert echoed["disabled"] is True
    assert echoed["backfill"]["start"] == "2025-01-01T00:00:00Z"
