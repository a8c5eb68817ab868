"""Blueprints pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("blueprints", __name__)


@bp.get("/blueprints")
def index(tenant: str):
    return render_template("placeholder.html", title="Blueprints")
