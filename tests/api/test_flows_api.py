"""Flows through the API: create, update, read, delete, list, search, revisions, validate."""
from __future__ import annotations

from tests.api.conftest import HELLO, YAML

READ_ONLY = """\
id: managed
namespace: company.team
labels:
  system.readOnly: "true"
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


def test_posting_a_flow_yaml_creates_it_and_answers_kestras_flow_shape(deploy):
    flow = deploy(HELLO)
    assert flow["id"] == "hello" and flow["namespace"] == "company.team"
    assert flow["revision"] == 1
    assert flow["labels"] == [{"key": "team", "value": "data"}]
    assert flow["tasks"][0]["type"] == "io.kestra.plugin.core.log.Log"
    assert flow["inputs"][0]["id"] == "name"
    assert flow["disabled"] is False and flow["deleted"] is False
    assert flow["source"] == HELLO


def test_posting_an_existing_flow_is_a_conflict(api, deploy):
    deploy(HELLO)
    response = api.post("/api/v1/flows", data=HELLO, headers=YAML)
    assert response.status_code == 409
    assert "already exists" in response.get_json()["message"]


def test_posting_an_invalid_flow_answers_422_with_each_problem_and_its_line(api):
    source = "id: bad\nnamespace: company.team\ntasks:\n  - id: x\n    type: io.kestra.nope\n"
    response = api.post("/api/v1/flows", data=source, headers=YAML)
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] and body["errors"][0]["line"] == 5
    assert "5:" in body["message"]


def test_posting_broken_yaml_answers_422_not_a_traceback(api):
    response = api.post("/api/v1/flows", data="id: [unclosed\n", headers=YAML)
    assert response.status_code == 422
    assert "Invalid YAML" in response.get_json()["message"]


def test_putting_a_changed_flow_adds_a_revision(api, deploy):
    deploy(HELLO)
    changed = HELLO.replace("Hello", "Bonjour")
    response = api.put("/api/v1/flows/company.team/hello", data=changed, headers=YAML)
    assert response.status_code == 200
    assert response.get_json()["revision"] == 2
    revisions = api.get("/api/v1/flows/company.team/hello/revisions").get_json()
    assert [r["revision"] for r in revisions] == [1, 2]
    first = api.get("/api/v1/flows/company.team/hello?revision=1&source=true").get_json()
    assert "Hello" in first["source"]


def test_putting_a_flow_under_another_id_is_refused(api, deploy):
    deploy(HELLO)
    response = api.put("/api/v1/flows/company.team/other", data=HELLO, headers=YAML)
    assert response.status_code == 422
    assert "cannot change" in response.get_json()["message"]


def test_putting_an_unknown_flow_is_not_found(api):
    response = api.put("/api/v1/flows/company.team/hello", data=HELLO, headers=YAML)
    assert response.status_code == 404


def test_a_read_only_flow_cannot_be_updated_or_deleted_and_the_message_says_why(api, app):
    from kestra_lite.services import flows as flow_service
    from kestra_lite.web.runtime import runtime
    with app.app_context():
        flow_service.deploy(runtime(), "main", READ_ONLY)   # managed elsewhere (Git sync)
    changed = READ_ONLY.replace("hi", "changed")
    update = api.put("/api/v1/flows/company.team/managed", data=changed, headers=YAML)
    assert update.status_code == 403
    assert "read-only" in update.get_json()["message"]
    delete = api.delete("/api/v1/flows/company.team/managed")
    assert delete.status_code == 403
    assert "system.readOnly" in delete.get_json()["message"]


def test_getting_a_flow_hides_the_source_unless_asked(api, deploy):
    deploy(HELLO)
    plain = api.get("/api/v1/flows/company.team/hello").get_json()
    assert "source" not in plain
    assert api.get("/api/v1/flows/company.team/hello?source=true").get_json()["source"] == HELLO
    assert api.get("/api/v1/flows/company.team/nope").status_code == 404


def test_a_deleted_flow_is_gone_unless_allow_deleted(api, deploy):
    deploy(HELLO)
    assert api.delete("/api/v1/flows/company.team/hello").status_code == 204
    assert api.get("/api/v1/flows/company.team/hello").status_code == 404
    deleted = api.get("/api/v1/flows/company.team/hello?allowDeleted=true").get_json()
    assert deleted["deleted"] is True
    assert api.delete("/api/v1/flows/company.team/hello").status_code == 404


def test_listing_a_namespace_and_distinct_namespaces(api, deploy):
    deploy(HELLO)
    deploy(HELLO.replace("id: hello", "id: other").replace("company.team", "company.ops"))
    listed = api.get("/api/v1/flows/company.team").get_json()
    assert [f["id"] for f in listed] == ["hello"]
    assert api.get("/api/v1/flows/distinct-namespaces").get_json() == ["company.ops",
                                                                      "company.team"]


def test_searching_flows_by_namespace_prefix_text_and_labels(api, deploy):
    deploy(HELLO)
    deploy(HELLO.replace("id: hello", "id: other").replace("team: data", "team: ops"))
    deploy(HELLO.replace("company.team", "acme"))
    found = api.get("/api/v1/flows/search?namespace=company").get_json()
    assert found["total"] == 2
    assert {f["id"] for f in found["results"]} == {"hello", "other"}
    assert api.get("/api/v1/flows/search?q=oth").get_json()["results"][0]["id"] == "other"
    labelled = api.get("/api/v1/flows/search?labels=team:ops").get_json()
    assert [f["id"] for f in labelled["results"]] == ["other"]
    paged = api.get("/api/v1/flows/search?size=1&page=2").get_json()
    assert paged["total"] == 3 and len(paged["results"]) == 1


def test_a_bad_search_parameter_is_a_400_naming_it(api):
    assert api.get("/api/v1/flows/search?size=abc").status_code == 400
    assert "size" in api.get("/api/v1/flows/search?size=abc").get_json()["message"]
    assert api.get("/api/v1/flows/search?page=0").status_code == 400
    response = api.get("/api/v1/flows/search?scope=NOPE")
    assert response.status_code == 400
    assert "scope" in response.get_json()["message"]


def test_searching_inside_flow_sources_returns_the_matching_lines(api, deploy):
    deploy(HELLO)
    deploy(HELLO.replace("id: hello", "id: other").replace("Hello", "Goodbye"))
    found = api.get("/api/v1/flows/source?q=goodbye").get_json()
    assert found["total"] == 1
    assert found["results"][0]["model"]["id"] == "other"
    assert "[mark]Goodbye[/mark]" in found["results"][0]["fragments"][0]


def test_validating_a_multi_document_yaml_reports_each_flow(api):
    source = HELLO + "---\n" + "id: bad\nnamespace: company.team\ntasks: []\n"
    results = api.post("/api/v1/flows/validate", data=source, headers=YAML).get_json()
    assert [r["index"] for r in results] == [0, 1]
    assert results[0]["flow"] == "hello" and results[0]["constraints"] is None
    assert results[1]["flow"] == "bad" and results[1]["namespace"] == "company.team"
    line = HELLO.count("\n") + 4     # `tasks: []`, counted in the whole body
    assert results[1]["constraints"].startswith(f"{line}:")


def test_posting_a_namespace_of_flows_updates_them_and_deletes_the_others(api, deploy):
    deploy(HELLO)
    deploy(HELLO.replace("id: hello", "id: old"))
    other = HELLO.replace("id: hello", "id: new")
    body = HELLO.replace("Hello", "Hi") + "---\n" + other
    response = api.post("/api/v1/flows/company.team", data=body, headers=YAML)
    assert response.status_code == 200
    assert [f["id"] for f in response.get_json()] == ["hello", "new"]
    listed = [f["id"] for f in api.get("/api/v1/flows/company.team").get_json()]
    assert listed == ["hello", "new"]
