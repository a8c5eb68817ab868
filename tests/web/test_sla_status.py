"""SLA status and duration forecast on the execution page, "at risk" in the executions list.

Past executions are inserted through the store with explicit dates; the pages compute with
the real clock, so dates are set relative to it (minutes apart, never seconds)."""
from __future__ import annotations

import html
import re
import textwrap
from datetime import timedelta

from kestra_lite.model.execution import Execution, new_id
from kestra_lite.model.state import State, StateInfo, utcnow
from kestra_lite.services import executions as service
from kestra_lite.services import flows as flow_service
from kestra_lite.store import executions as store
from kestra_lite.store import forecast as forecast_store
from kestra_lite.worker import build_worker

TENANT = "main"
LIST = "/ui/main/executions"

GUARDED = """
    id: guarded
    namespace: company.team
    inputs:
      - id: mode
        type: STRING
        defaults: good
    sla:
      - id: maxDuration
        type: MAX_DURATION
        behavior: NONE
        duration: PT1H
      - id: goodMode
        type: EXECUTION_ASSERTION
        behavior: NONE
        assert: "{{ inputs.mode == 'good' }}"
    tasks:
      - id: wait
        type: io.kestra.plugin.core.flow.Pause
"""
PLAIN = """
    id: plain
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: hi
"""


def deploy(runtime, source: str):
    return flow_service.deploy(runtime, TENANT, textwrap.dedent(source))


def detail_url(execution: Execution, suffix: str = "") -> str:
    return f"/ui/main/executions/{execution.namespace}/{execution.flow_id}/{execution.id}{suffix}"


def work(runtime) -> None:
    """Run the queued jobs (the GUARDED executions then wait, paused, for a deadline)."""
    build_worker(runtime).work(burst=True, logging_level="WARNING")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sla_block(body: str) -> str:
    """The SLA block's text, tags removed ("" when there is none)."""
    found = re.search(r'<section class="card sla-status".*?</section>', body, re.S)
    text = re.sub(r"<[^>]+>", " ", found.group(0)) if found else ""
    return html.unescape(" ".join(text.split()))


def insert(flow_id: str, state: State, started_ago: timedelta, took: timedelta | None = None,
           namespace: str = "company.team") -> Execution:
    """An execution stored as it would be after running: started `started_ago`, ended after
    `took` (for a terminated state)."""
    start = utcnow() - started_ago
    info = StateInfo.new(State.CREATED, start)
    info.set(State.RUNNING, start)
    if state is not State.RUNNING:
        info.set(state, start + took)
    execution = Execution(id=new_id(), namespace=namespace, flow_id=flow_id, flow_revision=1,
                          state=info)
    store.insert_execution(TENANT, execution)
    return execution


def past_successes(flow_id: str, seconds: list[int], namespace: str = "company.team") -> None:
    for index, duration in enumerate(seconds):
        insert(flow_id, State.SUCCESS, timedelta(days=1, hours=index),
               timedelta(seconds=duration), namespace)


def risk_badges(body: str) -> dict[str, str]:
    """{execution id prefix: the badge's reason} of the list's rows."""
    found = {}
    for row in body.split("<tr")[1:]:
        badge = re.search(r'class="at-risk" title="([^"]*)"', row)
        link = re.search(r'class="mono" href="[^"]+">([^<]+)</a>', row)
        if badge and link:
            found[link.group(1)] = html.unescape(badge.group(1))
    return found


# -- the store ----------------------------------------------------------------------------------

def test_recent_durations_are_those_of_the_latest_successes_of_that_flow_only(runtime):
    past_successes("hello", [10, 20, 30, 40])            # newest first: 10 s is a day ago
    insert("hello", State.FAILED, timedelta(hours=1), timedelta(seconds=999))
    insert("hello", State.RUNNING, timedelta(minutes=5))
    past_successes("other", [500])
    past_successes("hello", [700], namespace="elsewhere")
    assert forecast_store.recent_durations(TENANT, "company.team", "hello") == [10, 20, 30, 40]
    assert forecast_store.recent_durations(TENANT, "company.team", "hello", limit=2) == [10, 20]
    assert forecast_store.recent_durations("other-tenant", "company.team", "hello") == []
    assert forecast_store.durations_by_flow(TENANT, [("company.team", "other"),
                                                     ("company.team", "other"),
                                                     ("company.team", "none")]) == {
        ("company.team", "other"): [500], ("company.team", "none"): []}


# -- the execution page -----------------------------------------------------------------------

def test_the_execution_page_shows_each_sla_with_its_deadline_and_time_left(client, runtime):
    execution = service.create_execution(runtime, deploy(runtime, GUARDED))
    work(runtime)
    block = sla_block(page(client, detail_url(execution)))
    deadline = execution.state.start_date + timedelta(hours=1)
    assert f"maxDuration MAX_DURATION · NONE · deadline {deadline:%Y-%m-%d %H:%M:%S} UTC" in block
    assert re.search(r"\((59m \d\ds|1h 00m) left\) · not violated", block)
    assert "goodMode EXECUTION_ASSERTION · NONE · {{ inputs.mode == 'good' }} · not violated" \
        in block


def test_the_execution_page_says_which_sla_was_violated_when_and_why(client, runtime):
    flow = deploy(runtime, GUARDED)
    two_hours_ago = utcnow() - timedelta(hours=2)      # past its deadline at its first pass
    execution = service.create_execution(runtime, flow, inputs={"mode": "bad"},
                                         now=two_hours_ago)
    work(runtime)
    block = sla_block(page(client, detail_url(execution)))
    assert re.search(r"maxDuration MAX_DURATION · NONE · deadline [-\d: ]+ UTC · violated at "
                     r"\d\d:\d\d:\d\d UTC: execution duration of PT2H[\d.]*S? exceed the "
                     r"maximum duration of PT1H\.", block), block
    assert re.search(r"goodMode EXECUTION_ASSERTION · NONE · \{\{ inputs.mode == 'good' }} · "
                     r"violated at \d\d:\d\d:\d\d UTC: assertion is false: "
                     r"\{\{ inputs.mode == 'good' }}\.", block), block
    assert "cannot meet SLA `maxDuration`" in block and "at risk" in block


def test_the_live_fragment_carries_the_sla_block_so_time_left_refreshes(client, runtime):
    execution = service.create_execution(runtime, deploy(runtime, GUARDED))
    work(runtime)
    live = page(client, detail_url(execution, "/live"))
    assert "hx-trigger" in live and " left)" in sla_block(live)


def test_a_running_execution_shows_its_expected_end_from_past_successful_runs(client, runtime):
    deploy(runtime, PLAIN)
    past_successes("plain", [60, 60, 60, 120, 300])
    running = insert("plain", State.RUNNING, timedelta(seconds=30))
    block = sla_block(page(client, detail_url(running)))
    p50 = running.state.start_date + timedelta(seconds=60)
    p95 = running.state.start_date + timedelta(seconds=300)
    assert (f"Expected end ~{p50:%H:%M:%S} (p50), by {p95:%H:%M:%S} (p95) UTC, from 5 past "
            f"successful runs.") in block
    assert "at risk" not in block


def test_once_the_p50_end_has_passed_the_forecast_says_so(client, runtime):
    deploy(runtime, PLAIN)
    past_successes("plain", [60, 60, 60, 120, 300])
    running = insert("plain", State.RUNNING, timedelta(seconds=90))
    block = sla_block(page(client, detail_url(running)))
    p50 = running.state.start_date + timedelta(seconds=60)
    assert f"Half of the past runs had ended by {p50:%H:%M:%S} (p50); 95% end by" in block
    assert "Expected end" not in block


def test_a_running_execution_past_the_p95_is_at_risk_on_its_page(client, runtime):
    deploy(runtime, PLAIN)
    past_successes("plain", [60, 60, 60])
    running = insert("plain", State.RUNNING, timedelta(minutes=10))
    block = sla_block(page(client, detail_url(running)))
    assert "at risk At risk: running longer than 95% of past successful runs (p95 1m 00s)" \
        in block


def test_an_ended_execution_without_sla_has_no_sla_block(client, runtime):
    deploy(runtime, PLAIN)
    past_successes("plain", [60, 60, 60])
    ended = insert("plain", State.SUCCESS, timedelta(minutes=10), timedelta(seconds=5))
    assert sla_block(page(client, detail_url(ended))) == ""


def test_an_sla_expression_is_shown_escaped(client, runtime):
    flow = deploy(runtime, GUARDED.replace("inputs.mode == 'good'",
                                           "'<b>bold</b>' != inputs.mode"))
    execution = service.create_execution(runtime, flow)
    work(runtime)
    body = page(client, detail_url(execution))
    assert "&lt;b&gt;bold&lt;/b&gt;" in body and "<b>bold</b>" not in body


# -- the list ------------------------------------------------------------------------------------

def test_the_list_flags_a_running_execution_older_than_its_flows_p95_and_not_a_young_one(
        client, runtime):
    deploy(runtime, PLAIN)
    past_successes("plain", [60, 60, 60, 90])
    old = insert("plain", State.RUNNING, timedelta(minutes=10))
    young = insert("plain", State.RUNNING, timedelta(seconds=20))
    done = insert("plain", State.SUCCESS, timedelta(minutes=20), timedelta(seconds=30))
    badges = risk_badges(page(client, LIST))
    assert badges == {old.id[:8]: "running longer than 95% of past successful runs (p95 1m 30s)"}
    assert young.id[:8] not in badges and done.id[:8] not in badges


def test_the_list_flags_a_running_execution_that_cannot_meet_its_max_duration(client, runtime):
    flow = deploy(runtime, GUARDED)
    late = insert("guarded", State.RUNNING, timedelta(hours=2))
    on_time = insert("guarded", State.RUNNING, timedelta(minutes=5))
    assert flow.revision == late.flow_revision
    badges = risk_badges(page(client, LIST))
    deadline = late.state.start_date + timedelta(hours=1)
    assert badges[late.id[:8]] in (
        f"cannot meet SLA `maxDuration` (deadline {deadline:%H:%M:%S} UTC)",
        f"cannot meet SLA `maxDuration` (deadline {deadline:%Y-%m-%d %H:%M:%S} UTC)")
    assert on_time.id[:8] not in badges


def test_without_three_past_successes_nothing_is_flagged(client, runtime):
    deploy(runtime, PLAIN)
    past_successes("plain", [60, 60])
    insert("plain", State.RUNNING, timedelta(hours=5))
    assert risk_badges(page(client, LIST)) == {}


def test_a_full_page_of_running_executions_at_risk_stays_under_100_kb(client, runtime):
    for index in range(20):
        past_successes(f"a_rather_long_flow_identifier_{index}", [60, 60, 60],
                       namespace=f"company.team.department.{index % 7}")
    for index in range(100):
        insert(f"a_rather_long_flow_identifier_{index % 20}", State.RUNNING,
               timedelta(minutes=10 + index), namespace=f"company.team.department.{index % 20 % 7}")
    response = client.get(LIST + "?size=100&q=state:RUNNING")
    assert response.status_code == 200
    assert len(risk_badges(response.get_data(as_text=True))) == 100
    assert len(response.data) < 100_000, len(response.data)
