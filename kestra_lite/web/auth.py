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

from flask import (Blueprint, Flask, abort, g, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from redis import RedisError

from ..errors import Conflict, InvalidInput
from ..services import accounts
from ..store import accounts as account_store
from .query_args import is_local_path
from .runtime import runtime

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
LOGIN_ATTEMPTS = 10          # failed logins for one email from one address ...
LOGIN_ATTEMPTS_PER_ADDRESS = 50   # ... and from one address in all ...
LOGIN_WINDOW = 300           # ... within this many seconds
BASIC_CACHE_SECONDS = 60     # a verified Basic credential is trusted this long (scrypt is slow)
_basic_cache: dict[str, tuple[float, int, str]] = {}   # key -> (until, user id, hash)
# Endpoints anyone may call (by endpoint name, never by path prefix: a tenant named
# "configs" must not open the API). Webhooks (web/api/webhooks.py, both registrations of
# the API blueprint) are open: their key is the secret, and they use nothing of a session.
OPEN_ENDPOINTS = {"static", "index", "health", "auth.setup", "auth.login", "api_main.configs",
                  "api.webhook_trigger", "api_main.webhook_trigger"}


class SessionUser(UserMixin):
    def __init__(self, user: account_store.User):
        self.user = user
        self.id = user.id
        self.email = user.email
        self.superadmin = user.superadmin

    def get_id(self) -> str:
        return f"{self.user.id}:{password_stamp(self.user)}"


def password_stamp(user: account_store.User) -> str:
    """Part of the session id: a password change ends every other session."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str):
        user_id, _, stamp = session_id.partition(":")
        user = account_store.get_user(int(user_id)) if user_id.isdigit() else None
        if user is None or stamp != password_stamp(user):   # password changed since login
            return None
        return SessionUser(user)

    app.before_request(_authenticate)


# -- every request ---------------------------------------------------------------------
def _is_api() -> bool:
    return request.path.startswith("/api/")


def _authenticate():
    """Resolve the caller before any view (and before the CSRF check)."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if _is_api() and header:
        user = _user_from_header(header)
        if user is None:
            return _unauthorized("Invalid credentials")
        g._login_user = SessionUser(user)
        # A browser replays saved Basic credentials on a cross-site form post: such a
        # request must pass the CSRF check like a cookie would. Tokens are never replayed.
        g.auth_without_cookie = header.lower().startswith("bearer ") or not _cross_site()
        return None
    if current_user.is_authenticated:
        return None
    if _is_api():
        return _unauthorized("Authentication required (Basic auth or an API token)")
    if accounts.needs_setup():
        return redirect(url_for("auth.setup"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _cross_site() -> bool:
    """A request a browser made on behalf of another site (Fetch metadata, or an Origin
    that is not ours); API clients such as curl or requests send neither header."""
    if request.headers.get("Sec-Fetch-Site", "none") in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("Origin")
    return bool(origin) and urlsplit(origin).netloc != request.host


def _unauthorized(message: str):
    response = jsonify(message=message)
    response.status_code = 401
    # a Basic challenge only to a caller that tried Basic: a browser that merely visits an
    # API URL gets no password prompt (whose answer it would replay on other sites' posts)
    scheme = "Basic" if request.headers.get("Authorization", "").lower().startswith(
        "basic") else "Bearer"
    response.headers["WWW-Authenticate"] = f'{scheme} realm="kestra-lite"'
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
def _limits(email: str) -> list[tuple[str, int]]:
    """(counter key, limit): failures from this address for this email, and from this
    address in all (keyed by address, so nobody can lock a user out from elsewhere)."""
    rt, address = runtime(), request.remote_addr or "?"
    return [(rt.key("login-failures", address, (email or "").strip().lower()), LOGIN_ATTEMPTS),
            (rt.key("login-failures", address), LOGIN_ATTEMPTS_PER_ADDRESS)]


def _rate_limited(email: str) -> bool:
    limits = _limits(email)
    try:
        counts = runtime().redis.mget([key for key, _ in limits])
    except RedisError:
        return False
    return any(int(count or 0) >= limit for count, (_, limit) in zip(counts, limits))


def _count_failure(email: str) -> None:
    try:
        pipe = runtime().redis.pipeline()
        for key, _ in _limits(email):
            pipe.incr(key)
            pipe.expire(key, LOGIN_WINDOW, nx=True)
        pipe.execute()
    except RedisError:
        pass


# -- pages -------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Only paths of this site (no scheme, no host) are followed after login."""
    if is_local_path(target):
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
