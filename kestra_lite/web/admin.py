"""Administration pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("admin", __name__)


@bp.get("/admin")
def index(tenant: str):
    return render_template("placeholder.html", title="Administration")


@bp.post("/announcements/<int:announcement_id>/dismiss")
def dismiss(tenant: str, announcement_id: int):
    from flask import session
    from .layout import DISMISSED
    session[DISMISSED] = sorted(set(session.get(DISMISSED, [])) | {announcement_id})
    return ""
