"""The bundled news items: loaded, ordered, counted as unread."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from kestra_lite.news import NewsItem, all_news, unread_count

NEWS = all_news()


def test_there_are_6_to_8_news_items():
    assert 6 <= len(NEWS) <= 8


def test_news_items_are_complete_and_ids_unique():
    assert len({item.id for item in NEWS}) == len(NEWS)
    for item in NEWS:
        assert isinstance(item, NewsItem)
        assert type(item.date) is date
        assert item.title and item.body and not item.body.endswith("\n")


def test_news_are_newest_first():
    dates = [item.date for item in NEWS]
    assert dates == sorted(dates, reverse=True)


def test_all_news_returns_a_fresh_list_from_the_cache():
    first = all_news()
    first.clear()
    assert all_news() == NEWS


def test_everything_is_unread_when_nothing_was_seen():
    assert unread_count(None) == len(NEWS)


def test_only_items_newer_than_last_seen_are_unread():
    newest, second = NEWS[0].date, NEWS[1].date
    assert unread_count(newest) == 0
    assert unread_count(newest + timedelta(days=30)) == 0
    assert unread_count(newest - timedelta(days=1)) == sum(1 for i in NEWS if i.date == newest)
    assert unread_count(second) == sum(1 for i in NEWS if i.date > second)
    assert unread_count(date(2000, 1, 1)) == len(NEWS)


def test_a_datetime_last_seen_is_compared_by_its_date():
    newest = NEWS[0].date
    assert unread_count(datetime(newest.year, newest.month, newest.day, 23, 59)) == 0


def test_a_timezone_aware_news_seen_works_as_the_layout_passes_it():
    newest = NEWS[0].date
    seen = datetime(newest.year, newest.month, newest.day, 8, 0, tzinfo=timezone.utc)
    assert unread_count(seen) == 0
    assert unread_count(seen - timedelta(days=1)) >= 1
