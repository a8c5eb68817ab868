"""Flows pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("flows", __name__)


@bp.get("/flows")
def index(tenant: str):
    return render_template("placeholder.html", title="Flows")
