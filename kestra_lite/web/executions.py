"""Executions pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("executions", __name__)


@bp.get("/executions")
def index(tenant: str):
    return render_template("placeholder.html", title="Executions")
