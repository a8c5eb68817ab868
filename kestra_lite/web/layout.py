"""What every page's layout shows: navigation, the user's bookmarks, active announcements
(minus those dismissed this session), the News unread badge."""
from __future__ import annotations

from functools import cached_property

from flask import Flask, g, request, session
from flask_login import current_user

from ..model.state import utcnow
from ..store import accounts as account_store

NAVIGATION = (  # (label, endpoint, docs page)
    ("Dashboard", "dashboard.index"),
    ("Flows", "flows.index"),
    ("Executions", "executions.index"),
    ("Logs", "logs.index"),
    ("Namespaces", "namespaces.index"),
    ("Blueprints", "blueprints.index"),
    ("Triggers", "triggers.index"),
    ("Administration", "admin.index"),
)
DISMISSED = "dismissed_announcements"


def docs_page() -> str:
    """The docs page matching the current screen (the endpoint's blueprint)."""
    area = (request.endpoint or "").split(".", 1)[0]
    return {"dashboard": "dashboard", "flows": "flows", "executions": "executions",
            "logs": "logs", "namespaces": "namespaces", "blueprints": "blueprints",
            "triggers": "triggers",
            "admin": "administration", "bookmarks": "bookmarks", "profile": "api"
            }.get(area, "index")


def _announcements() -> list:
    dismissed = set(session.get(DISMISSED, []))
    return [a for a in account_store.active_announcements(utcnow()) if a.id not in dismissed]


def _news_unread() -> int:
    from ..news import unread_count
    seen = current_user.user.news_seen if current_user.is_authenticated else None
    return unread_count(seen.date() if seen else None)


class Lazy:
    """A value loaded the first time a template uses it: every render gets the layout's
    context, but fragments polled every second (logs, live execution) never show the
    layout and so never pay for its queries."""

    def __init__(self, load):
        self._load = load

    @cached_property
    def value(self):
        return self._load()

    def __iter__(self):
        return iter(self.value)

    def __len__(self):
        return len(self.value)

    def __bool__(self):
        return bool(self.value)

    def __str__(self):
        return str(self.value)


def init_app(app: Flask) -> None:
    @app.context_processor
    def layout_context():
        if not current_user.is_authenticated or request.path.startswith("/api/"):
            return {"navigation": NAVIGATION}
        tenant, user_id = g.get("tenant", "main"), current_user.id
        return {
            "navigation": NAVIGATION,
            "bookmarks": Lazy(lambda: account_store.user_bookmarks(user_id, tenant)),
            "announcements": Lazy(_announcements),
            "news_unread": Lazy(_news_unread),
            "docs_page": docs_page(),
        }
