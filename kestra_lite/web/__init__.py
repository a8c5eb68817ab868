"""The web process: `create_app()` builds the Flask app (gunicorn target in app.py).

Minimal for now: `/` redirects to the main tenant's page listing flows, `/health` answers
Kestra's health shape. The UI and the REST API come with their own issues.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, redirect, render_template, url_for

from ..config import Settings
from ..store import db as store_db

ROOT = Path(__file__).resolve().parents[2]   # the checkout: templates/ and static/


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"), static_url_path="/static")
    app.config.update(SECRET_KEY=settings.secret_key, KESTRA_SETTINGS=settings)
    store_db.connect(settings.database_url)
    store_db.migrate()
    store_db.close()

    @app.get("/")
    def index():
        return redirect(url_for("tenant_home", tenant="main"))

    @app.get("/ui/<tenant>/")
    def tenant_home(tenant: str):
        from ..store.flows import list_flows
        return render_template("home.html", tenant=tenant, flows=list_flows(tenant))

    @app.get("/health")
    def health():
        try:
            store_db.database.execute_sql("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return jsonify(status="DOWN", details={"db": str(exc)}), 503
        return jsonify(status="UP")

    return app
