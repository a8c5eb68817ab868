"""Namespaces pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("namespaces", __name__)


@bp.get("/namespaces")
def index(tenant: str):
    return render_template("placeholder.html", title="Namespaces")
