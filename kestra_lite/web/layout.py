"""What every page's layout shows: navigation, the user's bookmarks, active announcements
(minus those dismissed this session), the News unread badge."""
from __future__ import annotations

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
    ("Administration", "admin.index"),
)
DISMISSED = "dismissed_announcements"


def docs_page() -> str:
    """The docs page matching the current screen (the endpoint's blueprint)."""
    area = (request.endpoint or "").split(".", 1)[0]
    return {"dashboard": "dashboard", "flows": "flows", "executions": "executions",
            "logs": "logs", "namespaces": "namespaces", "blueprints": "blueprints",
            "admin": "administration", "bookmarks": "bookmarks", "profile": "api"
            }.get(area, "index")


def _announcements() -> list:
    dismissed = set(session.get(DISMISSED, []))
    return [a for a in account_store.active_announcements(utcnow()) if a.id not in dismissed]


def _news_unread() -> int:
    from ..news import unread_count
    seen = current_user.user.news_seen if current_user.is_authenticated else None
    return unread_count(seen.date() if seen else None)


def init_app(app: Flask) -> None:
    @app.context_processor
    def layout_context():
        if not current_user.is_authenticated or request.path.startswith("/api/"):
            return {"navigation": NAVIGATION}
        tenant = g.get("tenant", "main")
        return {
            "navigation": NAVIGATION,
            "bookmarks": account_store.user_bookmarks(current_user.id, tenant),
            "announcements": _announcements(),
            "news_unread": _news_unread(),
            "docs_page": docs_page(),
        }
