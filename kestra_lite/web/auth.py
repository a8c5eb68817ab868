"""Who is asking: flask-login sessions for the UI, Basic auth or a personal API token
(`Authorization: Bearer kl_...`) for the API; the first-run setup page; login (rate
limited), logout. Every /ui/ page needs a logged-in user; every /api/ call an
authenticated one (a session cookie works too, with its CSRF token)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import time
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, flash, g, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from redis import RedisError

from ..errors import Conflict, InvalidInput
from ..services import accounts
from ..store import accounts as account_store
from .runtime import runtime

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
LOGIN_ATTEMPTS = 10          # failed logins per IP (and per email) ...
LOGIN_WINDOW = 300           # ... within this many seconds
BASIC_CACHE_SECONDS = 60     # a verified Basic credential is trusted this long (scrypt is slow)
_basic_cache: dict[str, tuple[float, int, str]] = {}   # key -> (until, user id, hash)
OPEN_PATHS = ("/static/", "/health", "/setup", "/login", "/api/v1/configs",
              "/api/v1/executions/webhook/")


class SessionUser(UserMixin):
    def __init__(self, user: account_store.User):
        self.user = user
        self.id = user.id
        self.email = user.email
        self.superadmin = user.superadmin

    def get_id(self) -> str:
        return str(self.user.id)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        user = account_store.get_user(int(user_id)) if user_id.isdigit() else None
        return SessionUser(user) if user else None

    app.before_request(_authenticate)


# -- every request ---------------------------------------------------------------------
def _is_api() -> bool:
    return request.path.startswith("/api/")


def _authenticate():
    """Resolve the caller before any view (and before the CSRF check)."""
    if request.path.startswith(OPEN_PATHS) or request.endpoint in ("static", "index"):
        return None
    header = request.headers.get("Authorization", "")
    if _is_api() and header:
        user = _user_from_header(header)
        if user is None:
            return _unauthorized("Invalid credentials")
        g._login_user = SessionUser(user)
        g.auth_without_cookie = True
        return None
    if current_user.is_authenticated:
        return None
    if _is_api():
        return _unauthorized("Authentication required (Basic auth or an API token)")
    if accounts.needs_setup():
        return redirect(url_for("auth.setup"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _unauthorized(message: str):
    response = jsonify(message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Basic realm="kestra-lite"'
    return response


def _user_from_header(header: str) -> account_store.User | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return accounts.user_of_token(value.strip())
    if scheme.lower() != "basic":
        return None
    try:
        email, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return _basic_user(email, password)


def _basic_user(email: str, password: str) -> account_store.User | None:
    key = hashlib.sha256(f"{email}\0{password}".encode()).hexdigest()
    cached = _basic_cache.get(key)
    if cached and cached[0] > time.monotonic():
        user = account_store.get_user(cached[1])
        if user is not None and user.password_hash == cached[2]:   # password unchanged
            return user
    if _rate_limited(email):
        return None
    user = accounts.authenticate(email, password)
    if user is None:
        _count_failure(email)
        return None
    if len(_basic_cache) > 1000:
        _basic_cache.clear()
    _basic_cache[key] = (time.monotonic() + BASIC_CACHE_SECONDS, user.id, user.password_hash)
    return user


# -- login rate limit (Redis counters; fail open if Redis is down) -----------------------
def _limit_keys(email: str) -> list[str]:
    rt = runtime()
    return [rt.key("login-failures", "ip", request.remote_addr or "?"),
            rt.key("login-failures", "email", (email or "").strip().lower())]


def _rate_limited(email: str) -> bool:
    try:
        counts = runtime().redis.mget(_limit_keys(email))
    except RedisError:
        return False
    return any(int(count or 0) >= LOGIN_ATTEMPTS for count in counts)


def _count_failure(email: str) -> None:
    try:
        pipe = runtime().redis.pipeline()
        for key in _limit_keys(email):
            pipe.incr(key)
            pipe.expire(key, LOGIN_WINDOW, nx=True)
        pipe.execute()
    except RedisError:
        pass


# -- pages -------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Only paths of this site (no scheme, no host) are followed after login."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("index")


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not accounts.needs_setup():
        return redirect(url_for("auth.login"))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        try:
            if request.form.get("password") != request.form.get("confirm"):
                raise InvalidInput("the two passwords differ")
            user = accounts.create_first_user(email, request.form.get("password", ""))
        except (InvalidInput, Conflict) as exc:
            error = str(exc)
        else:
            login_user(SessionUser(user))
            return redirect(url_for("index"))
    return render_template("auth/setup.html", error=error, email=email), 422 if error else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    if accounts.needs_setup():
        return redirect(url_for("auth.setup"))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        if _rate_limited(email):
            error = (f"Too many failed logins; wait {LOGIN_WINDOW // 60} minutes and retry.")
            return render_template("auth/login.html", error=error, email=email), 429
        user = accounts.authenticate(email, request.form.get("password", ""))
        if user is not None:
            login_user(SessionUser(user), remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")))
        _count_failure(email)
        error = "Wrong email or password."
    return render_template("auth/login.html", error=error, email=email), 401 if error else 200


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


def require_superadmin() -> None:
    """Views of the Administration area call this first."""
    if not (current_user.is_authenticated and current_user.superadmin):
        abort(403, description="Only a super admin can do this.")
