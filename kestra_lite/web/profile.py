"""Profile pages (placeholder: being built)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("profile", __name__)


@bp.get("/profile")
def index(tenant: str):
    return render_template("placeholder.html", title="Profile")
