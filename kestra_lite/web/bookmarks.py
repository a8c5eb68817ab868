"""Bookmarks: a user's saved URLs of this UI (path + query string, so a filtered list comes
back with its filters), per tenant, server-side. The star in the topbar of every page
(`bookmarks/_star.html`) adds or removes the current page; the navigation lists them
(`bookmarks/_list.html`); `/bookmarks` renames and deletes them.

htmx requests get the star back (and the navigation list, out of band); plain form posts a
redirect to the bookmarked page (or to `/bookmarks`)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import InvalidInput
from ..services import accounts
from ..store import accounts as account_store
from .htmx import is_htmx, redirect_or_location
from .layout import NAVIGATION

bp = Blueprint("bookmarks", __name__)


@bp.app_template_global()
def current_url() -> str:
    """This page's URL as a bookmark stores it: path + query string. A page rendered by a
    form post (no URL of its own) stands for the page the form was on."""
    if request.method != "GET":
        return _path_of(request.referrer) or request.path
    return request.full_path.rstrip("?") if request.query_string else request.path


def _path_of(url: str | None) -> str | None:
    """The path + query of a URL of this site's UI, else None."""
    parts = urlsplit(url or "")
    if parts.netloc not in ("", request.host) or not parts.path.startswith("/ui/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.app_template_global()
def bookmark_default_name(url: str) -> str:
    """A name for a new bookmark of `url`: the area's label, then the filter text."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s][2:]     # after /ui/<tenant>/
    area = segments[0] if segments else ""
    label = next((name for name, endpoint in NAVIGATION
                  if endpoint.split(".")[0] == area), area.replace("-", " ").capitalize())
    rest = " / ".join(segments[1:])
    name = " · ".join(x for x in (label or "Page", rest) if x)
    text = parse_qs(parts.query).get("q", [""])[0].strip()
    if text:
        name += f" ({text})"
    return name[:100]


def _own(bookmark_id: int, tenant: str) -> account_store.Bookmark | None:
    return next((b for b in account_store.user_bookmarks(current_user.id, tenant)
                 if b.id == bookmark_id), None)


def _star(url: str):
    """The star for `url` and, out of band, the navigation's bookmark list."""
    return render_template("bookmarks/_star_response.html", star_url=url)


def _local_url(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if value.startswith("/ui/") else None


@bp.get("/bookmarks/star")
def star(tenant: str):
    """The star again, for the URL the browser shows now (htmx sends it as HX-Current-URL)
    after a fragment swap pushed a new URL into the history."""
    url = (_path_of(request.headers.get("HX-Current-URL"))
           or _local_url(request.args.get("url")) or url_for("dashboard.index", tenant=tenant))
    return render_template("bookmarks/_star.html", star_url=url)


@bp.get("/bookmarks")
def index(tenant: str):
    return render_template("bookmarks/index.html",
                           items=account_store.user_bookmarks(current_user.id, tenant))


@bp.post("/bookmarks")
def add(tenant: str):
    url = (request.form.get("url") or "").strip()
    name = (request.form.get("name") or "").strip() or bookmark_default_name(url)
    try:
        accounts.add_bookmark(current_user.id, tenant, name, url)
    except InvalidInput as error:
        if is_htmx():
            raise
        flash(error.message, "error")
        return redirect(url_for("bookmarks.index", tenant=tenant), code=303)
    if is_htmx():
        return _star(url)
    flash(f"Bookmarked as “{name}”.", "success")
    return redirect(url, code=303)


@bp.post("/bookmarks/<int:bookmark_id>/rename")
def rename(tenant: str, bookmark_id: int):
    try:
        accounts.rename_bookmark(current_user.id, bookmark_id, request.form.get("name", ""))
    except InvalidInput as error:
        flash(error.message, "error")
    else:
        flash("Bookmark renamed.", "success")
    return redirect_or_location(url_for("bookmarks.index", tenant=tenant))


@bp.post("/bookmarks/<int:bookmark_id>/delete")
def delete(tenant: str, bookmark_id: int):
    bookmark = _own(bookmark_id, tenant)
    accounts.delete_bookmark(current_user.id, bookmark_id)
    back = _local_url(request.form.get("back"))
    if is_htmx() and back:
        return _star(back)
    flash(f"Bookmark “{bookmark.name}” deleted." if bookmark else "Bookmark deleted.",
          "success")
    return redirect_or_location(back or url_for("bookmarks.index", tenant=tenant))
