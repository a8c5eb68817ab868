"""Filter pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("filter_bar", __name__)


@bp.get("/filter-bar")
def index(tenant: str):
    return render_template("placeholder.html", title="Filter")
