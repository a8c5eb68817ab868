"""Sidebar pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("sidebar", __name__)


@bp.get("/sidebar")
def index(tenant: str):
    return render_template("placeholder.html", title="Sidebar")
