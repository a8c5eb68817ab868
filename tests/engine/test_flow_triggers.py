"""Flow triggers: evaluated on every state change of other flows' executions, legacy
conditions, preconditions windows (injected time), resets, restarts, left-behind events.
Real database, Redis and a burst RQ worker."""
from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

from kestra_lite import scheduler
from kestra_lite.model.state import State, utcnow
from kestra_lite.services import executions as execution_service
from kestra_lite.services import flow_triggers
from kestra_lite.services import flows as flow_service
from kestra_lite.services import triggers as trigger_service
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import executions as execution_store
from kestra_lite.store import logs as log_store
from kestra_lite.store import db
from kestra_lite.store import triggers as trigger_store

TENANT = "main"
NS = "company.team"


def deploy(runtime, source: str):
    return flow_service.deploy(runtime, TENANT, textwrap.dedent(source))


def upstream(runtime, flow_id: str = "extract", *, fail: bool = False, labels: str = ""):
    task = ("type: io.kestra.plugin.core.execution.Fail" if fail else
            'type: io.kestra.plugin.core.debug.Return\n            format: "rows-42"')
    return deploy(runtime, f"""
        id: {flow_id}
        namespace: {NS}
        {labels}
        tasks:
          - id: only
            {task}
        outputs:
          - id: count
            type: STRING
            value: "{{{{ outputs.only.value ?? 'none' }}}}"
    """)


def run(runtime, flow, **kwargs):
    execution = execution_service.create_execution(runtime, flow, **kwargs)
    run_until_settled(runtime, TENANT, execution.id)
    return execution_store.load_execution(TENANT, execution.id)


def triggered(flow_id: str):
    return execution_store.search_executions(TENANT, NS, flow_id, limit=100)


def settle_all(runtime):
    for execution in execution_store.unfinished_executions():
        run_until_settled(runtime, TENANT, execution.id)


LISTENER = """
    id: load
    namespace: company.team
    labels:
      team: data
    inputs:
      - id: rows
        type: STRING
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "{{ inputs.rows }} from {{ trigger.executionId }}"
    triggers:
      - id: after-extract
        type: io.kestra.plugin.core.trigger.Flow
        inputs:
          rows: "{{ outputs.only.value }} / {{ trigger.outputs.count }}"
        labels:
          source: "{{ trigger.flowId }}"
        conditions:
          - type: io.kestra.plugin.core.condition.ExecutionStatus
            in: [SUCCESS]
          - type: io.kestra.plugin.core.condition.ExecutionFlow
            namespace: company.team
            flowId: extract
"""


def test_a_listener_starts_when_the_upstream_succeeds_with_its_outputs_and_correlation(runtime):
    flow = upstream(runtime)
    deploy(runtime, LISTENER)
    up = run(runtime, flow, labels={"system.correlationId": "corr-1"})
    [down] = triggered("load")
    assert down.trigger == {"id": "after-extract", "type": "io.kestra.plugin.core.trigger.Flow",
                            "variables": {"executionId": up.id, "namespace": NS,
                                          "flowId": "extract", "flowRevision": 1,
                                          "state": "SUCCESS", "outputs": {"count": "rows-42"}}}
    assert down.inputs == {"rows": "rows-42 / rows-42"}
    assert down.label("team") == "data" and down.label("source") == "extract"
    assert down.label("system.correlationId") == "corr-1"
    settle_all(runtime)
    assert execution_store.load_execution(TENANT, down.id).current is State.SUCCESS


def test_a_listener_ignores_states_and_flows_its_conditions_reject(runtime):
    failing = upstream(runtime, fail=True)
    other = upstream(runtime, "other")
    deploy(runtime, LISTENER)
    run(runtime, failing)
    run(runtime, other)
    assert triggered("load") == []


def test_the_default_states_are_the_terminal_ones_and_states_can_name_others(runtime):
    flow = upstream(runtime)
    deploy(runtime, """
        id: every-state
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{ trigger.state }}"
        triggers:
          - id: any
            type: io.kestra.plugin.core.trigger.Flow
            states: [RUNNING, SUCCESS]
            conditions:
              - type: io.kestra.plugin.core.condition.ExecutionFlow
                namespace: company.team
                flowId: extract
    """)
    deploy(runtime, """
        id: terminal-only
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{ trigger.state }}"
        triggers:
          - id: any
            type: io.kestra.plugin.core.trigger.Flow
            conditions:
              - type: io.kestra.plugin.core.condition.ExecutionFlow
                namespace: company.team
                flowId: extract
    """)
    run(runtime, flow)
    states = sorted(e.trigger["variables"]["state"] for e in triggered("every-state"))
    assert states == ["RUNNING", "SUCCESS"]
    assert [e.trigger["variables"]["state"] for e in triggered("terminal-only")] == ["SUCCESS"]


def test_a_flow_never_triggers_itself(runtime):
    flow = deploy(runtime, """
        id: self-listener
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: hi
        triggers:
          - id: namespace
            type: io.kestra.plugin.core.trigger.Flow
            conditions:
              - type: io.kestra.plugin.core.condition.ExecutionNamespace
                namespace: company.team
    """)
    run(runtime, flow)
    assert len(triggered("self-listener")) == 1


PRECONDITIONS = """
    id: report
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: both done
    triggers:
      - id: both
        type: io.kestra.plugin.core.trigger.Flow
        preconditions:
          id: both-upstreams
          {extra}
          flows:
            - namespace: company.team
              flowId: extract
              states: [SUCCESS]
            - namespace: company.team
              flowId: transform
              states: [SUCCESS]
"""


def test_preconditions_fire_once_when_every_flow_succeeded_in_the_window(runtime):
    extract, transform = upstream(runtime), upstream(runtime, "transform")
    deploy(runtime, PRECONDITIONS.format(extra=""))
    run(runtime, extract)
    run(runtime, extract)
    assert triggered("report") == []
    [status] = trigger_service.preconditions_status(
        runtime, trigger_store.get_trigger(TENANT, NS, "report", "both"))
    assert [p.id for p in status.explanation.met] == ["condition_0"]
    assert [p.id for p in status.explanation.missing] == ["condition_1"]
    run(runtime, transform)
    assert len(triggered("report")) == 1
    run(runtime, transform)            # reset on success: extract must succeed again
    assert len(triggered("report")) == 1
    run(runtime, extract)
    assert len(triggered("report")) == 2


def test_without_reset_on_success_every_later_match_fires_again(runtime):
    extract, transform = upstream(runtime), upstream(runtime, "transform")
    deploy(runtime, PRECONDITIONS.format(extra="resetOnSuccess: false"))
    run(runtime, extract)
    run(runtime, transform)
    run(runtime, extract)
    assert len(triggered("report")) == 2


def _event(runtime, execution, at: datetime) -> list:
    event = trigger_store.add_event(TENANT, execution.id, execution.current.value, at)
    return flow_triggers.process_event(runtime, event, at)


def test_results_expire_with_their_window_and_survive_a_restart(runtime, make_runtime):
    extract, transform = upstream(runtime), upstream(runtime, "transform")
    a, b = run(runtime, extract), run(runtime, transform)   # before the listener exists
    deploy(runtime, PRECONDITIONS.format(extra="""timeWindow:
            type: DURATION_WINDOW
            window: PT1H"""))
    t = datetime(2031, 3, 4, 10, 5, tzinfo=timezone.utc)
    assert _event(runtime, a, t) == []
    assert _event(runtime, b, t + timedelta(hours=1)) == []     # next window: a forgotten
    scheduler.tick(runtime, t + timedelta(hours=1, minutes=1))  # drops the expired window
    assert [w.window_start.hour for w in trigger_store.list_windows(TENANT, NS, "report")] \
        == [11]
    restarted = make_runtime()                                  # another process
    assert len(_event(restarted, a, t + timedelta(hours=1, minutes=30))) == 1


def test_an_event_left_behind_by_a_dead_process_is_evaluated_by_the_scheduler(runtime):
    flow = upstream(runtime)
    up = run(runtime, flow)                 # before the listener: no event written
    deploy(runtime, LISTENER)
    now = utcnow()
    trigger_store.add_event(TENANT, up.id, "SUCCESS", now)
    assert scheduler.tick(runtime, now) >= 0 and triggered("load") == []   # still fresh
    scheduler.tick(runtime, now + timedelta(seconds=3))
    assert len(triggered("load")) == 1
    scheduler.tick(runtime, now + timedelta(seconds=6))
    assert len(triggered("load")) == 1      # claimed once


def test_conditions_are_judged_outside_any_transaction(runtime, monkeypatch):
    """A slow condition expression must not hold SQLite's write lock (every worker would
    wait on it): the conditions are judged before the transaction that claims the event.
    The check wraps the real condition evaluation to observe where it runs."""
    seen = []
    judge = flow_triggers.all_conditions_match

    def observed(conditions, context):
        seen.append(db.database.in_transaction())
        return judge(conditions, context)

    monkeypatch.setattr(flow_triggers, "all_conditions_match", observed)
    flow = upstream(runtime)
    deploy(runtime, LISTENER)
    run(runtime, flow)
    assert len(triggered("load")) == 1
    assert seen and not any(seen)


def _while_judging(monkeypatch, change):
    """Run `change` after the listeners were judged and before the event is claimed: the
    window a user's edit can fall into (only the timing is arranged; the change is real)."""
    judge = flow_triggers._judge_event

    def judge_then_change(runtime_, event, execution):
        verdicts = judge(runtime_, event, execution)
        change()
        return verdicts
    monkeypatch.setattr(flow_triggers, "_judge_event", judge_then_change)


def test_a_listener_switched_off_while_the_event_is_judged_does_not_fire(runtime, monkeypatch):
    flow = upstream(runtime)
    deploy(runtime, LISTENER)
    _while_judging(monkeypatch, lambda: trigger_service.set_disabled(
        runtime, TENANT, NS, "load", "after-extract", True))
    run(runtime, flow)
    assert triggered("load") == []


def test_a_listener_deleted_while_the_event_is_judged_does_nothing(runtime, monkeypatch):
    flow = upstream(runtime)
    deploy(runtime, LISTENER)
    _while_judging(monkeypatch, lambda: flow_service.delete(TENANT, NS, "load"))
    run(runtime, flow)
    assert triggered("load") == []
    assert log_store.trigger_logs(TENANT, NS, "load") == []


def test_a_listener_edited_while_the_event_is_judged_is_judged_on_its_new_definition(
        runtime, monkeypatch):
    flow = upstream(runtime)
    deploy(runtime, LISTENER)
    _while_judging(monkeypatch, lambda: deploy(runtime, LISTENER.replace(
        "in: [SUCCESS]", "in: [FAILED]")))
    run(runtime, flow)
    assert triggered("load") == []          # the old definition matched SUCCESS
    monkeypatch.undo()
    deploy(runtime, LISTENER)
    _while_judging(monkeypatch, lambda: deploy(runtime, LISTENER.replace(
        "{{ trigger.flowId }}", "edited")))
    run(runtime, flow)
    [down] = triggered("load")
    assert down.label("source") == "edited"


def test_an_evaluation_error_is_logged_and_shown_on_the_trigger(runtime):
    flow = upstream(runtime)
    deploy(runtime, LISTENER.replace("{{ outputs.only.value }}", "{{ outputs.missing.value }}"))
    run(runtime, flow)
    assert triggered("load") == []
    trigger = trigger_store.get_trigger(TENANT, NS, "load", "after-extract")
    assert "failed on execution" in trigger.data["lastError"]["message"]
    [line] = log_store.trigger_logs(TENANT, NS, "load")
    assert line["level"] == "WARN" and "missing" in line["message"]


def test_a_disabled_listener_does_not_fire(runtime):
    flow = upstream(runtime)
    deploy(runtime, LISTENER)
    trigger_service.set_disabled(runtime, TENANT, NS, "load", "after-extract", True)
    run(runtime, flow)
    assert triggered("load") == []


def test_preconditions_and_a_legacy_multiple_condition_must_both_be_met(runtime):
    extract, transform = upstream(runtime), upstream(runtime, "transform")
    deploy(runtime, """
        id: report
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: both done
        triggers:
          - id: both
            type: io.kestra.plugin.core.trigger.Flow
            preconditions:
              id: extract-done
              flows:
                - namespace: company.team
                  flowId: extract
            conditions:
              - type: io.kestra.plugin.core.condition.MultipleCondition
                id: transform-done
                window: P1D
                conditions:
                  transform:
                    type: io.kestra.plugin.core.condition.ExecutionFlow
                    namespace: company.team
                    flowId: transform
    """)
    run(runtime, extract)
    assert triggered("report") == []
    run(runtime, transform)
    assert len(triggered("report")) == 1


def test_editing_the_preconditions_starts_their_windows_again(runtime):
    extract, transform = upstream(runtime), upstream(runtime, "transform")
    upstream(runtime, "other")
    deploy(runtime, PRECONDITIONS.format(extra=""))
    run(runtime, extract)                       # condition_0 (extract) met
    deploy(runtime, PRECONDITIONS.format(extra="").replace("flowId: extract",
                                                           "flowId: other"))
    run(runtime, transform)                     # condition_0 is now `other`: not met
    assert triggered("report") == []


def test_a_broken_listener_row_neither_stops_the_others_nor_the_scheduler(runtime):
    """A definition that slipped past validation (an older version's row) fails on its own:
    logged on it, while the other listeners fire and the sweep keeps going."""
    flow = upstream(runtime)
    deploy(runtime, LISTENER)
    trigger_store.insert_trigger(trigger_store.Trigger(
        tenant=TENANT, namespace=NS, flow_id="broken", trigger_id="bad", kind="Flow",
        revision=1, updated=utcnow(), definition={
            "type": "io.kestra.plugin.core.trigger.Flow", "conditions": [{
                "type": "io.kestra.plugin.core.condition.MultipleCondition", "id": "m",
                "conditions": ["not a condition"]}]}))
    up = run(runtime, flow)
    assert len(triggered("load")) == 1
    broken = trigger_store.get_trigger(TENANT, NS, "broken", "bad")
    assert "failed on execution" in broken.data["lastError"]["message"]
    trigger_store.add_event(TENANT, up.id, "SUCCESS", utcnow() - timedelta(seconds=5))
    scheduler.tick(runtime, utcnow())          # does not raise
    assert len(triggered("load")) == 2
