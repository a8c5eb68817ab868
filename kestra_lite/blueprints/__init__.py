"""Blueprints: example flows bundled with kestra-lite, shown in the web UI's Blueprints page.

Each blueprint is a complete Kestra 0.20 flow stored as a YAML file in this package; its
title, description and tags come from `index.yaml` (one entry per file, in display order).

    all_blueprints() -> list[Blueprint]
    get_blueprint(id) -> Blueprint | None
    search_blueprints(text="", tags=None) -> list[Blueprint]
    all_tags() -> list[str]
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

INDEX_FILE = "index.yaml"


@dataclass(frozen=True)
class Blueprint:
    """One example flow: `source` is the flow YAML, ready to paste into the editor."""
    id: str
    title: str
    description: str
    tags: tuple[str, ...]
    source: str

    def matches(self, text: str) -> bool:
        """Case-insensitive substring test over id, title, description, tags and source."""
        needle = text.lower()
        haystack = (self.id, self.title, self.description, self.source) + self.tags
        return any(needle in field.lower() for field in haystack)

    def has_tags(self, tags: list[str]) -> bool:
        """True when every tag of `tags` is one of this blueprint's tags (case-insensitive)."""
        own = {tag.lower() for tag in self.tags}
        return all(tag.lower() in own for tag in tags)


def _read_text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def _blueprint(entry: dict) -> Blueprint:
    return Blueprint(id=str(entry["id"]), title=str(entry["title"]),
                     description=str(entry["description"]).strip(),
                     tags=tuple(str(tag) for tag in entry.get("tags") or ()),
                     source=_read_text(entry["file"]))


@cache
def _load() -> tuple[Blueprint, ...]:
    entries = yaml.safe_load(_read_text(INDEX_FILE)) or []
    return tuple(_blueprint(entry) for entry in entries)


def all_blueprints() -> list[Blueprint]:
    """Every blueprint, in the order of `index.yaml` (read once, then cached)."""
    return list(_load())


def get_blueprint(blueprint_id: str) -> Blueprint | None:
    return next((bp for bp in _load() if bp.id == blueprint_id), None)


def search_blueprints(text: str = "", tags: list[str] | None = None) -> list[Blueprint]:
    """Blueprints containing `text` (anywhere, any case) and carrying all of `tags`."""
    text = (text or "").strip()
    return [bp for bp in _load()
            if (not text or bp.matches(text)) and bp.has_tags(tags or [])]


def all_tags() -> list[str]:
    """Every tag used by at least one blueprint, sorted alphabetically."""
    return sorted({tag for bp in _load() for tag in bp.tags}, key=str.lower)
