"""The user's profile: email, password change, personal API tokens.

A new token is shown once, in the answer to the form that created it (it is stored as a
hash only), so that answer is a page, not a redirect; every other form redirects (PRG).
"""
from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for
from flask_login import current_user, login_user

from ..errors import InvalidInput
from ..services import accounts
from ..store import accounts as account_store
from .auth import SessionUser
from .htmx import is_htmx, redirect_or_location, render_block

bp = Blueprint("profile", __name__)
TEMPLATE = "profile/index.html"


def _page(*, status: int = 200, **context):
    context.setdefault("password_errors", {})
    context.setdefault("token_error", None)
    context.setdefault("new_token", None)
    context.setdefault("token_name", "")
    context["tokens"] = account_store.user_tokens(current_user.id)
    return render_template(TEMPLATE, **context), status


@bp.get("/profile")
def index(tenant: str):
    return _page()


@bp.post("/profile/password")
def change_password(tenant: str):
    current, new = request.form.get("current", ""), request.form.get("new", "")
    try:
        if "confirm" in request.form and request.form["confirm"] != new:
            raise InvalidInput("confirm: the two new passwords differ")
        accounts.change_password(current_user.id, current, new)
    except InvalidInput as error:
        field, sep, text = error.message.partition(": ")
        errors = {field: text} if sep and field in ("current", "new", "confirm") else {
            "form": error.message}
        return _page(status=422, password_errors=errors)
    # the session id carries a stamp of the password: renew this session, others end
    login_user(SessionUser(account_store.get_user(current_user.id)))
    flash("Password changed.", "success")
    return redirect_or_location(url_for("profile.index", tenant=tenant))


@bp.post("/profile/tokens")
def create_token(tenant: str):
    name = request.form.get("name", "")
    try:
        record, token = accounts.create_token(current_user.id, name)
    except InvalidInput as error:
        if is_htmx():
            return render_block(TEMPLATE, "tokens", tokens=account_store.user_tokens(
                current_user.id), token_error=error.message, token_name=name, new_token=None)
        return _page(status=422, token_error=error.message, token_name=name)
    if is_htmx():
        return render_block(TEMPLATE, "tokens", new_token=(record, token), token_error=None,
                            token_name="", tokens=account_store.user_tokens(current_user.id))
    return _page(new_token=(record, token))


@bp.post("/profile/tokens/<int:token_id>/delete")
def delete_token(tenant: str, token_id: int):
    accounts.delete_token(current_user.id, token_id)
    flash("API token deleted; it no longer authenticates.", "success")
    return redirect_or_location(url_for("profile.index", tenant=tenant))
