"""Each trigger kind end to end: a real scheduler and real workers (and gunicorn for the
webhook) create and run the executions; the test deploys flows and reads the database."""
from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import requests

from kestra_lite.model.state import State, parse_iso, utcnow
from kestra_lite.services import executions as execution_service
from kestra_lite.services import flows as flow_service
from kestra_lite.services import triggers as trigger_service
from kestra_lite.store import executions as execution_store
from kestra_lite.store import triggers as trigger_store

from tests.e2e.conftest import start_scheduler, start_workers
from tests.faults.faults import wait_until

TENANT = "main"
NS = "company.team"
WAIT = 30
MAX_CREATION_LAG = timedelta(seconds=1)


def deploy(runtime, source: str):
    return flow_service.deploy(runtime, TENANT, textwrap.dedent(source))


def executions(flow_id: str) -> list:
    return execution_store.search_executions(TENANT, NS, flow_id, limit=1000)


def succeeded(flow_id: str, count: int) -> list | None:
    """The executions of `flow_id`, once `count` of them ended SUCCESS."""
    found = executions(flow_id)
    return found if sum(e.current is State.SUCCESS for e in found) >= count else None


def trigger_date(execution) -> datetime:
    return parse_iso(execution.trigger["variables"]["date"])


# -- Schedule ---------------------------------------------------------------------------------

EVERY_TWO_SECONDS = """
    id: ticker
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "fired for {{ trigger.date }}"
    triggers:
      - id: every-2s
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "*/2 * * * * *"
        withSeconds: true
"""


def test_the_scheduler_process_fires_consecutive_cron_dates_that_workers_run(
        runtime, processes):
    start_workers(runtime, processes)
    start_scheduler(runtime, processes)
    deploy(runtime, EVERY_TWO_SECONDS)

    fired = sorted(wait_until(lambda: succeeded("ticker", 3), WAIT, "3 scheduled runs",
                              processes), key=trigger_date)

    dates = [trigger_date(e) for e in fired]
    assert len(set(dates)) == len(dates), dates
    assert all(later - earlier == timedelta(seconds=2)
               for earlier, later in zip(dates, dates[1:])), dates
    assert all(date.second % 2 == 0 and date.microsecond == 0 for date in dates)
    for execution in fired:
        assert execution.trigger["id"] == "every-2s"
        lag = execution.state.start_date - trigger_date(execution)
        assert timedelta(0) <= lag < MAX_CREATION_LAG, (execution.id, lag)


YEARLY = """
    id: yearly
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "backfilling {{ trigger.date }}"
    triggers:
      - id: new-year
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "0 0 1 1 *"
"""


def test_a_backfill_run_by_the_scheduler_fires_each_past_date_once(runtime, processes):
    """A yearly schedule, so the live schedule stays silent while the 5 past dates run."""
    start_workers(runtime, processes)
    start_scheduler(runtime, processes)
    deploy(runtime, YEARLY)
    this_year = utcnow().year
    expected = [datetime(year, 1, 1, tzinfo=timezone.utc)
                for year in range(this_year - 5, this_year)]

    trigger_service.start_backfill(runtime, TENANT, NS, "yearly", "new-year",
                                   start=expected[0] - timedelta(days=1),
                                   end=expected[-1] + timedelta(days=1),
                                   labels={"run": "backfill"})

    wait_until(lambda: trigger_store.get_trigger(TENANT, NS, "yearly", "new-year").backfill
               is None, WAIT, "the backfill to end", processes)
    fired = sorted(wait_until(lambda: succeeded("yearly", 5), WAIT, "5 backfill runs",
                              processes), key=trigger_date)
    assert [trigger_date(e) for e in fired] == expected
    assert all(e.label("run") == "backfill" for e in fired)
    assert all(e.trigger["variables"].get("backfill") is True for e in fired)
    row = trigger_store.get_trigger(TENANT, NS, "yearly", "new-year")
    assert row.data["lastBackfill"]["fired"] == 5


# -- Flow -------------------------------------------------------------------------------------

def upstream_source(flow_id: str) -> str:
    return f"""
        id: {flow_id}
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{flow_id} done"
    """


AFTER_EXTRACT = """
    id: after-extract
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "after {{ trigger.executionId }}"
    triggers:
      - id: on-extract
        type: io.kestra.plugin.core.trigger.Flow
        conditions:
          - type: io.kestra.plugin.core.condition.ExecutionFlow
            namespace: company.team
            flowId: extract
          - type: io.kestra.plugin.core.condition.ExecutionStatus
            in: [SUCCESS]
"""

AFTER_BOTH = """
    id: after-both
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "both done, last {{ trigger.flowId }}"
    triggers:
      - id: on-both
        type: io.kestra.plugin.core.trigger.Flow
        preconditions:
          id: both
          flows:
            - namespace: company.team
              flowId: extract
              states: [SUCCESS]
            - namespace: company.team
              flowId: transform
              states: [SUCCESS]
"""


def run_upstream(runtime, flow, processes):
    execution = execution_service.create_execution(runtime, flow)
    wait_until(lambda: execution_store.load_execution(TENANT, execution.id).current
               is State.SUCCESS, WAIT, f"{flow.id} to succeed", processes)
    return execution


def test_flow_triggers_start_listeners_when_upstreams_succeed_in_real_processes(
        runtime, processes):
    start_workers(runtime, processes)
    start_scheduler(runtime, processes)
    extract = deploy(runtime, upstream_source("extract"))
    transform = deploy(runtime, upstream_source("transform"))
    deploy(runtime, AFTER_EXTRACT)
    deploy(runtime, AFTER_BOTH)

    first = run_upstream(runtime, extract, processes)
    [listener] = wait_until(lambda: succeeded("after-extract", 1), WAIT,
                            "the legacy listener to run", processes)
    assert listener.trigger["variables"]["executionId"] == first.id
    # the event that started after-extract also fed the preconditions window: one of two
    assert executions("after-both") == []
    [status] = trigger_service.preconditions_status(
        runtime, trigger_store.get_trigger(TENANT, NS, "after-both", "on-both"))
    assert [part.id for part in status.explanation.met] == ["condition_0"]
    assert [part.id for part in status.explanation.missing] == ["condition_1"]

    second = run_upstream(runtime, transform, processes)
    [both] = wait_until(lambda: succeeded("after-both", 1), WAIT,
                        "the preconditions listener to run", processes)
    assert both.trigger["variables"]["executionId"] == second.id
    assert both.trigger["variables"]["flowId"] == "transform"
    assert len(executions("after-extract")) == 1      # transform is not its upstream


# -- Webhook ----------------------------------------------------------------------------------

HOOK = """
    id: hook
    namespace: company.team
    tasks:
      - id: greet
        type: io.kestra.plugin.core.debug.Return
        format: "hello {{ trigger.body.name }}"
    outputs:
      - id: greeting
        type: STRING
        value: "{{ outputs.greet.value }}"
    triggers:
      - id: on-call
        type: io.kestra.plugin.core.trigger.Webhook
        key: e2e-secret-key
"""


def test_a_webhook_posted_to_gunicorn_runs_the_flow_with_the_request_body(
        runtime, processes, web):
    start_workers(runtime, processes)
    deploy(runtime, HOOK)

    response = requests.post(f"{web}/api/v1/executions/webhook/{NS}/hook/e2e-secret-key",
                             json={"name": "kestra"}, timeout=10)

    assert response.status_code == 200, response.text
    created = response.json()
    assert created["trigger"]["variables"]["body"] == {"name": "kestra"}
    final = wait_until(lambda: ended(created["id"]), WAIT, "the webhook run to end",
                       processes)
    assert final.current is State.SUCCESS
    assert final.task_runs[0].outputs == {"value": "hello kestra"}
    assert final.outputs == {"greeting": "hello kestra"}


def test_a_webhook_with_a_wrong_key_answers_404_and_creates_nothing(runtime, processes, web):
    deploy(runtime, HOOK)
    response = requests.post(f"{web}/api/v1/executions/webhook/{NS}/hook/wrong-key",
                             json={"name": "kestra"}, timeout=10)
    assert response.status_code == 404
    assert executions("hook") == []


def ended(execution_id: str):
    execution = execution_store.load_execution(TENANT, execution_id)
    return execution if execution.current.is_terminated else None
