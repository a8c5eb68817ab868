"""News: short release notes bundled with kestra-lite, shown in the web UI's News panel.

    all_news() -> list[NewsItem]                 # newest first
    unread_count(last_seen: date | None) -> int  # items published after `last_seen`

The items live in `items.yaml` (id, ISO date, title, markdown body).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources

import yaml

ITEMS_FILE = "items.yaml"


@dataclass(frozen=True)
class NewsItem:
    """One news item; `body` is markdown (render it sanitized)."""
    id: str
    date: date
    title: str
    body: str


def _as_date(value) -> date:
    """YAML gives a `date` for an unquoted ISO date and a string for a quoted one."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _item(entry: dict) -> NewsItem:
    return NewsItem(id=str(entry["id"]), date=_as_date(entry["date"]),
                    title=str(entry["title"]), body=str(entry["body"]).strip())


@cache
def _load() -> tuple[NewsItem, ...]:
    text = resources.files(__name__).joinpath(ITEMS_FILE).read_text(encoding="utf-8")
    items = [_item(entry) for entry in yaml.safe_load(text) or []]
    return tuple(sorted(items, key=lambda item: item.date, reverse=True))


def all_news() -> list[NewsItem]:
    """Every news item, newest first (read once, then cached)."""
    return list(_load())


def unread_count(last_seen: date | None) -> int:
    """How many items are newer than `last_seen` (every item when it is None).

    A `datetime` is accepted too and compared by its date."""
    if last_seen is None:
        return len(_load())
    if isinstance(last_seen, datetime):
        last_seen = last_seen.date()
    return sum(1 for item in _load() if item.date > last_seen)
