"""Logs pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("logs", __name__)


@bp.get("/logs")
def index(tenant: str):
    return render_template("placeholder.html", title="Logs")
