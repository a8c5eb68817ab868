"""Executions through the API: create with inputs and labels, read, search, delete, the
user actions and file downloads, run by a real RQ worker."""
from __future__ import annotations

import io
import json
import threading

from tests.api.conftest import FAILING, HELLO, PAUSING

FILE_FLOW = """\
id: upload
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: size
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.data }}"
"""


def test_creating_an_execution_answers_the_execution_and_its_ui_url(deploy, start, settle):
    deploy(HELLO)
    created = start("company.team", "hello", {"name": "Ada"}, "?labels=env:prod")
    assert created["flowId"] == "hello" and created["namespace"] == "company.team"
    assert created["inputs"] == {"name": "Ada"}
    assert {"key": "env", "value": "prod"} in created["labels"]
    assert {"key": "team", "value": "data"} in created["labels"]
    assert created["url"].endswith(f"/ui/main/executions/company.team/hello/{created['id']}")
    assert settle(created["id"]).current.value == "SUCCESS"


def test_getting_an_execution_shows_its_task_runs(api, deploy, start, settle):
    deploy(HELLO)
    created = start("company.team", "hello")
    settle(created["id"])
    body = api.get(f"/api/v1/executions/{created['id']}").get_json()
    assert body["state"]["current"] == "SUCCESS"
    assert body["taskRunList"][0]["taskId"] == "say"
    assert api.get("/api/v1/executions/nope").status_code == 404


def test_creating_an_execution_of_an_unknown_flow_is_404(api):
    response = api.post("/api/v1/executions/company.team/nope")
    assert response.status_code == 404


def test_creating_an_execution_of_a_disabled_flow_is_409(api, deploy):
    deploy(HELLO.replace("tasks:", "disabled: true\ntasks:"))
    response = api.post("/api/v1/executions/company.team/hello")
    assert response.status_code == 409
    assert "disabled" in response.get_json()["message"]


def test_an_invalid_input_is_422_with_kestras_message(api, deploy):
    deploy(HELLO.replace("type: STRING\n    defaults: world", "type: INT"))
    response = api.post("/api/v1/executions/company.team/hello", data={"name": "abc"},
                        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "name" in response.get_json()["message"]


def test_a_system_label_is_refused_at_creation(api, deploy):
    deploy(HELLO)
    response = api.post("/api/v1/executions/company.team/hello?labels=system.app:x")
    assert response.status_code == 422
    assert "System labels" in response.get_json()["message"]


def test_a_bad_label_parameter_is_a_400(api, deploy):
    deploy(HELLO)
    response = api.post("/api/v1/executions/company.team/hello?labels=nocolon")
    assert response.status_code == 400
    assert "labels" in response.get_json()["message"]


def test_a_file_input_is_uploaded_as_a_multipart_part_and_downloadable(api, deploy, settle):
    deploy(FILE_FLOW)
    response = api.post("/api/v1/executions/company.team/upload",
                        data={"data": (io.BytesIO(b"a,b\n1,2\n"), "table.csv")},
                        content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    created = response.get_json()
    uri = created["inputs"]["data"]
    assert uri.startswith("kestra:///company/team/upload/executions/") and uri.endswith("table.csv")
    settle(created["id"])
    download = api.get(f"/api/v1/executions/{created['id']}/file?path={uri}")
    assert download.status_code == 200
    assert download.data == b"a,b\n1,2\n"
    assert "table.csv" in download.headers["Content-Disposition"]


def test_a_file_of_another_execution_is_not_found(api, deploy):
    deploy(FILE_FLOW)
    first = api.post("/api/v1/executions/company.team/upload",
                     data={"data": (io.BytesIO(b"secret"), "a.txt")},
                     content_type="multipart/form-data").get_json()
    second = api.post("/api/v1/executions/company.team/upload",
                      data={"data": (io.BytesIO(b"other"), "b.txt")},
                      content_type="multipart/form-data").get_json()
    uri = first["inputs"]["data"]
    assert api.get(f"/api/v1/executions/{second['id']}/file?path={uri}").status_code == 404
    assert api.get(f"/api/v1/executions/{first['id']}/file?path=kestra:///etc/passwd") \
        .status_code == 404
    assert api.get(f"/api/v1/executions/{first['id']}/file").status_code == 400


def test_wait_true_answers_once_the_execution_has_ended(api, deploy, runtime):
    from kestra_lite.worker import build_worker
    deploy(HELLO)
    answer = {}

    def call():
        answer["response"] = api.post("/api/v1/executions/company.team/hello?wait=true")

    caller = threading.Thread(target=call)
    caller.start()
    worker = build_worker(runtime)
    while caller.is_alive():
        worker.work(burst=True, logging_level="WARNING")
        caller.join(0.05)
    body = answer["response"].get_json()
    assert body["state"]["current"] == "SUCCESS"
    assert body["taskRunList"][0]["state"]["current"] == "SUCCESS"


def test_searching_executions_by_state_flow_and_labels(api, deploy, start, settle):
    deploy(HELLO)
    deploy(FAILING)
    ok = start("company.team", "hello", query="?labels=env:prod")
    bad = start("company.team", "broken")
    settle(ok["id"])
    settle(bad["id"])
    everything = api.get("/api/v1/executions/search").get_json()
    assert everything["total"] == 2
    failed = api.get("/api/v1/executions/search?state=FAILED").get_json()
    assert [e["id"] for e in failed["results"]] == [bad["id"]]
    by_flow = api.get("/api/v1/executions?namespace=company.team&flowId=hello").get_json()
    assert [e["id"] for e in by_flow["results"]] == [ok["id"]]
    labelled = api.get("/api/v1/executions/search?labels=env:prod").get_json()
    assert [e["id"] for e in labelled["results"]] == [ok["id"]]
    oldest_first = api.get("/api/v1/executions/search?sort=state.startDate:asc").get_json()
    assert [e["id"] for e in oldest_first["results"]] == [ok["id"], bad["id"]]
    recent = api.get("/api/v1/executions/search?timeRange=PT1H&namespace=company").get_json()
    assert recent["total"] == 2
    typed = api.get("/api/v1/executions/search?namespace=company"
                    "&filter=state:SUCCESS%20label:env=prod%20since:1h").get_json()
    assert [e["id"] for e in typed["results"]] == [ok["id"]]
    bad_filter = api.get("/api/v1/executions/search?filter=state:NOPE")
    assert bad_filter.status_code == 400 and "state:NOPE" in bad_filter.get_json()["message"]


def test_bad_search_parameters_are_refused_with_a_message(api):
    response = api.get("/api/v1/executions/search?state=NOPE")
    assert response.status_code == 400
    assert "NOPE" in response.get_json()["message"]
    bad_sort = api.get("/api/v1/executions/search?sort=nope:asc")
    assert bad_sort.status_code == 400 and "sort" in bad_sort.get_json()["message"]
    assert api.get("/api/v1/executions/search?size=100000").status_code == 400


def test_deleting_an_execution_removes_it_its_logs_and_its_files(api, deploy, start, settle,
                                                                  runtime):
    deploy(FILE_FLOW)
    created = api.post("/api/v1/executions/company.team/upload",
                       data={"data": (io.BytesIO(b"x"), "x.txt")},
                       content_type="multipart/form-data").get_json()
    settle(created["id"])
    assert api.get(f"/api/v1/logs/{created['id']}").get_json()
    assert api.delete(f"/api/v1/executions/{created['id']}").status_code == 204
    assert api.get(f"/api/v1/executions/{created['id']}").status_code == 404
    assert api.get(f"/api/v1/logs/{created['id']}").get_json() == []
    folder = runtime.storage.base / "main" / "company" / "team" / "upload" / "executions"
    assert not (folder / created["id"]).exists()
    assert api.delete(f"/api/v1/executions/{created['id']}").status_code == 404


def test_killing_a_paused_execution_and_killing_it_again_is_a_conflict(api, deploy, start,
                                                                       settle):
    deploy(PAUSING)
    created = start("company.team", "waiting")
    assert settle(created["id"]).current.value == "PAUSED"
    assert api.delete(f"/api/v1/executions/{created['id']}/kill").status_code == 202
    assert settle(created["id"]).current.value == "KILLED"
    again = api.delete(f"/api/v1/executions/{created['id']}/kill")
    assert again.status_code == 409
    assert "already finished" in again.get_json()["message"]


def test_resuming_a_paused_execution_with_its_on_resume_inputs(api, deploy, start, settle):
    deploy(PAUSING)
    created = start("company.team", "waiting")
    settle(created["id"])
    response = api.post(f"/api/v1/executions/{created['id']}/resume",
                        data={"approved": "true"}, content_type="multipart/form-data")
    assert response.status_code == 204
    done = settle(created["id"])
    assert done.current.value == "SUCCESS"
    assert done.task_runs[0].outputs == {"onResume": {"approved": True}}
    again = api.post(f"/api/v1/executions/{created['id']}/resume")
    assert again.status_code == 409


def test_restarting_a_failed_execution(api, deploy, start, settle):
    deploy(FAILING)
    created = start("company.team", "broken")
    settle(created["id"])
    response = api.post(f"/api/v1/executions/{created['id']}/restart")
    assert response.status_code == 200
    assert response.get_json()["state"]["current"] == "RESTARTED"
    assert settle(created["id"]).current.value == "FAILED"
    assert api.post(f"/api/v1/executions/{created['id']}/restart?revision=7").status_code == 404


def test_replaying_creates_a_new_execution_from_the_old_one(api, deploy, start, settle):
    deploy(HELLO)
    created = start("company.team", "hello", {"name": "Bo"})
    settle(created["id"])
    response = api.post(f"/api/v1/executions/{created['id']}/replay")
    assert response.status_code == 200
    replay = response.get_json()
    assert replay["id"] != created["id"] and replay["parentId"] == created["id"]
    assert settle(replay["id"]).inputs == {"name": "Bo"}


def test_marking_a_task_run_and_changing_the_status(api, deploy, start, settle):
    deploy(FAILING)
    created = start("company.team", "broken")
    execution = settle(created["id"])
    task_run_id = execution.task_runs[0].id
    response = api.post(f"/api/v1/executions/{created['id']}/state",
                        data=json.dumps({"taskRunId": task_run_id, "state": "SUCCESS"}),
                        content_type="application/json")
    assert response.status_code == 200
    assert settle(created["id"]).current.value == "SUCCESS"
    changed = api.post(f"/api/v1/executions/{created['id']}/change-status?status=WARNING")
    assert changed.status_code == 200
    assert changed.get_json()["state"]["current"] == "WARNING"
    refused = api.post(f"/api/v1/executions/{created['id']}/change-status?status=RUNNING")
    assert refused.status_code == 422
    missing = api.post(f"/api/v1/executions/{created['id']}/state", data="{not json",
                       content_type="application/json")
    assert missing.status_code == 400


def test_setting_labels_on_a_terminated_execution(api, deploy, start, settle):
    deploy(HELLO)
    created = start("company.team", "hello")
    settle(created["id"])
    response = api.post(f"/api/v1/executions/{created['id']}/labels",
                        data=json.dumps([{"key": "reviewed", "value": "yes"}]),
                        content_type="application/json")
    assert response.status_code == 200
    assert {"key": "reviewed", "value": "yes"} in response.get_json()["labels"]
    refused = api.post(f"/api/v1/executions/{created['id']}/labels",
                       data=json.dumps([{"key": "system.username", "value": "x"}]),
                       content_type="application/json")
    assert refused.status_code == 422
    assert "System labels" in refused.get_json()["message"]


def test_labels_on_a_running_execution_are_a_400(api, deploy, start, settle):
    deploy(PAUSING)
    created = start("company.team", "waiting")
    settle(created["id"])
    response = api.post(f"/api/v1/executions/{created['id']}/labels",
                        data=json.dumps([{"key": "a", "value": "b"}]),
                        content_type="application/json")
    assert response.status_code == 400
    assert "not terminated" in response.get_json()["message"]


def test_following_an_execution_streams_server_sent_events_until_the_end(api, deploy, start,
                                                                         settle):
    deploy(HELLO)
    created = start("company.team", "hello")
    settle(created["id"])
    response = api.get(f"/api/v1/executions/{created['id']}/follow")
    assert response.mimetype == "text/event-stream"
    text = response.get_data(as_text=True)
    assert text.startswith("id: start\n")
    assert "id: end\n" in text and '"SUCCESS"' in text


def test_an_input_sent_as_a_file_part_is_read_as_text_unless_the_input_is_a_file(api, deploy):
    """The `kestra` client sends every input as a file part named after the input."""
    deploy(HELLO)
    response = api.post("/api/v1/executions/company.team/hello",
                        data={"name": (io.BytesIO(b"from a part"), "name")},
                        content_type="multipart/form-data")
    assert response.get_json()["inputs"] == {"name": "from a part"}


def test_a_files_part_names_its_file_input_by_its_filename_like_the_kestra_ui(api, deploy):
    deploy(FILE_FLOW)
    response = api.post("/api/v1/executions/company.team/upload",
                        data={"files": (io.BytesIO(b"x"), "data")},
                        content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["inputs"]["data"].endswith("/inputs/data/data")


def test_deleting_a_paused_execution_kills_it_first_then_removes_it(api, deploy, start,
                                                                     settle, runtime):
    from kestra_lite.worker import build_worker
    deploy(PAUSING)
    created = start("company.team", "waiting")
    settle(created["id"])
    assert api.delete(f"/api/v1/executions/{created['id']}").status_code == 204
    build_worker(runtime).work(burst=True, logging_level="CRITICAL")   # leftovers end quietly
    assert api.get(f"/api/v1/executions/{created['id']}").status_code == 404


def test_a_bad_json_body_is_a_400_naming_what_was_expected(api, deploy):
    response = api.post("/api/v1/flows", data="{broken", content_type="application/json")
    assert response.status_code == 400
    assert "Invalid JSON" in response.get_json()["message"]
    assert api.post("/api/v1/flows", data="", headers={"Content-Type": "application/x-yaml"}) \
        .status_code == 400
    assert api.get("/api/v1/executions/nope/follow").status_code == 404
