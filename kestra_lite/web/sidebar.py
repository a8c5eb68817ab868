"""The right sidebar: News (release notes; opening it marks them read) and Docs (the
repository's `docs/*.md`, rendered sanitized). The topbar's toggles
(`sidebar/_toggles.html`) load a panel into `<aside id="sidebar">` with htmx; the panel
unhides the aside when it lands (`hx-on::load`) and has a close button. Without htmx the
same URLs are full pages.

Docs pages are allow-listed from the files present: a name that is not one of them (a
typo, `../../etc/passwd`) gets a message, never a file read outside `docs/`.
"""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, g, redirect, render_template, url_for
from flask_login import current_user

from ..news import all_news
from ..services import accounts
from .htmx import is_htmx, render_block
from .markdown import render

bp = Blueprint("sidebar", __name__)

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
DOC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ANCHOR_PREFIX = "doc-"
_rendered: dict[tuple[str, str, float], object] = {}   # (tenant or "title", name, mtime)


def docs_pages() -> dict[str, Path]:
    """name -> file, for every `docs/<name>.md` with a plain name."""
    if not DOCS_DIR.is_dir():
        return {}
    return {path.stem: path for path in sorted(DOCS_DIR.glob("*.md"))
            if DOC_NAME.match(path.stem) and path.is_file()}


def _doc_title(source: str, name: str) -> str:
    for line in source.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return name.replace("-", " ").capitalize()


def _titles(pages: dict[str, Path]) -> dict[str, str]:
    """name -> the page's first heading, in the order of the names."""
    titles = {}
    for name, path in pages.items():
        key = ("title", name, path.stat().st_mtime)
        if key not in _rendered:
            _rendered[key] = _doc_title(path.read_text(encoding="utf-8"), name)
        titles[name] = _rendered[key]
    return titles


def _link_rewriter(tenant: str, pages: dict[str, Path]):
    """`filters.md#labels` -> the sidebar's URL of that page (kept inside the sidebar)."""
    def rewrite(href: str):
        target, _, fragment = href.partition("#")
        name = target.removeprefix("./")
        if not name.endswith(".md") or "/" in name:
            return None
        name = name[:-3]
        if name not in pages:
            return None
        url = url_for("sidebar.docs", tenant=tenant, page=name)
        return (url + (f"#{ANCHOR_PREFIX}{fragment}" if fragment else ""), True)
    return rewrite


def _render_doc(tenant: str, name: str, path: Path, pages: dict[str, Path]):
    key = (tenant, name, path.stat().st_mtime)
    if key not in _rendered:
        source = path.read_text(encoding="utf-8")
        if len(_rendered) > 200:
            _rendered.clear()
        _rendered[key] = (_doc_title(source, name),
                          render(source, link=_link_rewriter(tenant, pages),
                                 anchor_prefix=ANCHOR_PREFIX))
    return _rendered[key]


def _respond(template: str, status: int = 200, **context):
    """htmx: the panel fragment (always 200, so htmx swaps it); else a full page."""
    if is_htmx():
        return render_block(template, "panel", full_page=False, **context)
    return render_template(template, full_page=True, **context), status


@bp.get("/sidebar")
def index(tenant: str):
    return docs(tenant, "index")


@bp.get("/sidebar/docs/<path:page>")
def docs(tenant: str, page: str):
    pages = docs_pages()
    path = pages.get(page)
    if path is None:
        return _respond("sidebar/docs.html", 404, page=page[:100], title="Docs", html=None,
                        titles=_titles(pages), known=False)
    title, html = _render_doc(g.tenant, page, path, pages)
    return _respond("sidebar/docs.html", page=page, title=title, html=html,
                    titles=_titles(pages), known=True)


@bp.get("/sidebar/news")
def news(tenant: str):
    seen = current_user.user.news_seen
    seen_date = seen.date() if seen else None
    items = [(item, render(item.body), seen_date is None or item.date > seen_date)
             for item in all_news()]
    return _respond("sidebar/news.html", items=items)


@bp.post("/sidebar/news/seen")
def news_seen(tenant: str):
    """The News panel, once shown, marks the items read (a POST: a GET never changes state);
    answers the emptied unread badge (htmx swaps it out of band)."""
    accounts.mark_news_seen(current_user.id)
    if not is_htmx():
        return redirect(url_for("sidebar.news", tenant=tenant), code=303)
    return '<span id="news-badge" class="badge" hidden hx-swap-oob="true"></span>'
