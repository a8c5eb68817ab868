"""The Executions pages through the test client: the filtered list and its bulk actions, the
detail page (Gantt, task runs, live logs, outputs and files, correlation) and every action.
Executions run for real (RQ worker in burst mode) on SQLite and PostgreSQL."""
from __future__ import annotations

import html
import re
import textwrap
from datetime import timedelta
from urllib.parse import quote_plus, unquote

import pytest

from kestra_lite.model.execution import Attempt, Execution, TaskRun, new_id
from kestra_lite.model.state import State, StateInfo, utcnow
from kestra_lite.services import executions as service
from kestra_lite.services import flows as flow_service
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store

TENANT = "main"
LIST = "/ui/main/executions"

HELLO = """
    id: hello
    namespace: company.team
    labels:
      env: prod
    tasks:
      - id: first
        type: io.kestra.plugin.core.log.Log
        message: hello from first
      - id: group
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: nested
            type: io.kestra.plugin.core.debug.Return
            format: "{{ flow.id }}-nested"
"""
BROKEN = """
    id: broken
    namespace: other.ns
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
        errorMessage: it broke
"""
APPROVAL = """
    id: approval
    namespace: company.team
    tasks:
      - id: wait
        type: io.kestra.plugin.core.flow.Pause
        onResume:
          - id: asked
            type: STRING
          - id: count
            type: INT
            required: false
      - id: after
        type: io.kestra.plugin.core.log.Log
        message: "answer {{ outputs.wait.onResume.asked }}"
"""
TWO_STEPS = """
    id: two-steps
    namespace: company.team
    tasks:
      - id: one
        type: io.kestra.plugin.core.debug.Return
        format: one
      - id: two
        type: io.kestra.plugin.core.debug.Return
        format: two
"""
READER = """
    id: reader
    namespace: company.team
    inputs:
      - id: data
        type: FILE
    tasks:
      - id: show
        type: io.kestra.plugin.core.log.Log
        message: "{{ read(inputs.data) }}"
"""


def deploy(runtime, source: str):
    return flow_service.deploy(runtime, TENANT, textwrap.dedent(source))


def run(runtime, flow, **kwargs) -> Execution:
    execution = service.create_execution(runtime, flow, **kwargs)
    run_until_settled(runtime, TENANT, execution.id)
    return store.load_execution(TENANT, execution.id)


def detail_url(execution: Execution, suffix: str = "", **params) -> str:
    url = f"/ui/main/executions/{execution.namespace}/{execution.flow_id}/{execution.id}{suffix}"
    if params:
        url += "?" + "&".join(f"{k}={quote_plus(str(v))}" for k, v in params.items())
    return url


def text(response) -> str:
    return response.get_data(as_text=True)


def flashes(response) -> str:
    return html.unescape(" ".join(re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<',
                                             text(response))))


def listed_ids(response) -> set[str]:
    return set(re.findall(r'name="ids" value="([^"]+)"', text(response)))


@pytest.fixture
def finished(runtime):
    """Two SUCCESS executions of company.team.hello and one FAILED of other.ns.broken."""
    hello, broken = deploy(runtime, HELLO), deploy(runtime, BROKEN)
    return {"ok": [run(runtime, hello), run(runtime, hello, labels={"team": "blue"})],
            "failed": run(runtime, broken)}


# -- the list ---------------------------------------------------------------------------------

def test_the_list_shows_every_execution_with_its_state_and_labels(client, finished):
    page = client.get(LIST)
    assert page.status_code == 200
    assert listed_ids(page) == {e.id for e in finished["ok"]} | {finished["failed"].id}
    body = text(page)
    assert "state-FAILED" in body and "state-SUCCESS" in body
    assert "env:prod" in body and "team:blue" in body
    assert "system.correlationId" not in body          # system labels are hidden


def test_typing_a_state_namespace_or_label_query_filters_the_list(client, finished):
    failed = client.get(LIST + "?q=" + quote_plus("state:FAILED"))
    assert listed_ids(failed) == {finished["failed"].id}
    in_namespace = client.get(LIST + "?q=" + quote_plus("namespace:company"))
    assert listed_ids(in_namespace) == {e.id for e in finished["ok"]}
    labelled = client.get(LIST + "?q=" + quote_plus("label:team=blue"))
    assert listed_ids(labelled) == {finished["ok"][1].id}
    both = client.get(LIST + "?q=" + quote_plus("namespace:company.team state:FAILED"))
    assert listed_ids(both) == set()


def test_the_query_survives_in_the_sort_paging_and_bulk_form_urls(client, finished):
    query = "namespace:company label:env=prod"
    page = client.get(LIST + "?size=10&q=" + quote_plus(query))
    body = text(page)
    sort_links = [unquote(href.replace("+", " ")).replace("&amp;", "&")
                  for href in re.findall(r'href="([^"]*sort=[^"]*)"', body)]
    assert sort_links and all(f"q={query}" in link and "size=10" in link for link in sort_links)
    assert f'name="q" value="{query}"' in body         # the bulk form returns to it
    again = client.get(sort_links[0])
    assert listed_ids(again) == {e.id for e in finished["ok"]}


def test_a_bad_query_shows_the_error_inline_and_no_results(client, finished):
    page = client.get(LIST + "?q=" + quote_plus("state:FOO"))
    assert page.status_code == 200
    assert "unknown state FOO" in text(page)
    assert listed_ids(page) == set()


def test_clicking_a_state_badge_or_a_label_adds_it_to_the_query(client, finished):
    page = text(client.get(LIST + "?q=" + quote_plus("namespace:other")))
    state_link = re.search(r'<a class="state state-FAILED" href="([^"]+)"', page).group(1)
    assert unquote(state_link.replace("+", " ")).endswith("q=namespace:other state:FAILED")
    page = text(client.get(LIST))
    label_link = re.search(r'<a class="label" href="([^"]+)">env:prod', page).group(1)
    assert unquote(label_link).endswith("q=label:env=prod")


def test_system_labels_show_when_a_filter_names_one(client, finished):
    execution = finished["failed"]
    query = f"label:system.correlationId={execution.id}"
    page = client.get(LIST + "?q=" + quote_plus(query))
    assert listed_ids(page) == {execution.id}
    assert f"system.correlationId:{execution.id}" in text(page)


def test_the_list_pages_sorts_and_selects_a_whole_page(client, finished):
    by_namespace = client.get(LIST + "?sort=namespace:asc")
    names = re.findall(r'>(company\.team|other\.ns)</a></td>', text(by_namespace))
    assert names == ["company.team", "company.team", "other.ns"]
    first = client.get(LIST + "?size=2")                   # newest first
    assert listed_ids(first) == {finished["failed"].id, finished["ok"][1].id}
    assert "Page 1 of 2" in text(first) and 'rel="next"' in text(first)
    second = client.get(LIST + "?size=2&page=2")
    assert listed_ids(second) == {finished["ok"][0].id}
    assert 'rel="prev"' in text(second) and 'rel="next"' not in text(second)
    selected = text(client.get(LIST + "?size=2&all=1"))
    assert selected.count('name="ids"') == 2 == len(re.findall(r'name="ids" value="[^"]+"'
                                                               r' aria-label="[^"]+" checked',
                                                               selected))


def test_bulk_kill_reports_successes_and_per_execution_errors(client, runtime, finished):
    paused = service.create_execution(runtime, deploy(runtime, APPROVAL))
    run_until_settled(runtime, TENANT, paused.id)
    client.get(LIST)
    done = finished["ok"][0]
    response = client.post(LIST + "/bulk", data={
        "action": "kill", "ids": [paused.id, done.id], "q": "namespace:company"})
    assert response.status_code == 303
    assert unquote(response.headers["Location"].replace("+", " ")).endswith(
        "/executions?q=namespace:company")
    page = client.get(response.headers["Location"])
    assert "Killed 1 execution; 1 failed" in flashes(page)
    assert f"{done.id}: execution already finished" in flashes(page)
    run_until_settled(runtime, TENANT, paused.id)
    assert store.load_execution(TENANT, paused.id).current is State.KILLED


def test_bulk_delete_removes_the_executions_and_their_logs_even_a_paused_one(
        client, runtime, finished):
    paused = service.create_execution(runtime, deploy(runtime, APPROVAL))
    run_until_settled(runtime, TENANT, paused.id)
    ids = [e.id for e in finished["ok"]] + [paused.id]
    client.get(LIST)
    response = client.post(LIST + "/bulk", data={"action": "delete", "ids": ids})
    assert "Deleted 3 executions" in flashes(client.get(response.headers["Location"]))
    assert all(store.find_execution(TENANT, i) is None for i in ids)
    assert log_store.execution_logs(TENANT, ids[0]) == []
    assert listed_ids(client.get(LIST)) == {finished["failed"].id}


def test_bulk_set_labels_labels_every_selected_execution(client, finished):
    ids = [e.id for e in finished["ok"]]
    client.get(LIST)
    response = client.post(LIST + "/bulk", data={"action": "labels", "ids": ids,
                                                 "labels": "reviewed=yes, owner=ops"})
    assert "Labelled 2 executions" in flashes(client.get(response.headers["Location"]))
    for execution_id in ids:
        labelled = store.load_execution(TENANT, execution_id)
        assert labelled.label("reviewed") == "yes" and labelled.label("owner") == "ops"
    assert listed_ids(client.get(LIST + "?q=" + quote_plus("label:owner=ops"))) == set(ids)


def test_bulk_set_labels_refuses_a_malformed_label(client, finished):
    client.get(LIST)
    response = client.post(LIST + "/bulk", data={"action": "labels", "ids": [
        finished["failed"].id], "labels": "no-equals-sign"})
    assert "expected key=value" in flashes(client.get(response.headers["Location"]))


# -- the detail page --------------------------------------------------------------------------

def test_the_detail_shows_the_header_inputs_labels_and_no_polling_when_terminated(
        client, finished):
    execution = finished["ok"][1]
    page = client.get(detail_url(execution))
    body = text(page)
    assert page.status_code == 200
    assert "state state-SUCCESS" in body and execution.id in body
    assert "team:blue" in body
    live = re.search(r'<div id="execution-live"[^>]*>', body).group(0)
    assert "hx-trigger" not in live and "hx-get" not in live


def test_an_execution_under_another_flow_url_is_not_found(client, finished):
    execution = finished["ok"][0]
    response = client.get(f"/ui/main/executions/company.team/broken/{execution.id}")
    assert response.status_code == 404
    assert client.get("/ui/main/executions/company.team/hello/nope").status_code == 404


def test_the_gantt_tab_has_one_row_per_task_run_with_children_indented(client, finished):
    execution = finished["ok"][0]
    body = text(client.get(detail_url(execution, tab="gantt")))
    rows = re.findall(r'class="gantt-row" data-task-run="([^"]+)"', body)
    assert rows == [t.id for t in execution.task_runs]          # first, group, nested
    assert 'style="padding-left: 14px" title="nested"' in body
    assert "gantt-bar bar-SUCCESS" in body


def test_the_tasks_tab_shows_states_attempts_and_outputs(client, finished):
    execution = finished["ok"][0]
    body = text(client.get(detail_url(execution, tab="tasks")))
    assert body.count('id="tr-') == 3
    assert "#1 <span class=\"state state-SUCCESS\">" in body
    assert "hello-nested" in body                        # the Return output as JSON


def test_the_logs_tab_shows_the_lines_and_filters_by_level_and_task(client, finished):
    execution = finished["ok"][0]
    body = text(client.get(detail_url(execution, tab="logs")))
    assert "hello from first" in body
    poller = re.search(r'<div id="log-poller"[^>]*>', body).group(0)
    assert "hx-trigger" not in poller                                # terminated: no polling
    errors_only = text(client.get(detail_url(execution, tab="logs", level="ERROR")))
    assert "hello from first" not in errors_only
    nested = execution.task_runs[2].id
    only_nested = text(client.get(detail_url(execution, tab="logs", task=nested)))
    assert "hello from first" not in only_nested


def test_log_polling_returns_only_new_lines_and_stops_when_terminated(client, runtime):
    execution = service.create_execution(runtime, deploy(runtime, APPROVAL))
    run_until_settled(runtime, TENANT, execution.id)                 # PAUSED
    page = text(client.get(detail_url(execution, tab="logs")))
    poller = re.search(r'<div id="log-poller"[^>]*>', page).group(0)
    assert 'hx-trigger="every 1s"' in poller and 'hx-swap="beforeend"' in poller
    poll_url = re.search(r'hx-get="([^"]+)"', poller).group(1).replace("&amp;", "&")
    assert client.get(poll_url).status_code == 204                   # nothing new yet

    service.resume(runtime, TENANT, execution.id, {"asked": "forty-two"})
    run_until_settled(runtime, TENANT, execution.id)
    tail = client.get(poll_url, headers={"HX-Request": "true"})
    body = text(tail)
    assert tail.status_code == 200
    assert "answer forty-two" in body
    shown_before = re.findall(r'class="line[^"]*">(.*?)</div>', page)
    assert not any(line in body for line in shown_before if line)  # only the new lines
    final_poller = re.search(r'<div id="log-poller"[^>]*>', body).group(0)
    assert 'hx-swap-oob="true"' in final_poller
    assert "hx-trigger" not in final_poller and "hx-get" not in final_poller


def test_the_live_fragment_polls_while_running_and_stops_when_terminated(client, runtime):
    execution = service.create_execution(runtime, deploy(runtime, APPROVAL))
    run_until_settled(runtime, TENANT, execution.id)
    page = text(client.get(detail_url(execution, tab="gantt")))
    live = re.search(r'<div id="execution-live"[^>]*>', page).group(0)
    assert 'hx-trigger="every 2s"' in live
    live_url = re.search(r'hx-get="([^"]+)"', live).group(1).replace("&amp;", "&")
    assert "state-PAUSED" in text(client.get(live_url))
    service.resume(runtime, TENANT, execution.id, {"asked": "yes"})
    run_until_settled(runtime, TENANT, execution.id)
    final = text(client.get(live_url))
    assert final.lstrip().startswith('<div id="execution-live"')
    assert "state-SUCCESS" in final
    assert "hx-trigger" not in re.search(r'<div id="execution-live"[^>]*>', final).group(0)


def test_a_running_execution_is_paused_then_resumed_from_the_page(client, runtime):
    execution = service.create_execution(runtime, deploy(runtime, TWO_STEPS))
    page = text(client.get(detail_url(execution)))
    assert "/pause" in page and "/restart" not in page
    response = client.post(detail_url(execution, "/pause"))
    assert response.status_code == 303
    assert "Execution paused" in flashes(client.get(response.headers["Location"]))
    run_until_settled(runtime, TENANT, execution.id)
    paused = store.load_execution(TENANT, execution.id)
    assert paused.current is State.PAUSED and len(paused.task_runs) == 1
    page = text(client.get(detail_url(execution)))
    assert "/resume" in page and "/pause\"" not in page
    response = client.post(detail_url(execution, "/resume"))
    assert "Execution resumed" in flashes(client.get(response.headers["Location"]))
    run_until_settled(runtime, TENANT, execution.id)
    assert store.load_execution(TENANT, execution.id).current is State.SUCCESS


def test_an_action_invalid_in_the_current_state_is_a_flash_not_an_error_page(
        client, finished):
    execution = finished["ok"][0]
    client.get(detail_url(execution))
    response = client.post(detail_url(execution, "/pause"))
    assert response.status_code == 303
    assert "is not in state RUNNING" in flashes(client.get(response.headers["Location"]))


def test_resume_with_on_resume_inputs_validates_them_inline(client, runtime):
    execution = service.create_execution(runtime, deploy(runtime, APPROVAL))
    run_until_settled(runtime, TENANT, execution.id)
    page = text(client.get(detail_url(execution)))
    assert detail_url(execution, "/resume") in page                 # a link to the form
    form = client.get(detail_url(execution, "/resume"))
    assert form.status_code == 200 and 'name="asked"' in text(form)
    invalid = client.post(detail_url(execution, "/resume"), data={"count": "not a number"})
    assert invalid.status_code == 422
    assert "asked" in text(invalid) and "missing required input" in text(invalid)
    assert store.load_execution(TENANT, execution.id).current is State.PAUSED
    done = client.post(detail_url(execution, "/resume"), data={"asked": "ok", "count": "3"})
    assert done.status_code == 303
    run_until_settled(runtime, TENANT, execution.id)
    resumed = store.load_execution(TENANT, execution.id)
    assert resumed.current is State.SUCCESS
    assert resumed.task_runs[0].outputs == {"onResume": {"asked": "ok", "count": 3}}


def test_replay_from_a_task_run_redirects_to_the_new_execution(client, runtime, finished):
    execution = finished["ok"][0]
    nested = execution.task_runs[2]
    page = text(client.get(detail_url(execution, tab="tasks")))
    assert f'name="task_run_id" value="{nested.id}"' in page
    response = client.post(detail_url(execution, "/replay"), data={"task_run_id": nested.id})
    assert response.status_code == 303
    new_id_ = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert new_id_ != execution.id
    replayed = store.load_execution(TENANT, new_id_)
    assert replayed.parent_id == execution.id
    run_until_settled(runtime, TENANT, new_id_)
    assert store.load_execution(TENANT, new_id_).current is State.SUCCESS
    assert "Replay of" in text(client.get(response.headers["Location"]))


def test_restart_a_failed_execution(client, runtime, finished):
    execution = finished["failed"]
    page = text(client.get(detail_url(execution)))
    assert "/restart" in page
    response = client.post(detail_url(execution, "/restart"))
    assert "Execution restarted" in flashes(client.get(response.headers["Location"]))
    run_until_settled(runtime, TENANT, execution.id)
    restarted = store.load_execution(TENANT, execution.id)
    assert restarted.attempt_number == 2 and restarted.current is State.FAILED


def test_change_status_of_a_terminated_execution(client, finished):
    execution = finished["failed"]
    page = text(client.get(detail_url(execution)))
    assert "<option>SUCCESS</option>" in page and "<option>FAILED</option>" not in page
    response = client.post(detail_url(execution, "/change-status"), data={"state": "SUCCESS"})
    assert "Status changed to SUCCESS" in flashes(client.get(response.headers["Location"]))
    assert store.load_execution(TENANT, execution.id).current is State.SUCCESS
    response = client.post(detail_url(execution, "/change-status"), data={"state": "RUNNING"})
    assert "not a terminal state" in flashes(client.get(response.headers["Location"]))


def test_marking_a_failed_task_run_success_lets_the_execution_continue(
        client, runtime, finished):
    execution = finished["failed"]
    boom = execution.task_runs[0]
    client.get(detail_url(execution, tab="tasks"))
    response = client.post(detail_url(execution, "/mark"), data={
        "mark": f"{boom.id}:SUCCESS", "tab": "tasks"})
    assert response.headers["Location"].endswith("?tab=tasks")
    run_until_settled(runtime, TENANT, execution.id)
    assert store.load_execution(TENANT, execution.id).current is State.SUCCESS


def test_the_labels_editor_adds_and_removes_labels_but_not_system_ones(client, finished):
    execution = finished["ok"][1]
    page = text(client.get(detail_url(execution)))
    assert 'name="remove" value="team"' in page
    assert 'name="remove" value="system.correlationId"' not in page
    client.post(detail_url(execution, "/labels"), data={"add": "stage=qa", "remove": "team"})
    labelled = store.load_execution(TENANT, execution.id)
    assert labelled.label("stage") == "qa" and labelled.label("team") is None
    assert labelled.label("system.correlationId") == execution.id
    response = client.post(detail_url(execution, "/labels"),
                           data={"remove": "system.correlationId"})
    assert "read-only" in flashes(client.get(response.headers["Location"]))
    assert store.load_execution(TENANT, execution.id).label("system.correlationId")


def test_delete_from_the_detail_page(client, finished):
    execution = finished["failed"]
    client.get(detail_url(execution))
    response = client.post(detail_url(execution, "/delete"))
    assert response.headers["Location"].endswith("/ui/main/executions")
    assert store.find_execution(TENANT, execution.id) is None
    assert client.get(detail_url(execution)).status_code == 404


def test_a_file_of_the_execution_downloads_and_a_foreign_path_is_refused(client, runtime):
    reader = deploy(runtime, READER)
    mine = run(runtime, reader, inputs={"data": ("hello.txt", b"file body")})
    other = run(runtime, reader, inputs={"data": ("secret.txt", b"not yours")})
    page = text(client.get(detail_url(mine)))
    link = re.search(r'<a href="([^"]+/file\?path=[^"]+)" download>', page).group(1)
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200 and response.data == b"file body"
    assert "attachment" in response.headers["Content-Disposition"]
    foreign = client.get(f"/ui/main/executions/{mine.id}/file?path="
                         + quote_plus(other.inputs["data"]))
    assert foreign.status_code == 404 and b"not yours" not in foreign.data
    escape = client.get(f"/ui/main/executions/{mine.id}/file?path="
                        + quote_plus(mine.inputs["data"].rsplit("/", 1)[0] + "/../../x"))
    assert escape.status_code == 404
    client.post(detail_url(mine, "/delete"))
    assert client.get(link.replace("&amp;", "&")).status_code == 404   # files went too
    assert not runtime.storage.exists(TENANT, mine.inputs["data"][len("kestra://"):])


def test_correlated_executions_are_listed(client, runtime):
    deploy(runtime, TWO_STEPS)
    parent = run(runtime, deploy(runtime, """
        id: parent
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: two-steps
    """))
    [child] = store.children_of(TENANT, parent.id)
    assert child.label("system.correlationId") == parent.id
    body = text(client.get(detail_url(child)))
    section = body[body.index("Correlated executions"):]
    assert parent.id[:8] in section and child.id[:8] in section
    assert "(this one)" in section
    lone = run(runtime, deploy(runtime, BROKEN))
    assert parent.id[:8] not in text(client.get(detail_url(lone))).split(
        "Correlated executions")[1]


# -- a big execution ----------------------------------------------------------------------------

def _big_execution(task_runs: int, log_lines: int) -> Execution:
    now = utcnow() - timedelta(minutes=5)
    execution = Execution(id=new_id(), namespace="company.team", flow_id="hello",
                          flow_revision=1, state=StateInfo.new(State.CREATED, now),
                          labels=[{"key": "system.correlationId", "value": "big"}])
    execution.state.set(State.RUNNING, now)
    parent = None
    for index in range(task_runs):
        start = now + timedelta(milliseconds=index * 100)
        state = StateInfo.new(State.CREATED, start)
        state.set(State.RUNNING, start)
        state.set(State.SUCCESS, start + timedelta(milliseconds=80))
        task_run = TaskRun(id=new_id(), execution_id=execution.id, namespace="company.team",
                           flow_id="hello", task_id=f"task{index % 50}", state=state,
                           parent_task_run_id=parent if index % 10 else None,
                           value=str(index), attempts=[Attempt(state)],
                           outputs={"value": f"output {index}"})
        if index % 10 == 0:
            parent = task_run.id
        execution.task_runs.append(task_run)
    execution.state.set(State.SUCCESS, now + timedelta(seconds=task_runs / 10 + 1))
    store.insert_execution(TENANT, execution)
    records = [{"executionId": execution.id, "namespace": "company.team", "flowId": "hello",
                "taskId": "task1", "taskRunId": execution.task_runs[1].id,
                "level": "INFO", "message": f"log line number {index}",
                "timestamp": now + timedelta(microseconds=index)} for index in range(log_lines)]
    log_store.append_logs(TENANT, records)
    return execution


def test_a_big_execution_opens_with_paged_task_runs_and_log_lines(client, runtime):
    """Every tab of an execution with 1,000 task runs and 100,000 log lines stays under
    100 KB of HTML (its speed is measured by bench/web.py, not here)."""
    execution = _big_execution(1000, 100_000)
    for tab in ("overview", "gantt", "tasks", "logs", "outputs"):
        response = client.get(detail_url(execution, tab=tab))
        assert response.status_code == 200
        assert len(response.data) < 100_000, (tab, len(response.data))
    logs = text(client.get(detail_url(execution, tab="logs")))
    assert "log line number 99999" in logs and "log line number 99499" not in logs
    assert logs.count('class="line ') == 500
    earlier = re.search(r'class="load-earlier" href="([^"]+)"', logs).group(1)
    before = text(client.get(earlier.replace("&amp;", "&")))
    assert "log line number 99499" in before and "log line number 99500" not in before
    assert "log line number 98999" not in before
    tasks = text(client.get(detail_url(execution, tab="tasks", trpage=10)))
    assert "Page 10 of 10" in tasks and tasks.count('id="tr-') == 100
