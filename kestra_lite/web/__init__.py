"""The web process: `create_app()` builds the Flask app (gunicorn target in app.py).

Pages live under `/ui/<tenant>/...` (one blueprint per area, server-rendered with Jinja,
htmx swapping fragments); Kestra's REST API under `/api/v1/...` and `/api/v1/<tenant>/...`.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, redirect, url_for

from ..config import Settings
from ..store import db as store_db
from . import auth, csrf, errors, layout, tenancy

ROOT = Path(__file__).resolve().parents[2]   # the checkout: templates/ and static/


def _ui_blueprints():
    from . import (admin, blueprints, bookmarks, dashboard, executions, filter_bar, flows,
                   logs, namespaces, profile, sidebar, triggers)
    return [dashboard.bp, flows.bp, executions.bp, logs.bp, namespaces.bp, blueprints.bp,
            triggers.bp, admin.bp, bookmarks.bp, profile.bp, sidebar.bp, filter_bar.bp]


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"), static_url_path="/static")
    app.config.update(
        SECRET_KEY=settings.secret_key, KESTRA_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    store_db.connect(settings.database_url)
    store_db.migrate()
    store_db.close()

    auth.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    tenancy.init_app(app)
    layout.init_app(app)
    app.register_blueprint(auth.bp)
    for blueprint in _ui_blueprints():
        app.register_blueprint(blueprint, url_prefix="/ui/<tenant>")
    from .api import bp as api_bp
    app.register_blueprint(api_bp, url_prefix="/api/v1/<tenant>", name="api")
    app.register_blueprint(api_bp, url_prefix="/api/v1", name="api_main",
                           url_defaults={"tenant": tenancy.DEFAULT_TENANT})

    @app.get("/")
    def index():
        return redirect(url_for("dashboard.index", tenant=tenancy.DEFAULT_TENANT))

    @app.get("/ui/<tenant>/")
    def tenant_home(tenant: str):
        return redirect(url_for("dashboard.index", tenant=tenant))

    @app.get("/health")
    def health():
        try:
            store_db.database.execute_sql("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return jsonify(status="DOWN", details={"db": str(exc)}), 503
        return jsonify(status="UP")

    return app
