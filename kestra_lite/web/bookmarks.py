"""Bookmarks pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("bookmarks", __name__)


@bp.get("/bookmarks")
def index(tenant: str):
    return render_template("placeholder.html", title="Bookmarks")
