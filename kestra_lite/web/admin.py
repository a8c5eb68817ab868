"""Administration (super admins only): announcements (banners shown to every user while
now is within [start, end]) and users. Plain forms, POST-redirect-GET; a form with errors is
shown again with the messages next to its fields (status 422) and nothing is saved.

Anyone may dismiss a banner for the rest of their session (`dismiss`, used by base.html).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import Blueprint, flash, render_template, request, session, url_for

from ..errors import Conflict, InvalidInput, NotFound
from ..model.state import bounded_utc, utcnow
from ..services import accounts
from ..store import accounts as account_store
from .auth import require_superadmin
from .htmx import is_htmx, redirect_or_location

bp = Blueprint("admin", __name__)

PAGE_SIZE = 50
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"           # <input type="datetime-local"> (minutes)
ANNOUNCEMENT_FIELDS = ("message", "type", "startDate", "endDate")
OPEN_ENDPOINTS = ("admin.dismiss",)


@bp.before_request
def only_superadmins():
    if request.endpoint not in OPEN_ENDPOINTS:
        require_superadmin()


# -- helpers -------------------------------------------------------------------------------
def _page_number() -> int:
    value = request.args.get("page", "1")
    return max(int(value), 1) if value.isdigit() else 1


def _paged(items: list, page: int) -> tuple[list, int]:
    pages = max((len(items) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page, pages)
    return items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], pages


def _local(value: datetime | None) -> str:
    """A UTC datetime as a datetime-local input value."""
    return value.astimezone(timezone.utc).strftime(LOCAL_FORMAT) if value else ""


def _parse_local(value: str, name: str) -> datetime | None:
    """A datetime-local value (seconds optional), read as UTC; None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return bounded_utc(datetime.fromisoformat(value))
    except ValueError:
        raise InvalidInput(f"{name}: expected a date and time like 2025-01-31T14:30 "
                           "(years 1900 to 9999)") from None


def _field_errors(message: str, fields: tuple[str, ...]) -> dict[str, str]:
    """ "endDate: must be after startDate" -> {"endDate": "must be after startDate"}; a
    message naming no field goes under "form"."""
    field, sep, text = message.partition(": ")
    if sep and field in fields:
        return {field: text}
    return {"form": message}


def _status(announcement: account_store.Announcement, now: datetime) -> str:
    if announcement.end_date < now:
        return "ended"
    if announcement.start_date > now:
        return "scheduled"
    return "active"


# -- announcements --------------------------------------------------------------------------
def _announcements_page(tenant: str, *, form: dict, errors: dict | None = None,
                        editing: int | None = None, status: int = 200):
    now = utcnow()
    items, pages = _paged(account_store.list_announcements(), _page_number())
    return render_template(
        "admin/announcements.html", tab="announcements", now=now, form=form,
        errors=errors or {}, editing=editing, pages=pages, page=min(_page_number(), pages),
        rows=[(a, _status(a, now)) for a in items],
        types=accounts.ANNOUNCEMENT_TYPES), status


def _blank_form() -> dict:
    start = utcnow().replace(second=0, microsecond=0)
    return {"message": "", "type": "INFO", "startDate": _local(start),
            "endDate": _local(start + timedelta(days=1))}


def _posted_form() -> dict:
    return {name: request.form.get(name, "") for name in ANNOUNCEMENT_FIELDS}


def _save(announcement_id: int | None, form: dict) -> int:
    return accounts.save_announcement(
        announcement_id, message=form["message"], type=form["type"],
        start_date=_parse_local(form["startDate"], "startDate"),
        end_date=_parse_local(form["endDate"], "endDate"))


@bp.get("/admin")
def index(tenant: str):
    return _announcements_page(tenant, form=_blank_form())


@bp.post("/admin/announcements")
def create_announcement(tenant: str):
    form = _posted_form()
    try:
        _save(None, form)
    except InvalidInput as error:
        return _announcements_page(tenant, form=form, status=422,
                                   errors=_field_errors(error.message, ANNOUNCEMENT_FIELDS))
    flash("Announcement created.", "success")
    return redirect_or_location(url_for("admin.index", tenant=tenant))


@bp.get("/admin/announcements/<int:announcement_id>")
def edit_announcement(tenant: str, announcement_id: int):
    announcement = account_store.get_announcement(announcement_id)
    if announcement is None:
        raise NotFound(f"no announcement {announcement_id}")
    form = {"message": announcement.message, "type": announcement.type,
            "startDate": _local(announcement.start_date),
            "endDate": _local(announcement.end_date)}
    return _announcements_page(tenant, form=form, editing=announcement_id)


@bp.post("/admin/announcements/<int:announcement_id>")
def update_announcement(tenant: str, announcement_id: int):
    form = _posted_form()
    try:
        _save(announcement_id, form)
    except InvalidInput as error:
        return _announcements_page(tenant, form=form, editing=announcement_id, status=422,
                                   errors=_field_errors(error.message, ANNOUNCEMENT_FIELDS))
    flash("Announcement saved.", "success")
    return redirect_or_location(url_for("admin.index", tenant=tenant))


@bp.post("/admin/announcements/<int:announcement_id>/delete")
def delete_announcement(tenant: str, announcement_id: int):
    accounts.delete_announcement(announcement_id)
    flash("Announcement deleted.", "success")
    return redirect_or_location(url_for("admin.index", tenant=tenant))


# -- users ------------------------------------------------------------------------------------
def _users_page(tenant: str, *, form: dict, errors: dict | None = None, status: int = 200):
    users, pages = _paged(account_store.list_users(), _page_number())
    return render_template("admin/users.html", tab="users", users=users, form=form,
                           errors=errors or {}, pages=pages,
                           page=min(_page_number(), pages)), status


@bp.get("/admin/users")
def users(tenant: str):
    return _users_page(tenant, form={"email": "", "superadmin": False})


@bp.post("/admin/users")
def create_user(tenant: str):
    form = {"email": request.form.get("email", ""),
            "superadmin": bool(request.form.get("superadmin"))}
    try:
        user = accounts.create_user(form["email"], request.form.get("password", ""),
                                    superadmin=form["superadmin"])
    except (InvalidInput, Conflict) as error:
        message = str(error)
        field = "password" if "password" in message else "email"
        return _users_page(tenant, form=form, errors={field: message}, status=422)
    flash(f"User {user.email} created.", "success")
    return redirect_or_location(url_for("admin.users", tenant=tenant))


# -- banners ----------------------------------------------------------------------------------
def _back() -> str:
    """Where a plain (no htmx) dismiss returns: the page it came from, if it is ours."""
    target = urlsplit(request.referrer or "")
    if target.path.startswith("/ui/") and target.netloc in ("", request.host):
        return target.path + (f"?{target.query}" if target.query else "")
    return url_for("dashboard.index", tenant=request.view_args.get("tenant", "main"))


@bp.post("/announcements/<int:announcement_id>/dismiss")
def dismiss(tenant: str, announcement_id: int):
    from .layout import DISMISSED
    session[DISMISSED] = sorted(set(session.get(DISMISSED, [])) | {announcement_id})
    if is_htmx():
        return ""
    return redirect_or_location(_back())
