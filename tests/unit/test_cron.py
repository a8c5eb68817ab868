"""Cron schedules (semantics 9.1): syntax, time zones, DST, leap years, ordering."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from kestra_lite.model.cron import Cron, CronError

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def at(*args, tz=UTC) -> datetime:
    return datetime(*args, tzinfo=tz)


def fires(expression: str, start: datetime, count: int, **options) -> list[datetime]:
    cron = Cron.parse(expression, **options)
    dates, current = [], start
    for _ in range(count):
        current = cron.next_after(current)
        dates.append(current)
    return dates


def local(dates, zone=PARIS, fmt="%m-%d %H:%M") -> list[str]:
    return [d.astimezone(zone).strftime(fmt) for d in dates]


# -- syntax --------------------------------------------------------------------------------

@pytest.mark.parametrize("nickname, expected", [
    ("@yearly", at(2025, 1, 1)), ("@annually", at(2025, 1, 1)),
    ("@monthly", at(2024, 6, 1)), ("@weekly", at(2024, 5, 19)),
    ("@daily", at(2024, 5, 16)), ("@midnight", at(2024, 5, 16)),
    ("@hourly", at(2024, 5, 15, 11)), ("@DAILY", at(2024, 5, 16)),
])
def test_each_nickname_fires_at_its_canonical_date(nickname, expected):
    assert Cron.parse(nickname).next_after(at(2024, 5, 15, 10, 30)) == expected


def test_a_nickname_also_works_with_seconds():
    assert Cron.parse("@hourly", with_seconds=True).next_after(at(2024, 5, 15, 10, 30)) == \
        at(2024, 5, 15, 11)


@pytest.mark.parametrize("expression, expected_minutes", [
    ("7 * * * *", [7]),
    ("10-12 * * * *", [10, 11, 12]),
    ("*/20 * * * *", [0, 20, 40]),
    ("10-40/15 * * * *", [10, 25, 40]),
    ("5/25 * * * *", [5, 30, 55]),
    ("1,2,59 * * * *", [1, 2, 59]),
    ("0-5/2,50 * * * *", [0, 2, 4, 50]),
])
def test_minute_field_syntax_values_ranges_steps_and_lists(expression, expected_minutes):
    dates = fires(expression, at(2024, 5, 15, 9, 59, 59), len(expected_minutes))
    assert [d.minute for d in dates] == expected_minutes
    assert all(d.hour == 10 for d in dates)


def test_month_names_and_lowercase_day_names_are_accepted():
    dates = fires("0 12 * jan,Mar mon-wed", at(2024, 1, 1), 4)
    assert [d.strftime("%m-%d %a") for d in dates] == [
        "01-01 Mon", "01-02 Tue", "01-03 Wed", "01-08 Mon"]


@pytest.mark.parametrize("weekday", ["0", "7", "SUN", "sun"])
def test_day_of_week_zero_seven_and_sun_all_mean_sunday(weekday):
    assert Cron.parse(f"0 0 * * {weekday}").next_after(at(2024, 5, 15)) == at(2024, 5, 19)


def test_a_range_ending_on_seven_or_sun_includes_sunday():
    for expression in ("0 0 * * 5-7", "0 0 * * FRI-SUN"):
        assert [d.strftime("%a") for d in fires(expression, at(2024, 5, 15), 4)] == [
            "Fri", "Sat", "Sun", "Fri"]
    assert len({d.strftime("%a") for d in fires("0 0 * * MON-SUN", at(2024, 5, 15), 7)}) == 7


def test_question_mark_is_accepted_in_the_day_fields_like_quartz():
    assert [d.strftime("%a") for d in fires("0 0 ? * MON", at(2024, 5, 15), 2)] == [
        "Mon", "Mon"]
    assert fires("0 0 15 * ?", at(2024, 5, 15), 1) == [at(2024, 6, 15)]


def test_day_of_month_and_day_of_week_both_restricted_match_either():
    dates = fires("0 0 1 * MON", at(2024, 5, 25), 4)
    assert [d.strftime("%m-%d %a") for d in dates] == [
        "05-27 Mon", "06-01 Sat", "06-03 Mon", "06-10 Mon"]


def test_with_seconds_puts_the_seconds_first():
    assert fires("*/5 * * * * *", at(2024, 5, 15, 10, 0, 1), 3, with_seconds=True) == [
        at(2024, 5, 15, 10, 0, 5), at(2024, 5, 15, 10, 0, 10), at(2024, 5, 15, 10, 0, 15)]
    assert Cron.parse("30 0 12 * * *", with_seconds=True).next_after(at(2024, 5, 15)) == \
        at(2024, 5, 15, 12, 0, 30)


def test_without_seconds_fire_dates_fall_on_whole_minutes():
    assert Cron.parse("* * * * *").next_after(at(2024, 5, 15, 10, 0, 0, 500)) == \
        at(2024, 5, 15, 10, 1)


@pytest.mark.parametrize("expression, options, message", [
    ("* * *", {}, "Invalid cron expression `* * *`: expected 5 fields (use `withSeconds: "
                  "true` for 6 fields), got 3"),
    ("* * * * *", {"with_seconds": True}, "expected 6 fields (seconds first"),
    ("61 * * * *", {}, "Invalid minute `61` in cron expression `61 * * * *`: out of range 0-59"),
    ("0 24 * * *", {}, "Invalid hour `24`"),
    ("0 0 0 * *", {}, "Invalid day-of-month `0`"),
    ("0 0 * 13 *", {}, "Invalid month `13`"),
    ("0 0 * * 8", {}, "Invalid day-of-week `8`"),
    ("0 0 * * MOX", {}, "Invalid day-of-week `MOX`"),
    ("*/0 * * * *", {}, "Invalid step `/0`"),
    ("*/x * * * *", {}, "Invalid step `/x`"),
    ("30-10 * * * *", {}, "Invalid minute range `30-10`"),
    ("0 0 L * *", {}, "`L`, `W` and `#` are not supported"),
    ("0 0 * * MON#1", {}, "Invalid day-of-week `MON#1`"),
    ("? * * * *", {}, "`?` is only allowed in day-of-month and day-of-week"),
    ("1,,2 * * * *", {}, "Empty minute list item"),
    ("@reboot", {}, "unknown nickname"),
    ("", {}, "must be a non-empty string"),
    ("0 0 30 2 *", {}, "would never fire"),
    ("0 0 31 4,6 *", {}, "would never fire"),
    ("0 9 * * *", {"timezone": "Mars/Olympus"}, "Invalid timezone `Mars/Olympus`"),
])
def test_bad_expressions_are_refused_with_a_message_naming_the_problem(expression, options,
                                                                         message):
    with pytest.raises(CronError) as error:
        Cron.parse(expression, **options)
    assert message in str(error.value)


def test_cron_error_is_a_value_error():
    assert issubclass(CronError, ValueError)


def test_constructing_directly_validates_like_parse():
    with pytest.raises(CronError):
        Cron("bad")
    assert Cron("0 9 * * *") == Cron.parse(" 0 9 * * * ")


# -- time zones and DST --------------------------------------------------------------------

def test_a_schedule_fires_at_its_wall_clock_time_in_its_time_zone():
    cron = Cron.parse("0 9 * * *", timezone="Europe/Paris")
    assert cron.next_after(at(2024, 1, 10)) == at(2024, 1, 10, 8)     # winter, UTC+1
    assert cron.next_after(at(2024, 7, 10)) == at(2024, 7, 10, 7)     # summer, UTC+2
    assert cron.next_after(at(2024, 1, 10)).tzinfo is UTC


def test_a_nonexistent_local_time_fires_once_at_the_end_of_the_paris_gap():
    cron = Cron.parse("30 2 * * *", timezone="Europe/Paris")
    dates = cron.dates_between(at(2024, 3, 29), at(2024, 4, 2))
    assert local(dates) == ["03-29 02:30", "03-30 02:30", "03-31 03:00", "04-01 02:30"]


def test_a_repeated_local_time_fires_once_at_its_first_occurrence_in_paris():
    cron = Cron.parse("30 2 * * *", timezone="Europe/Paris")
    dates = cron.dates_between(at(2024, 10, 26), at(2024, 10, 29))
    assert dates == [at(2024, 10, 26, 0, 30), at(2024, 10, 27, 0, 30), at(2024, 10, 28, 1, 30)]


def test_every_fifteen_minutes_across_spring_forward_has_no_gap_and_no_duplicate():
    cron = Cron.parse("*/15 * * * *", timezone="Europe/Paris")
    dates = cron.dates_between(at(2024, 3, 30, 23), at(2024, 3, 31, 3))
    assert all(b - a == timedelta(minutes=15) for a, b in zip(dates, dates[1:]))
    assert "03-31 01:45" in local(dates) and "03-31 03:00" in local(dates)


def test_every_fifteen_minutes_across_fall_back_never_repeats_a_local_time():
    cron = Cron.parse("*/15 * * * *", timezone="Europe/Paris")
    dates = cron.dates_between(at(2024, 10, 26, 22), at(2024, 10, 27, 4))
    walls = local(dates)
    assert len(walls) == len(set(walls))
    assert walls[walls.index("10-27 02:45") + 1] == "10-27 03:00"
    expected = [f"{h:02d}:{m:02d}" for h in range(0, 5) for m in (0, 15, 30, 45)]
    assert [w[6:] for w in walls if w.startswith("10-27")][:len(expected)] == expected


@pytest.mark.parametrize("day", [datetime(2024, 3, 31), datetime(2024, 10, 27)])
def test_an_hourly_schedule_fires_every_existing_local_hour_on_a_paris_dst_day(day):
    cron = Cron.parse("0 * * * *", timezone="Europe/Paris")
    start = day.replace(tzinfo=PARIS)
    dates = cron.dates_between(start, start + timedelta(hours=25))
    hours = [d.astimezone(PARIS).hour for d in dates if d.astimezone(PARIS).day == day.day]
    assert hours == [h for h in range(24) if not (day.month == 3 and h == 2)]


def test_new_york_spring_forward_moves_the_missing_half_hour_to_three_oclock():
    cron = Cron.parse("30 2 * * *", timezone="America/New_York")
    assert local(cron.dates_between(at(2024, 3, 9), at(2024, 3, 12)), NEW_YORK) == [
        "03-09 02:30", "03-10 03:00", "03-11 02:30"]


def test_new_york_fall_back_runs_the_repeated_half_hour_once():
    cron = Cron.parse("30 1 * * *", timezone="America/New_York")
    dates = cron.dates_between(at(2024, 11, 2), at(2024, 11, 5))
    assert dates == [at(2024, 11, 2, 5, 30), at(2024, 11, 3, 5, 30), at(2024, 11, 4, 6, 30)]


def test_a_moment_inside_the_second_pass_of_a_repeated_hour_looks_past_it():
    cron = Cron.parse("*/15 * * * *", timezone="Europe/Paris")
    second_pass = at(2024, 10, 27, 1, 10)               # 02:10 CET, the second 02:10
    assert cron.next_after(second_pass) == at(2024, 10, 27, 2)            # 03:00 CET
    assert cron.previous_before(second_pass) == at(2024, 10, 27, 0, 45)   # 02:45 CEST


@pytest.mark.parametrize("expression, zone, seconds", [
    ("*/15 * * * *", "Europe/Paris", False),
    ("30 2 * * *", "Europe/Paris", False),
    ("0 */3 * * *", "America/New_York", False),
    ("30 1 * * SUN", "America/New_York", False),
    ("0 30 2 * * *", "Europe/Paris", True),
    ("@hourly", "Australia/Lord_Howe", False),
])
def test_successive_dates_strictly_increase_and_previous_before_inverts_them(
        expression, zone, seconds):
    cron = Cron.parse(expression, timezone=zone, with_seconds=seconds)
    for start in (at(2024, 3, 8), at(2024, 3, 29), at(2024, 10, 25), at(2024, 11, 1)):
        dates = cron.dates_between(start, start + timedelta(days=4))
        assert dates and all(a < b for a, b in zip(dates, dates[1:]))
        assert all(cron.previous_before(b) == a for a, b in zip(dates, dates[1:]))
        assert all(cron.next_after(a) == b for a, b in zip(dates, dates[1:]))


# -- calendar ------------------------------------------------------------------------------

def test_february_29_fires_only_in_leap_years_and_skips_2100():
    cron = Cron.parse("0 0 29 2 *")
    assert fires("0 0 29 2 *", at(2023, 3, 1), 2) == [at(2024, 2, 29), at(2028, 2, 29)]
    assert cron.next_after(at(2096, 3, 1)) == at(2104, 2, 29)
    assert cron.previous_before(at(2104, 2, 29)) == at(2096, 2, 29)


def test_day_31_skips_the_months_without_one():
    assert [d.month for d in fires("0 0 31 * *", at(2024, 1, 31), 4)] == [3, 5, 7, 8]


def test_day_30_skips_february():
    assert fires("0 0 30 * *", at(2024, 1, 30), 1) == [at(2024, 3, 30)]


def test_the_last_second_of_a_year_rolls_into_the_next():
    assert Cron.parse("0 0 0 * * *", with_seconds=True).next_after(
        at(2024, 12, 31, 23, 59, 59)) == at(2025, 1, 1)


# -- API details ---------------------------------------------------------------------------

def test_next_after_is_strictly_after_even_on_a_fire_date():
    cron = Cron.parse("0 9 * * *")
    assert cron.next_after(at(2024, 5, 15, 9)) == at(2024, 5, 16, 9)
    assert cron.previous_before(at(2024, 5, 15, 9)) == at(2024, 5, 14, 9)
    assert cron.previous_before(at(2024, 5, 15, 9, 0, 0, 1)) == at(2024, 5, 15, 9)


def test_dates_between_includes_both_ends_and_honours_the_limit():
    cron = Cron.parse("0 * * * *")
    assert cron.dates_between(at(2024, 5, 15, 9), at(2024, 5, 15, 11)) == [
        at(2024, 5, 15, 9), at(2024, 5, 15, 10), at(2024, 5, 15, 11)]
    assert cron.dates_between(at(2024, 5, 15, 9), at(2024, 5, 16), limit=2) == [
        at(2024, 5, 15, 9), at(2024, 5, 15, 10)]
    assert cron.dates_between(at(2024, 5, 15, 9, 1), at(2024, 5, 15, 9, 59)) == []


def test_a_naive_moment_is_read_as_utc_and_any_offset_is_converted():
    cron = Cron.parse("0 9 * * *")
    assert cron.next_after(datetime(2024, 5, 15, 8)) == at(2024, 5, 15, 9)
    assert cron.next_after(at(2024, 5, 15, 10, tz=PARIS)) == at(2024, 5, 15, 9)
