"""Flow-trigger preconditions and legacy MultipleCondition (semantics 9.3): parts, filters,
windows, accumulation and the explanation shown in the UI."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kestra_lite.engine import preconditions as pc
from kestra_lite.engine.conditions import ConditionContext, ConditionError
from kestra_lite.model.execution import Execution
from kestra_lite.model.flow_parser import parse_flow
from kestra_lite.model.state import State, StateInfo

UTC = timezone.utc
FLOWS = Path("/work/shared/conformance/flows")
C = "io.kestra.plugin.core.condition."
MS = timedelta(milliseconds=1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


NOW = at(2024, 5, 15, 10, 37, 12)


def execution(flow_id="flow-a", namespace="io.kestra.tests", state=State.SUCCESS,
              labels=None) -> Execution:
    return Execution(id=f"id-{flow_id}", namespace=namespace, flow_id=flow_id,
                     flow_revision=1, state=StateInfo.new(state, NOW),
                     labels=[{"key": k, "value": v} for k, v in (labels or {}).items()])


def event(ex: Execution, state: State | None = None) -> ConditionContext:
    """The context the service builds for one upstream state change."""
    variables = {"labels": {label["key"]: label["value"] for label in ex.labels},
                 "execution": {"id": ex.id}, "flow": {"id": "listen", "namespace": "n"}}
    return ConditionContext(variables, execution=ex, state=state or ex.current)


def preconditions(**raw) -> pc.Preconditions:
    trigger = {"id": "t", "type": "io.kestra.plugin.core.trigger.Flow",
               "preconditions": {"id": "pre", **raw}}
    (pre,) = pc.from_trigger(trigger)
    return pre


def where(*filters, operand=None) -> pc.Preconditions:
    entry = {"id": "w", "filters": list(filters)}
    if operand:
        entry["operand"] = operand
    return preconditions(where=[entry])


def windowed(**time_window) -> pc.Preconditions:
    return preconditions(flows=[{"namespace": "n"}], timeWindow=time_window)


# -- building ------------------------------------------------------------------------------

def test_flows_then_where_entries_become_numbered_parts_with_readable_descriptions():
    pre = preconditions(
        flows=[{"namespace": "io.kestra.tests", "flowId": "flow-a",
                "states": ["SUCCESS", "WARNING", "FAILED"], "labels": {"env": "prod"}},
               {"namespace": "io.kestra.tests"}],
        where=[{"id": "flow1", "filters": [
            {"field": "NAMESPACE", "type": "STARTS_WITH", "value": "io.kestra"},
            {"field": "FLOW_ID", "type": "EQUAL_TO", "value": "flow-a"}]}])
    assert [p.id for p in pre.parts] == ["condition_0", "condition_1", "condition_2_flow1"]
    assert [p.description for p in pre.parts] == [
        "io.kestra.tests.flow-a ends in SUCCESS, WARNING or FAILED with label env=prod",
        "any flow of namespace io.kestra.tests reaches one of the trigger's states",
        "where flow1: NAMESPACE starts with `io.kestra` and FLOW_ID equals `flow-a`"]
    assert pre.id == "pre" and pre.reset_on_success is True
    assert pre.time_window == {"type": "DURATION_WINDOW", "window": "P1D"}


def test_where_descriptions_cover_or_lists_and_expressions():
    pre = where({"field": "STATE", "type": "IN", "values": ["FAILED", "KILLED"]},
                {"field": "EXPRESSION", "type": "IS_TRUE", "value": "{{ x }}"}, operand="OR")
    assert pre.parts[0].description == \
        "where w: STATE is one of `FAILED`, `KILLED` or `{{ x }}` is true"


def test_reset_on_success_false_and_the_time_window_fields_are_kept():
    pre = preconditions(flows=[{"namespace": "n"}], resetOnSuccess=False,
                        timeWindow={"type": "SLIDING_WINDOW", "window": "PT2H"})
    assert pre.reset_on_success is False
    assert pre.time_window == {"type": "SLIDING_WINDOW", "window": "PT2H"}


def test_a_legacy_multiple_condition_becomes_a_duration_window_named_after_its_keys():
    trigger = {"id": "t", "type": "io.kestra.plugin.core.trigger.Flow", "conditions": [
        {"type": C + "ExecutionStatus", "in": ["SUCCESS"]},
        {"type": C + "MultipleCondition", "id": "both", "window": "PT6H",
         "windowAdvance": "PT1H", "conditions": {
             "first": {"type": C + "ExecutionFlow", "namespace": "n", "flowId": "a"},
             "second": {"type": C + "ExecutionFlow", "namespace": "n", "flowId": "b"}}}]}
    (pre,) = pc.from_trigger(trigger)
    assert pre.id == "both" and pre.reset_on_success is True
    assert [(p.id, p.description) for p in pre.parts] == [
        ("first", "first: ExecutionFlow n.a"), ("second", "second: ExecutionFlow n.b")]
    assert pre.time_window == {"type": "DURATION_WINDOW", "window": "PT6H",
                               "windowAdvance": "PT1H"}
    results = pc.evaluate_parts(pre, event(execution("a", "n")))
    assert results == {"first": True, "second": False}


def test_a_trigger_without_preconditions_has_no_windowed_sets():
    assert pc.from_trigger({"id": "t", "type": "io.kestra.plugin.core.trigger.Flow",
                            "conditions": [{"type": C + "Expression", "expression": "x"}]}) == []


# -- flows entries -------------------------------------------------------------------------

@pytest.mark.parametrize("entry, expected", [
    ({"namespace": "io.kestra.tests", "flowId": "flow-a"}, True),
    ({"namespace": "io.kestra.tests"}, True),
    ({"namespace": "io.kestra"}, False),
    ({"namespace": "io.kestra.tests", "flowId": "flow-b"}, False),
    ({"namespace": "io.kestra.tests", "states": ["FAILED"]}, True),
    ({"namespace": "io.kestra.tests", "states": ["SUCCESS"]}, False),
    ({"namespace": "io.kestra.tests", "labels": {"env": "prod"}}, True),
    ({"namespace": "io.kestra.tests", "labels": {"env": "prod", "team": "b"}}, False),
    ({"namespace": "io.kestra.tests", "labels": [{"key": "dry", "value": True}]}, True),
])
def test_a_flows_entry_checks_namespace_flow_id_event_state_and_labels(entry, expected):
    ex = execution(state=State.RUNNING, labels={"env": "prod", "dry": "true"})
    results = pc.evaluate_parts(preconditions(flows=[entry]), event(ex, State.FAILED))
    assert results == {"condition_0": expected}


# -- where filters -------------------------------------------------------------------------

@pytest.mark.parametrize("field, operator, operand, expected", [
    ("FLOW_ID", "EQUAL_TO", "flow-a", True),
    ("FLOW_ID", "EQUAL_TO", "flow", False),
    ("FLOW_ID", "NOT_EQUAL_TO", "flow-b", True),
    ("FLOW_ID", "NOT_EQUAL_TO", "flow-a", False),
    ("NAMESPACE", "STARTS_WITH", "io.kestra", True),
    ("NAMESPACE", "STARTS_WITH", "kestra", False),
    ("NAMESPACE", "ENDS_WITH", ".tests", True),
    ("NAMESPACE", "ENDS_WITH", "io", False),
    ("NAMESPACE", "CONTAINS", "kestra.te", True),
    ("NAMESPACE", "CONTAINS", "acme", False),
    ("FLOW_ID", "REGEX", r"flow-[a-c]", True),
    ("FLOW_ID", "REGEX", r"flow", False),            # a full match, not a search
    ("STATE", "EQUAL_TO", "WARNING", True),
    ("STATE", "EQUAL_TO", "SUCCESS", False),
    ("FLOW_ID", "IS_NOT_NULL", "x", True),
    ("FLOW_ID", "IS_NULL", "x", False),
    ("FLOW_ID", "IS_TRUE", "x", True),
    ("FLOW_ID", "IS_FALSE", "x", False),
])
def test_each_single_value_filter_operator(field, operator, operand, expected):
    pre = where({"field": field, "type": operator, "value": operand})
    ex = execution(state=State.RUNNING)
    assert pc.evaluate_parts(pre, event(ex, State.WARNING)) == {"condition_0_w": expected}


@pytest.mark.parametrize("operator, values, expected", [
    ("IN", ["FAILED", "WARNING"], True), ("IN", ["SUCCESS"], False),
    ("NOT_IN", ["SUCCESS"], True), ("NOT_IN", ["WARNING"], False),
])
def test_in_and_not_in_test_membership(operator, values, expected):
    pre = where({"field": "STATE", "type": operator, "values": values})
    assert pc.evaluate_parts(pre, event(execution(state=State.WARNING))) == {
        "condition_0_w": expected}


@pytest.mark.parametrize("template, operator, expected", [
    ("{{ labels.env == 'prod' }}", "IS_TRUE", True),
    ("{{ labels.env == 'dev' }}", "IS_TRUE", False),
    ("{{ labels.env == 'dev' }}", "IS_FALSE", True),
    ("{{ labels.env }}", "IS_FALSE", False),
    ("{{ labels.env }}", "IS_NOT_NULL", True),
    ("{{ labels.env }}", "IS_NULL", False),
    ("static", "EQUAL_TO", True),     # Kestra compares the rendered value with `value`
    ("{{ labels.env }}", "EQUAL_TO", False),
])
def test_an_expression_filter_tests_the_rendered_value(template, operator, expected):
    pre = where({"field": "EXPRESSION", "type": operator, "value": template})
    ex = execution(labels={"env": "prod"})
    assert pc.evaluate_parts(pre, event(ex)) == {"condition_0_w": expected}


def test_and_needs_every_filter_and_or_needs_one():
    filters = ({"field": "FLOW_ID", "type": "EQUAL_TO", "value": "flow-a"},
               {"field": "NAMESPACE", "type": "EQUAL_TO", "value": "other"})
    ctx = event(execution())
    assert pc.evaluate_parts(where(*filters), ctx) == {"condition_0_w": False}
    assert pc.evaluate_parts(where(*filters, operand="AND"), ctx) == {"condition_0_w": False}
    assert pc.evaluate_parts(where(*filters, operand="OR"), ctx) == {"condition_0_w": True}


def test_filters_short_circuit_so_a_later_expression_is_not_rendered():
    pre = where({"field": "FLOW_ID", "type": "EQUAL_TO", "value": "flow-a"},
                {"field": "EXPRESSION", "type": "IS_TRUE", "value": "{{ labels.missing }}"})
    assert pc.evaluate_parts(pre, event(execution("flow-b"))) == {"condition_0_w": False}
    with pytest.raises(ConditionError) as error:
        pc.evaluate_parts(pre, event(execution("flow-a")))
    assert str(error.value).startswith("Preconditions `pre`, condition `condition_0_w` (where w:")
    assert "Unable to find `missing`" in str(error.value)


def test_an_invalid_regex_is_a_condition_error_naming_the_part():
    pre = where({"field": "FLOW_ID", "type": "REGEX", "value": "flow-["})
    with pytest.raises(ConditionError, match="condition `condition_0_w`.*invalid REGEX"):
        pc.evaluate_parts(pre, event(execution()))


def test_flow_parts_need_the_upstream_execution():
    with pytest.raises(ConditionError, match="needs the upstream execution"):
        pc.evaluate_parts(preconditions(flows=[{"namespace": "n"}]), ConditionContext({}))


# -- accumulation --------------------------------------------------------------------------

def test_results_accumulate_with_or_and_the_set_is_satisfied_when_all_parts_were_true():
    pre = preconditions(flows=[{"namespace": "n", "flowId": "a"},
                               {"namespace": "n", "flowId": "b"}])
    first = pc.evaluate_parts(pre, event(execution("a", "n")))
    assert not pc.is_satisfied(pre, first)
    later_failure = pc.evaluate_parts(pre, event(execution("x", "n")))
    stored = pc.accumulate(first, later_failure)
    assert stored == {"condition_0": True, "condition_1": False}
    stored = pc.accumulate(stored, pc.evaluate_parts(pre, event(execution("b", "n"))))
    assert pc.is_satisfied(pre, stored)
    assert pc.accumulate({}, {"x": False}) == {"x": False}


def test_the_conformance_flow_listener_fires_after_flow_a_twice_then_flow_b():
    flow = parse_flow((FLOWS / "flow-trigger-preconditions-flow-listen.yaml").read_text())
    (pre,) = pc.from_trigger(flow.triggers[0])
    namespace = "io.kestra.tests.trigger.preconditions"
    flow_a = execution("flow-trigger-preconditions-flow-a", namespace, labels={"some": "label"})
    flow_b = execution("flow-trigger-preconditions-flow-b", namespace)
    stored: dict = {}
    for upstream in (flow_a, flow_a):
        stored = pc.accumulate(stored, pc.evaluate_parts(pre, event(upstream)))
        assert not pc.is_satisfied(pre, stored)
    assert stored == {"condition_0": True, "condition_1": False, "condition_2_flow1": True,
                      "condition_3_flow2": False}
    stored = pc.accumulate(stored, pc.evaluate_parts(pre, event(flow_b)))
    assert pc.is_satisfied(pre, stored)
    assert pc.window_at(pre, NOW) == pc.Window(at(2024, 5, 15), at(2024, 5, 16) - MS)


def test_flow_a_without_its_label_does_not_meet_the_where_part():
    flow = parse_flow((FLOWS / "flow-trigger-preconditions-flow-listen.yaml").read_text())
    (pre,) = pc.from_trigger(flow.triggers[0])
    flow_a = execution("flow-trigger-preconditions-flow-a",
                       "io.kestra.tests.trigger.preconditions", labels={"some": "other"})
    assert pc.evaluate_parts(pre, event(flow_a))["condition_2_flow1"] is False


# -- windows -------------------------------------------------------------------------------

def test_the_default_window_is_the_utc_day():
    window = pc.window_at(windowed(), NOW)
    assert window == pc.Window(at(2024, 5, 15), at(2024, 5, 15, 23, 59, 59, 999000))


def test_the_last_millisecond_belongs_to_the_window_and_the_next_starts_a_new_one():
    last = at(2024, 5, 15, 23, 59, 59, 999000)
    assert pc.window_at(windowed(), last).start == at(2024, 5, 15)
    assert pc.window_at(windowed(), last).contains(last)
    assert pc.window_at(windowed(), last + MS).start == at(2024, 5, 16)


@pytest.mark.parametrize("size, now, start", [
    ("PT6H", at(2024, 5, 15, 13, 5), at(2024, 5, 15, 12)),
    ("PT7H", at(2024, 5, 15, 22), at(2024, 5, 15, 21)),        # restarts at midnight
    ("PT1H", at(2024, 5, 15, 13, 59, 59), at(2024, 5, 15, 13)),
    ("PT15M", at(2024, 5, 15, 10, 37, 12), at(2024, 5, 15, 10, 30)),
    ("PT15M", at(2024, 5, 15, 10, 45), at(2024, 5, 15, 10, 45)),
    ("PT10M", at(2024, 5, 15, 10, 9, 59), at(2024, 5, 15, 10, 0)),
    ("PT30S", at(2024, 5, 15, 10, 37, 45), at(2024, 5, 15, 10, 37, 30)),
    ("P2D", at(2024, 5, 15, 10), at(2024, 5, 15)),
])
def test_duration_windows_are_buckets_laid_from_midnight(size, now, start):
    window = pc.window_at(windowed(window=size), now)
    assert window.start == start
    assert window.end == start + pc._duration(size, "window") - MS


def test_window_advance_shifts_the_buckets_and_now_stays_inside():
    pre = windowed(window="P1D", windowAdvance="PT6H")
    assert pc.window_at(pre, at(2024, 5, 15, 7)) == pc.Window(
        at(2024, 5, 15, 6), at(2024, 5, 16, 5, 59, 59, 999000))
    # before 06:00 the open window is the one that started yesterday at 06:00
    assert pc.window_at(pre, at(2024, 5, 15, 3)) == pc.Window(
        at(2024, 5, 14, 6), at(2024, 5, 15, 5, 59, 59, 999000))
    assert pc.window_at(pre, at(2024, 5, 15, 6)).start == at(2024, 5, 15, 6)


def test_six_hour_windows_advanced_by_six_hours_tile_the_day():
    pre = windowed(window="PT6H", windowAdvance="PT6H")
    starts = {pc.window_at(pre, at(2024, 5, 15, h, 30)).start.hour for h in range(24)}
    assert starts == {0, 6, 12, 18}
    assert pc.window_at(pre, at(2024, 5, 15, 13)).start == at(2024, 5, 15, 12)


def test_a_sliding_window_starts_at_its_first_event_and_restarts_once_expired():
    pre = windowed(type="SLIDING_WINDOW", window="PT1H")
    assert pc.window_at(pre, NOW) == pc.Window(NOW, NOW + timedelta(hours=1) - MS)
    first = NOW - timedelta(minutes=20)
    assert pc.window_at(pre, NOW, first_event=first).start == first
    assert pc.window_at(pre, NOW, first_event=NOW - timedelta(hours=1)).start == NOW
    assert pc.window_at(windowed(type="SLIDING_WINDOW"), NOW).end == NOW + timedelta(days=1) - MS


def test_a_daily_deadline_window_runs_from_midnight_and_closes_at_the_deadline():
    pre = windowed(type="DAILY_TIME_DEADLINE", deadline="09:00:00")
    assert pc.window_at(pre, at(2024, 5, 15, 8, 59, 59, 999000)) == pc.Window(
        at(2024, 5, 15), at(2024, 5, 15, 8, 59, 59, 999000))
    assert pc.window_at(pre, at(2024, 5, 15, 9)) is None
    assert pc.window_at(pre, at(2024, 5, 15, 23)) is None
    assert pc.window_at(pre, at(2024, 5, 16, 0)).start == at(2024, 5, 16)


def test_a_daily_time_window_is_open_between_its_start_and_end_times():
    pre = windowed(type="DAILY_TIME_WINDOW", startTime="06:00:00", endTime="09:00:00")
    assert pc.window_at(pre, at(2024, 5, 15, 5, 59, 59)) is None
    assert pc.window_at(pre, at(2024, 5, 15, 6)) == pc.Window(
        at(2024, 5, 15, 6), at(2024, 5, 15, 8, 59, 59, 999000))
    assert pc.window_at(pre, at(2024, 5, 15, 9)) is None


def test_a_daily_time_window_ending_before_it_starts_spans_midnight():
    pre = windowed(type="DAILY_TIME_WINDOW", startTime="22:00:00", endTime="02:00:00")
    assert pc.window_at(pre, at(2024, 5, 15, 23)) == pc.Window(
        at(2024, 5, 15, 22), at(2024, 5, 16, 1, 59, 59, 999000))
    assert pc.window_at(pre, at(2024, 5, 16, 1)).start == at(2024, 5, 15, 22)
    assert pc.window_at(pre, at(2024, 5, 15, 12)) is None


def test_a_malformed_window_field_is_a_condition_error():
    with pytest.raises(ConditionError, match="`deadline` must be a time `HH:MM:SS`"):
        pc.window_at(windowed(type="DAILY_TIME_DEADLINE", deadline="9am"), NOW)
    with pytest.raises(ConditionError, match="`window`: Invalid duration `soon`"):
        pc.window_at(windowed(window="soon"), NOW)


# -- explanation ---------------------------------------------------------------------------

def test_explain_lists_met_and_missing_parts_and_the_time_left():
    pre = preconditions(flows=[{"namespace": "n", "flowId": "a"},
                               {"namespace": "n", "flowId": "b"}],
                        timeWindow={"type": "DAILY_TIME_DEADLINE", "deadline": "12:00:00"})
    window = pc.window_at(pre, NOW)
    explanation = pc.explain(pre, {"condition_0": True}, NOW, window)
    assert [p.id for p in explanation.met] == ["condition_0"]
    assert [p.id for p in explanation.missing] == ["condition_1"]
    assert explanation.window == window
    assert explanation.time_left == timedelta(hours=1, minutes=22, seconds=48)
    assert pc.explain(pre, {}, NOW, None).time_left is None
    assert pc.explain(pre, {}, at(2024, 5, 15, 13), window).time_left == timedelta(0)
