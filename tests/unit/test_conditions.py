"""Trigger conditions (semantics 9.4) evaluated against schedule dates and upstream
executions, with Kestra's expression engine."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kestra_lite.engine.conditions import (ConditionContext, ConditionError,
                                           all_conditions_match, condition_matches, describe,
                                           multiple_conditions)
from kestra_lite.model.execution import Attempt, Execution, TaskRun
from kestra_lite.model.state import State, StateInfo

C = "io.kestra.plugin.core.condition."
UTC = timezone.utc
NOW = datetime(2024, 5, 15, 10, tzinfo=UTC)


def cond(short: str, **properties) -> dict:
    return {"type": C + short, **properties}


def execution(namespace="company.team", flow_id="upstream", state=State.SUCCESS, labels=None,
              outputs=None, task_runs=None) -> Execution:
    return Execution(id="exec1", namespace=namespace, flow_id=flow_id, flow_revision=1,
                     state=StateInfo.new(state, NOW), labels=labels or [], outputs=outputs,
                     task_runs=task_runs or [])


def upstream(ex: Execution | None = None, state: State | None = None, **variables):
    ex = ex or execution()
    base = {"labels": {label["key"]: label["value"] for label in ex.labels},
            "flow": {"id": "downstream", "namespace": "company.team"}}
    return ConditionContext({**base, **variables}, execution=ex, state=state)


def schedule(date: str | datetime | None, zone="UTC", **variables):
    trigger = {"date": date} if isinstance(date, str) else {}
    ctx_date = date if isinstance(date, datetime) else None
    return ConditionContext({"trigger": trigger, **variables}, date=ctx_date, zone=zone)


def matches(condition: dict, ctx: ConditionContext) -> bool:
    return condition_matches(condition, ctx)


# -- execution conditions ------------------------------------------------------------------

def test_execution_flow_matches_the_upstream_namespace_and_flow_id():
    assert matches(cond("ExecutionFlow", namespace="company.team", flowId="upstream"),
                   upstream())
    assert not matches(cond("ExecutionFlow", namespace="company.team", flowId="other"),
                       upstream())
    assert not matches(cond("ExecutionFlow", namespace="company", flowId="upstream"),
                       upstream())


@pytest.mark.parametrize("properties, expected", [
    ({"namespace": "company.team"}, True),
    ({"namespace": "company"}, False),
    ({"namespace": "company", "comparison": "PREFIX"}, True),
    ({"namespace": "team", "comparison": "SUFFIX"}, True),
    ({"namespace": "company", "comparison": "SUFFIX"}, False),
    ({"namespace": "company", "prefix": True}, True),
    ({"namespace": "company", "comparison": "EQUALS", "prefix": True}, False),
])
def test_execution_namespace_compares_equals_prefix_or_suffix(properties, expected):
    assert matches(cond("ExecutionNamespace", **properties), upstream()) is expected


def test_execution_status_reads_the_event_state_not_the_current_one():
    ex = execution(state=State.RUNNING)
    assert matches(cond("ExecutionStatus", **{"in": ["FAILED"]}), upstream(ex, State.FAILED))
    assert not matches(cond("ExecutionStatus", **{"in": ["FAILED"]}), upstream(ex))
    assert not matches(cond("ExecutionStatus", notIn=["FAILED", "KILLED"]),
                       upstream(ex, State.FAILED))
    assert matches(cond("ExecutionStatus", notIn=["FAILED"]), upstream(ex))
    assert matches(cond("ExecutionStatus"), upstream(ex))


def test_execution_labels_requires_every_label_given_as_map_or_list():
    ex = execution(labels=[{"key": "env", "value": "prod"}, {"key": "team", "value": "a"},
                           {"key": "dry", "value": "true"}])
    assert matches(cond("ExecutionLabels", labels={"env": "prod", "dry": True}), upstream(ex))
    assert matches(cond("ExecutionLabels", labels=[{"key": "team", "value": "a"}]),
                   upstream(ex))
    assert not matches(cond("ExecutionLabels", labels={"env": "prod", "team": "b"}),
                       upstream(ex))
    assert not matches(cond("ExecutionLabels", labels={"missing": "x"}), upstream(ex))


def test_execution_outputs_is_false_without_outputs_and_sees_them_as_trigger_outputs():
    condition = cond("ExecutionOutputs", expression="{{ trigger.outputs.answer == 42 }}")
    assert not matches(condition, upstream(execution(outputs=None)))
    assert not matches(condition, upstream(execution(outputs={})))
    assert matches(condition, upstream(execution(outputs={"answer": 42})))
    assert not matches(condition, upstream(execution(outputs={"answer": 41})))


def _task_run(task_id: str, *attempt_states: State) -> TaskRun:
    return TaskRun(id=task_id, execution_id="exec1", namespace="company.team",
                   flow_id="upstream", task_id=task_id,
                   state=StateInfo.new(attempt_states[-1], NOW),
                   attempts=[Attempt(StateInfo.new(s, NOW)) for s in attempt_states])


def test_has_retry_attempt_needs_a_task_run_with_several_attempts():
    once = execution(task_runs=[_task_run("a", State.FAILED)])
    retried = execution(task_runs=[_task_run("a", State.FAILED, State.SUCCESS)])
    assert not matches(cond("HasRetryAttempt"), upstream(once))
    assert matches(cond("HasRetryAttempt"), upstream(retried))
    assert matches(cond("HasRetryAttempt", **{"in": ["FAILED"]}), upstream(retried))
    assert not matches(cond("HasRetryAttempt", **{"in": ["KILLED"]}), upstream(retried))
    assert not matches(cond("HasRetryAttempt", notIn=["FAILED", "SUCCESS"]), upstream(retried))


def test_execution_conditions_without_an_upstream_execution_say_so():
    with pytest.raises(ConditionError, match="ExecutionFlow needs an upstream execution"):
        matches(cond("ExecutionFlow", namespace="a", flowId="b"), schedule(NOW))


# -- expressions, flow, composition --------------------------------------------------------

@pytest.mark.parametrize("expression, expected", [
    ("{{ 1 == 1 }}", True), ("{{ 1 == 2 }}", False), ("0", False), ("", False),
    ("False", True), ("no", True), (True, True), (False, False),
    ("{{ inputs.size > 3 }}", True),
])
def test_expression_uses_kestra_truthiness(expression, expected):
    ctx = ConditionContext({"inputs": {"size": 5}})
    assert matches(cond("Expression", expression=expression), ctx) is expected


def test_a_caller_supplied_renderer_is_used_for_expressions():
    seen = []
    ctx = ConditionContext({}, render=lambda template: seen.append(template) or "false")
    assert not matches(cond("Expression", expression="{{ anything }}"), ctx)
    assert seen == ["{{ anything }}"]


def test_a_rendering_error_becomes_a_condition_error_naming_the_type():
    with pytest.raises(ConditionError, match="^Expression condition: Unable to find `nope`"):
        matches(cond("Expression", expression="{{ nope }}"), ConditionContext({}))


def test_flow_condition_and_flow_namespace_condition_test_the_trigger_s_own_flow():
    ctx = upstream()
    assert matches(cond("FlowCondition", namespace="company.team", flowId="downstream"), ctx)
    assert not matches(cond("FlowCondition", namespace="company.team", flowId="upstream"),
                       ctx)
    assert matches(cond("FlowNamespaceCondition", namespace="company.team"), ctx)
    assert not matches(cond("FlowNamespaceCondition", namespace="company"), ctx)
    assert matches(cond("FlowNamespaceCondition", namespace="company", prefix=True), ctx)


def test_not_matches_when_none_of_its_conditions_do_and_or_when_any_does():
    yes, no = cond("Expression", expression="true"), cond("Expression", expression="false")
    ctx = ConditionContext({})
    assert matches(cond("Not", conditions=[no, no]), ctx)
    assert not matches(cond("Not", conditions=[no, yes]), ctx)
    assert matches(cond("Or", conditions=[no, yes]), ctx)
    assert not matches(cond("Or", conditions=[no, no]), ctx)
    assert matches(cond("Not", conditions=[cond("Or", conditions=[no])]), ctx)


def test_multiple_condition_is_windowed_and_refused_as_a_single_condition():
    multiple = cond("MultipleCondition", id="both", conditions={"a": cond("Expression",
                                                                           expression="x")})
    with pytest.raises(ConditionError, match="time window"):
        matches(multiple, ConditionContext({}))
    others = [cond("Expression", expression="true"), multiple]
    assert all_conditions_match(others, ConditionContext({}))
    assert multiple_conditions(others) == [multiple]


def test_all_conditions_match_needs_every_condition_and_accepts_an_empty_list():
    yes, no = cond("Expression", expression="true"), cond("Expression", expression="false")
    ctx = ConditionContext({})
    assert all_conditions_match([], ctx)
    assert all_conditions_match([yes, yes], ctx)
    assert not all_conditions_match([yes, no], ctx)


def test_legacy_type_names_are_accepted():
    ctx = upstream()
    legacy = {"type": "io.kestra.core.models.conditions.types.ExecutionFlowCondition",
              "namespace": "company.team", "flowId": "upstream"}
    assert matches(legacy, ctx)
    with pytest.raises(ConditionError, match="Unknown condition type `io.acme.Nope`"):
        matches({"type": "io.acme.Nope"}, ctx)


def test_public_holiday_says_it_needs_a_calendar():
    with pytest.raises(ConditionError, match="PublicHoliday needs a holiday calendar"):
        matches(cond("PublicHoliday", country="FR"), schedule(NOW))


# -- date conditions -----------------------------------------------------------------------

@pytest.mark.parametrize("date, expected", [
    ("2024-05-13T09:00:00Z", True),       # a Monday
    ("2024-05-14T09:00:00Z", False),
    ("2024-05-12T23:30:00Z", True),       # Sunday in UTC, Monday 01:30 in Paris
    ("2024-05-13", True),
])
def test_day_week_is_computed_in_the_schedule_zone(date, expected):
    condition = cond("DayWeek", dayOfWeek="MONDAY")
    assert matches(condition, schedule(date, zone="Europe/Paris")) is expected


def test_day_week_reads_the_context_date_then_trigger_date_then_its_date_property():
    condition = cond("DayWeek", dayOfWeek="TUESDAY")
    assert matches(condition, schedule(datetime(2024, 5, 14, 9, tzinfo=UTC)))
    assert matches(condition, schedule("2024-05-14T09:00:00Z"))
    custom = cond("DayWeek", dayOfWeek="TUESDAY", date="{{ vars.when }}")
    assert matches(custom, schedule(NOW, vars={"when": "2024-05-21T09:00:00+02:00"}))
    assert not matches(custom, schedule(NOW, vars={"when": "2024-05-22T00:00:00Z"}))


def test_a_date_condition_without_any_date_is_an_error():
    with pytest.raises(ConditionError, match="DayWeek has no date to test"):
        matches(cond("DayWeek", dayOfWeek="MONDAY"), ConditionContext({}))
    with pytest.raises(ConditionError, match="cannot read the date `tomorrow`"):
        matches(cond("Weekend", date="tomorrow"), schedule(NOW))


def test_day_week_refuses_an_unknown_day():
    with pytest.raises(ConditionError, match="invalid dayOfWeek `FUNDAY`"):
        matches(cond("DayWeek", dayOfWeek="FUNDAY"), schedule(NOW))


@pytest.mark.parametrize("day, which, expected", [
    ("2024-05-06", "FIRST", True), ("2024-05-13", "FIRST", False),
    ("2024-05-13", "SECOND", True), ("2024-05-20", "THIRD", True),
    ("2024-05-27", "FOURTH", True), ("2024-05-27", "LAST", True),
    ("2024-05-20", "LAST", False), ("2024-04-29", "LAST", True),
    ("2024-05-07", "FIRST", False),       # a Tuesday
])
def test_day_week_in_month_finds_the_nth_or_last_monday(day, which, expected):
    condition = cond("DayWeekInMonth", dayOfWeek="MONDAY", dayInMonth=which)
    assert matches(condition, schedule(day + "T11:00:00Z")) is expected


@pytest.mark.parametrize("date, expected", [
    ("2024-05-18T12:00:00Z", True), ("2024-05-19T12:00:00Z", True),
    ("2024-05-17T12:00:00Z", False), ("2024-05-17T23:30:00Z", False),
])
def test_weekend_matches_saturday_and_sunday(date, expected):
    assert matches(cond("Weekend"), schedule(date)) is expected


def test_weekend_in_a_time_zone_ahead_of_utc():
    assert matches(cond("Weekend"), schedule("2024-05-17T23:30:00Z", zone="Europe/Paris"))


@pytest.mark.parametrize("time, expected", [
    ("15:59:59", False), ("16:00:00", False), ("16:00:01", True), ("19:59:59", True),
    ("20:00:00", False),
])
def test_time_between_excludes_both_bounds_like_kestra(time, expected):
    condition = cond("TimeBetween", after="16:00:00", before="20:00:00")
    assert matches(condition, schedule(f"2024-05-15T{time}Z")) is expected


def test_time_between_reads_bounds_without_offset_in_the_schedule_zone():
    condition = cond("TimeBetween", after="09:00", before="17:00")
    assert matches(condition, schedule("2024-05-15T08:30:00Z", zone="Europe/Paris"))
    assert not matches(condition, schedule("2024-05-15T08:30:00Z"))


def test_time_between_bounds_with_an_offset_are_compared_at_that_offset():
    condition = cond("TimeBetween", after="16:00:00+02:00")
    assert matches(condition, schedule("2024-05-15T14:30:00Z"))
    assert not matches(condition, schedule("2024-05-15T13:30:00Z"))
    assert matches(cond("TimeBetween", before="10:00:00Z"), schedule("2024-05-15T09:00:00Z"))


def test_time_between_with_after_later_than_before_spans_midnight():
    condition = cond("TimeBetween", after="22:00:00", before="06:00:00")
    assert matches(condition, schedule("2024-05-15T23:00:00Z"))
    assert matches(condition, schedule("2024-05-15T05:00:00Z"))
    assert not matches(condition, schedule("2024-05-15T12:00:00Z"))


def test_time_between_needs_a_bound_and_a_well_formed_time():
    with pytest.raises(ConditionError, match="TimeBetween needs `after`, `before` or both"):
        matches(cond("TimeBetween"), schedule(NOW))
    # YAML 1.1 reads an unquoted 16:00:00 as the number 57600
    with pytest.raises(ConditionError, match="quote it in YAML"):
        matches(cond("TimeBetween", after=57600), schedule(NOW))
    with pytest.raises(ConditionError, match="invalid time `25:00`"):
        matches(cond("TimeBetween", after="25:00"), schedule(NOW))


@pytest.mark.parametrize("date, expected", [
    ("2024-12-31T23:59:59Z", False), ("2025-01-01T00:00:00Z", True),
    ("2025-06-01T00:00:00Z", True), ("2025-12-31T23:59:59Z", True),
    ("2026-01-01T00:00:00Z", False),
])
def test_date_time_between_includes_both_bounds(date, expected):
    condition = cond("DateTimeBetween", after="2025-01-01T00:00:00Z",
                     before="2025-12-31T23:59:59Z")
    assert matches(condition, schedule(date)) is expected


def test_date_time_between_with_one_bound_or_a_local_bound():
    assert matches(cond("DateTimeBetween", after="2025-01-01T00:00:00+01:00"),
                   schedule("2024-12-31T23:00:00Z"))
    assert matches(cond("DateTimeBetween", before="2025-01-01T00:00:00"),
                   schedule("2024-12-31T22:59:59Z", zone="Europe/Paris"))
    assert matches(cond("DateTimeBetween", before="2025-01-01T00:00:00"),
                   schedule("2024-12-31T23:00:00Z", zone="Europe/Paris"))
    assert not matches(cond("DateTimeBetween", before="2025-01-01T00:00:00"),
                       schedule("2024-12-31T23:00:01Z", zone="Europe/Paris"))
    with pytest.raises(ConditionError, match="DateTimeBetween needs"):
        matches(cond("DateTimeBetween"), schedule(NOW))


# -- descriptions --------------------------------------------------------------------------

def test_describe_gives_one_readable_line_per_condition():
    assert describe(cond("ExecutionFlow", namespace="company", flowId="a")) == \
        "ExecutionFlow company.a"
    assert describe(cond("ExecutionStatus", **{"in": ["SUCCESS", "WARNING"]})) == \
        "ExecutionStatus (in: [SUCCESS, WARNING])"
    assert describe(cond("Not", conditions=[cond("Weekend")])) == "none of: Weekend"
