"""The filter language of the list pages (model.filters)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.datastructures import MultiDict

from kestra_lite.model.filters import (PAGE_KEYS, Criterion, FilterError, add_criterion,
                                       filters_from_api, parse_filters)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def parse(query, page="executions"):
    return parse_filters(query, page, now=NOW)


def error_of(query, page="executions"):
    with pytest.raises(FilterError) as caught:
        parse(query, page)
    return caught.value


def test_an_empty_query_has_no_criteria_and_no_text():
    filters = parse("   ")
    assert filters.criteria == [] and filters.text is None and filters.to_query() == ""


def test_states_are_case_insensitive_repeatable_and_any_of():
    filters = parse("state:failed State:WARNING,killed")
    assert filters.states == ["FAILED", "WARNING", "KILLED"]
    assert filters.criteria == [Criterion("state", "FAILED"), Criterion("state", "WARNING,KILLED")]


def test_an_unknown_state_names_the_criterion_and_the_states_expected():
    error = error_of("state:FOO")
    assert error.criterion == "state:FOO"
    assert error.message.startswith("state:FOO: unknown state FOO; expected one of CREATED")
    assert "FAILED" in error.message


def test_namespace_flow_and_trigger_are_kept_as_given():
    filters = parse("namespace:company.team flow:hello trigger:4xYz")
    assert (filters.namespace, filters.flow_id, filters.trigger_execution_id) == (
        "company.team", "hello", "4xYz")


def test_a_namespace_with_a_space_or_slash_is_refused():
    assert "expected a namespace" in error_of('namespace:"a b"').message
    assert "expected a namespace" in error_of("namespace:a/b").message


def test_labels_take_equals_or_colon_and_must_all_match():
    filters = parse('label:env=prod label:team:data label:"owner=Jane Doe"')
    assert filters.labels == [("env", "prod"), ("team", "data"), ("owner", "Jane Doe")]
    assert filters.to_query() == 'label:env=prod label:team=data label:"owner=Jane Doe"'
    assert "expected a label as key=value" in error_of("label:env").message


def test_a_system_label_criterion_is_noticed():
    assert not parse("label:env=prod").names_system_label()
    assert parse("label:system.correlationId=abc").names_system_label()


@pytest.mark.parametrize("span, expected", [
    ("15m", timedelta(minutes=15)), ("24h", timedelta(hours=24)), ("7d", timedelta(days=7)),
    ("2w", timedelta(weeks=2)), ("PT24H", timedelta(hours=24)), ("p1d", timedelta(days=1)),
])
def test_since_resolves_against_now_into_a_start(span, expected):
    filters = parse(f"since:{span}")
    assert filters.start == NOW - expected and filters.end is None and filters.since == expected


def test_a_bad_window_says_what_is_expected():
    error = error_of("since:yesterday")
    assert error.criterion == "since:yesterday"
    assert "expected a duration such as 15m, 24h, 7d, 2w or PT24H" in error.message


def test_from_and_to_take_dates_and_datetimes_in_utc():
    filters = parse("from:2026-11-01 to:2026-11-02T10:30")
    assert filters.start == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert filters.end == datetime(2026, 11, 2, 10, 30, tzinfo=timezone.utc)
    whole_day = parse("to:2026-11-02").end
    assert whole_day.date().isoformat() == "2026-11-02" and whole_day.hour == 23
    offset = parse("from:2026-11-01T10:00+02:00").start
    assert offset == datetime(2026, 11, 1, 8, tzinfo=timezone.utc)


def test_from_after_to_and_since_with_from_are_refused():
    error = error_of("from:2026-11-05 to:2026-11-01")
    assert error.criterion == "from:2026-11-05" and "from is after to:2026-11-01" in error.message
    error = error_of("since:24h from:2026-11-01")
    assert error.criterion == "since:24h" and "cannot be combined with from:2026-11-01" in error.message
    assert "expected a date" in error_of("from:tomorrow").message


def test_scope_child_and_level_take_their_enumerations():
    filters = parse("scope:system child:main")
    assert (filters.scope, filters.child) == ("SYSTEM", "MAIN")
    assert parse("child:ALL").child is None
    assert parse("level:warning", "logs").min_level == "WARN"
    assert "expected one of USER, SYSTEM" in error_of("scope:all").message
    assert "expected one of TRACE, DEBUG, INFO, WARN, ERROR" in error_of("level:loud", "logs").message


def test_logs_take_an_execution_and_blueprints_take_tags():
    assert parse("execution:abc level:ERROR", "logs").execution_id == "abc"
    assert parse('tag:"Getting Started" tag:Core', "blueprints").tags == ["Getting Started", "Core"]


def test_a_key_of_another_page_or_an_unknown_key_is_refused_with_the_keys_of_the_page():
    error = error_of("level:INFO")
    assert error.criterion == "level:INFO"
    assert "unknown filter level" in error.message and "state:, namespace:" in error.message
    assert "unknown filter foo" in error_of("foo:bar", "flows").message
    assert "namespace:, label:, scope:" in error_of("state:FAILED", "flows").message


def test_a_single_valued_key_given_twice_is_refused():
    error = error_of("namespace:a namespace:b")
    assert error.criterion == "namespace:b" and "given twice" in error.message


def test_free_text_is_everything_else_and_quotes_keep_colons_and_spaces():
    filters = parse('hello "error: timeout" state:FAILED world', "executions")
    assert filters.words == ["hello", "error: timeout", "world"]
    assert filters.text == "hello error: timeout world"
    assert filters.to_query() == 'state:FAILED hello "error: timeout" world'


def test_quoted_values_may_hold_escaped_quotes():
    filters = parse(r'label:"msg=say \"hi\""')
    assert filters.labels == [("msg", 'say "hi"')]
    assert parse(filters.to_query()).labels == filters.labels


def test_to_query_round_trips():
    query = 'state:FAILED namespace:company label:"env=prod west" since:24h free text'
    filters = parse(query)
    assert filters.to_query() == query
    assert parse(filters.to_query()).to_query() == query


def test_query_without_drops_one_chip_and_keeps_the_text():
    filters = parse("state:FAILED namespace:company since:24h hello")
    assert filters.query_without(1) == "state:FAILED since:24h hello"
    assert filters.query_without(0) == "namespace:company since:24h hello"


def test_add_criterion_appends_a_chip_before_the_free_text():
    assert add_criterion("state:FAILED hello", "namespace", "company") == \
        "state:FAILED namespace:company hello"
    assert add_criterion("", "label", "env=prod west") == 'label:"env=prod west"'


def test_add_criterion_does_not_repeat_a_chip_and_replaces_single_valued_keys():
    assert add_criterion("state:FAILED", "state", "failed") == "state:FAILED"
    assert add_criterion("state:FAILED,WARNING", "state", "WARNING") == "state:FAILED,WARNING"
    assert add_criterion("state:FAILED", "state", "KILLED") == "state:FAILED state:KILLED"
    assert add_criterion("namespace:a flow:x", "namespace", "b") == "flow:x namespace:b"
    assert add_criterion("label:env=dev label:team=a", "label", "env=prod") == \
        "label:team=a label:env=prod"
    assert add_criterion("from:2026-11-01 to:2026-11-02", "since", "24h") == "since:24h"
    assert add_criterion("since:24h", "from", "2026-11-01") == "from:2026-11-01"


def test_page_keys_cover_every_page():
    assert set(PAGE_KEYS) == {"executions", "flows", "logs", "dashboard", "blueprints",
                              "triggers"}
    assert PAGE_KEYS["flows"] == ("namespace", "label", "scope")
    assert PAGE_KEYS["triggers"] == ("namespace", "flow", "type", "enabled")
    with pytest.raises(ValueError):
        parse_filters("", "nope")


def test_trigger_types_are_case_insensitive_repeatable_and_any_of():
    filters = parse("type:schedule Type:FLOW,webhook namespace:company", "triggers")
    assert filters.trigger_types == ["Schedule", "Flow", "Webhook"]
    assert filters.to_query() == "type:Schedule type:Flow,Webhook namespace:company"
    assert add_criterion("type:Schedule", "type", "Flow") == "type:Schedule type:Flow"


def test_an_unknown_trigger_type_names_the_types_expected():
    error = error_of("type:Cron", "triggers")
    assert error.criterion == "type:Cron"
    assert error.message == ("type:Cron: unknown trigger type Cron; expected one of Schedule, "
                             "Flow, Webhook, ScheduleOnDates")


def test_enabled_takes_true_or_false_only_on_the_triggers_page():
    assert parse("enabled:TRUE", "triggers").enabled is True
    assert parse("enabled:false", "triggers").enabled is False
    assert parse("hello", "triggers").enabled is None
    assert error_of("enabled:yes", "triggers").message == "enabled:yes: expected true or false"
    assert "filters on this page: state:" in error_of("enabled:true").message


def test_filters_from_api_reads_kestras_legacy_parameters():
    args = MultiDict([("namespace", "company"), ("flowId", "hello"), ("state", "FAILED"),
                      ("state", "warning"), ("labels", "env:prod"), ("labels", "team:a"),
                      ("q", "abc"), ("scope", "USER"), ("childFilter", "CHILD"),
                      ("triggerExecutionId", "parent1"), ("timeRange", "PT24H")])
    filters = filters_from_api(args, "executions", now=NOW)
    assert filters.namespace == "company" and filters.flow_id == "hello"
    assert filters.states == ["FAILED", "WARNING"]
    assert filters.labels == [("env", "prod"), ("team", "a")]
    assert filters.text == "abc" and filters.scope == "USER" and filters.child == "CHILD"
    assert filters.trigger_execution_id == "parent1"
    assert filters.start == NOW - timedelta(hours=24)


def test_filters_from_api_reads_dates_levels_and_both_scopes():
    args = {"startDate": "2026-11-01T10:00:00.000Z", "endDate": "2026-11-02T00:00:00+01:00",
            "minLevel": "WARN", "scope": ["USER", "SYSTEM"]}
    filters = filters_from_api(args, "logs", now=NOW)
    assert filters.start == datetime(2026, 11, 1, 10, tzinfo=timezone.utc)
    assert filters.end == datetime(2026, 11, 1, 23, tzinfo=timezone.utc)
    assert filters.min_level == "WARN" and filters.scope is None


def test_filters_from_api_refuses_bad_values_naming_the_parameter():
    with pytest.raises(FilterError, match="unknown state NOPE"):
        filters_from_api({"state": "NOPE"}, "executions")
    with pytest.raises(FilterError, match="timeRange=PT1H: cannot be combined with startDate"):
        filters_from_api({"timeRange": "PT1H", "startDate": "2026-11-01"}, "executions")
    with pytest.raises(FilterError, match="after endDate"):
        filters_from_api({"startDate": "2026-11-05", "endDate": "2026-11-01"}, "executions")


def test_the_api_accepts_the_filter_bar_query_on_top_of_kestra_parameters():
    from werkzeug.datastructures import MultiDict
    filters = filters_from_api(MultiDict([("namespace", "company"),
                                          ("filter", "state:FAILED label:env=prod etl")]),
                               "executions")
    assert filters.namespace == "company" and filters.states == ["FAILED"]
    assert filters.labels == [("env", "prod")] and filters.text == "etl"
    with pytest.raises(FilterError, match="state:NOPE"):
        filters_from_api(MultiDict([("filter", "state:NOPE")]), "executions")
