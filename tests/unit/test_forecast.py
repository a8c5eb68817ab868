"""The duration forecast (model/forecast.py): percentiles by nearest rank, expected ends and
the "at risk" reasons, with `now` given."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kestra_lite.model.forecast import (Forecast, clock_time, expected_end, forecast,
                                        format_span, nearest_rank, risk)

START = datetime(2026, 5, 1, 11, 0, tzinfo=timezone.utc)
TYPICAL = Forecast(p50=timedelta(minutes=2), p95=timedelta(minutes=4, seconds=10), samples=20)


def test_fewer_than_three_past_runs_give_no_forecast():
    assert forecast([]) is None
    assert forecast([10.0, 20.0]) is None
    assert forecast([10.0, 20.0, 30.0]) is not None


def test_percentiles_are_taken_by_nearest_rank_whatever_the_order():
    durations = [float(n) for n in range(100, 0, -1)]      # 100 .. 1, newest first
    result = forecast(durations)
    assert result == Forecast(p50=timedelta(seconds=50), p95=timedelta(seconds=95), samples=100)


def test_with_few_samples_p95_is_the_longest_run():
    result = forecast([3.0, 1.0, 2.0])
    assert result.p50 == timedelta(seconds=2) and result.p95 == timedelta(seconds=3)
    assert result.samples == 3


def test_nearest_rank_of_a_single_value_is_that_value():
    assert nearest_rank([7.0], 50) == 7.0 and nearest_rank([7.0], 95) == 7.0


def test_negative_durations_are_ignored():
    assert forecast([-5.0, 1.0, 2.0]) is None


def test_the_expected_end_adds_p50_and_p95_to_the_start():
    assert expected_end(START, TYPICAL) == (START + timedelta(minutes=2),
                                            START + timedelta(minutes=4, seconds=10))


def test_a_young_execution_is_not_at_risk():
    assert risk(START, START + timedelta(minutes=1), TYPICAL, []) is None


def test_an_execution_past_the_p95_of_past_runs_is_at_risk():
    reason = risk(START, START + timedelta(minutes=5), TYPICAL, [])
    assert reason == "running longer than 95% of past successful runs (p95 4m 10s)"


def test_without_a_forecast_only_the_sla_deadline_counts():
    assert risk(START, START + timedelta(hours=5), None, []) is None
    assert risk(START, START + timedelta(minutes=59), None, [timedelta(hours=1)]) is None
    assert risk(START, START + timedelta(hours=1, seconds=1), None, [timedelta(hours=1)]) == \
        "cannot meet SLA `maxDuration` (deadline 12:00:00 UTC)"


def test_an_execution_the_median_run_would_finish_after_the_deadline_is_at_risk():
    """The time still needed is p50 minus the time elapsed (at least 0)."""
    slow = Forecast(p50=timedelta(minutes=50), p95=timedelta(minutes=55), samples=10)
    five_minutes_in = START + timedelta(minutes=5)               # 45 minutes still needed
    assert risk(START, five_minutes_in, slow, [timedelta(minutes=50)]) is None   # 11:50 = 11:50
    assert risk(START, five_minutes_in, slow, [timedelta(minutes=49)]) == \
        "cannot meet SLA `maxDuration` (deadline 11:49:00 UTC)"
    assert risk(START, START + timedelta(minutes=52), slow,
                [timedelta(minutes=53)]) is None     # past its p50: 0 needed, 11:52 < 11:53


def test_missing_an_sla_is_said_before_running_long_and_names_the_sla():
    reason = risk(START, START + timedelta(hours=2), TYPICAL, [("eight-hours", timedelta(hours=1))])
    assert reason == "cannot meet SLA `eight-hours` (deadline 12:00:00 UTC)"


def test_the_earliest_sla_that_cannot_be_met_is_named_in_declaration_order():
    reason = risk(START, START + timedelta(hours=3), None,
                  [("short", timedelta(hours=1)), ("long", timedelta(hours=2))])
    assert "`short`" in reason


def test_a_deadline_on_another_day_shows_its_date():
    now = datetime(2026, 5, 1, 23, 0, tzinfo=timezone.utc)
    assert clock_time(datetime(2026, 5, 2, 1, 0, tzinfo=timezone.utc), now) == \
        "2026-05-02 01:00:00"
    assert clock_time(datetime(2026, 5, 1, 23, 30, tzinfo=timezone.utc), now) == "23:30:00"


@pytest.mark.parametrize("seconds, text", [
    (0.25, "250ms"), (5, "5s"), (9.5, "9.5s"), (12.3, "12s"), (250, "4m 10s"),
    (2 * 3600 + 180, "2h 03m"), (3 * 86400 + 4 * 3600, "3d 04h"), (-3, "0ms")])
def test_spans_read_like_people_write_them(seconds, text):
    assert format_span(timedelta(seconds=seconds)) == text
