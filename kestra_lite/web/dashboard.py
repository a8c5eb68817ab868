"""Dashboard pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
def index(tenant: str):
    return render_template("placeholder.html", title="Dashboard")
