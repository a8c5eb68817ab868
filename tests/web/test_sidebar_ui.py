"""The right sidebar: News (unread badge, read once opened) and Docs (the repository's
docs/*.md rendered sanitized, links kept inside the sidebar, unknown pages and path
traversal answered with a message)."""
from __future__ import annotations

import re

import pytest

from kestra_lite.news import all_news
from kestra_lite.web.markdown import render
from kestra_lite.web.sidebar import docs_pages
from tests.web.conftest import login

PAGE = "/ui/main/bookmarks"     # any page with the layout


def _badge(html: str) -> tuple[bool, str]:
    """(shown, text) of the News unread badge in the topbar."""
    found = re.search(r'<span id="news-badge" class="badge" (hidden)?\s*aria-label="[^"]*">([^<]*)</span>',
                      html)
    assert found, "no news badge"
    return found.group(1) is None, found.group(2).strip()


def test_the_topbar_has_news_and_docs_toggles_that_load_into_the_sidebar(client):
    html = client.get("/ui/main/admin").get_data(as_text=True)
    assert 'hx-get="/ui/main/sidebar/news" hx-target="#sidebar"' in html
    assert 'href="/ui/main/sidebar/docs/administration"' in html     # the matching page
    assert '<aside id="sidebar" class="sidebar" hidden>' in html


def test_the_news_badge_counts_unread_items_and_goes_to_zero_once_news_is_opened(app, alice):
    assert all_news(), "the news module ships items"
    browser = login(app, alice.email)
    assert _badge(browser.get(PAGE).get_data(as_text=True)) == (True, str(len(all_news())))

    response = browser.get("/ui/main/sidebar/news", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert all(item.title.replace("'", "&#39;") in html for item in all_news())
    assert 'hx-on::load="document.getElementById(\'sidebar\').hidden=false"' in html
    assert 'hx-post="/ui/main/sidebar/news/seen" hx-trigger="load"' in html
    assert html.count('class="news-item unread"') == len(all_news())
    # showing the panel changes nothing; its load-triggered POST marks the items read
    assert _badge(browser.get(PAGE).get_data(as_text=True))[0] is True
    seen = browser.post("/ui/main/sidebar/news/seen", htmx=True).get_data(as_text=True)
    assert seen == '<span id="news-badge" class="badge" hidden hx-swap-oob="true"></span>'

    assert _badge(browser.get(PAGE).get_data(as_text=True)) == (False, "")
    html = browser.get("/ui/main/sidebar/news", headers={"HX-Request": "true"}).get_data(
        as_text=True)
    assert 'class="news-item unread"' not in html


def test_news_is_a_full_page_without_htmx_with_a_mark_read_form(client):
    response = client.get("/ui/main/sidebar/news")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert "Mark all as read" in html and "sidebar-close" not in html


def test_the_docs_render_a_page_as_sanitized_html_inside_the_sidebar(client):
    pages = docs_pages()
    assert {"index", "flows", "executions"} <= set(pages)
    response = client.get("/ui/main/sidebar/docs/index", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert '<div class="markdown docs">' in html and "<h1" in html
    assert 'hx-target="#sidebar"' in html and 'hx-push-url="false"' in html
    assert "<script" not in html
    # a link to another docs page stays inside the sidebar
    assert re.search(r'<a href="/ui/main/sidebar/docs/flows(#doc-[\w-]+)?" hx-boost="true"', html)
    # heading ids never collide with the page's own ids
    assert not re.search(r'<h\d id="(?!doc-)', html)


def test_a_docs_page_is_a_full_page_without_htmx(client):
    response = client.get("/ui/main/sidebar/docs/flows")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "<main" in html
    assert 'aria-current="page">Flows</a>' in html


@pytest.mark.parametrize("name", ["nope", "../README", "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd",
                                  "%2e%2e/pyproject", "index.md", "/etc/passwd", "INDEX"])
def test_an_unknown_or_traversing_docs_page_gets_a_message_never_a_file(client, name):
    response = client.get(f"/ui/main/sidebar/docs/{name}", headers={"HX-Request": "true"},
                          follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is no docs page named" in html
    assert "[project]" not in html and "root:" not in html
    plain = client.get(f"/ui/main/sidebar/docs/{name}", follow_redirects=True)
    assert plain.status_code == 404
    assert "There is no docs page named" in plain.get_data(as_text=True)
    assert "Error 404" not in plain.get_data(as_text=True)


def test_the_sidebar_index_is_the_docs_index(client):
    html = client.get("/ui/main/sidebar").get_data(as_text=True)
    assert 'data-page="index"' in html


def test_markdown_never_lets_a_script_or_handler_through():
    html = str(render(
        "# Title\n\n<script>alert('x')</script>\n\n"
        "<img src=x onerror=\"alert(1)\"> <a href=\"javascript:alert(1)\">js</a> "
        "<a href=\"/x\" hx-post=\"/ui/main/admin/users\" hx-trigger=\"load\">htmx</a>\n\n"
        "<iframe src=\"https://evil.example\"></iframe><style>body{display:none}</style>\n\n"
        "[ok](https://kestra.io) `code` **bold**\n"))
    for bad in ("<script", "alert(", "onerror", "javascript:", "hx-post", "hx-trigger",
                "<iframe", "<style", "display:none"):
        assert bad not in html, bad
    assert '<a href="https://kestra.io" target="_blank" rel="noopener noreferrer">ok</a>' in html
    assert "<code>code</code>" in html and "<strong>bold</strong>" in html
    assert "<h1>Title</h1>" in html          # no id outside the docs


def test_markdown_rewrites_docs_links_and_prefixes_anchors():
    html = str(render("## Labels\n\n[see](flows.md#labels) [here](#labels) [out](../x.md)",
                      link=lambda href: ("/docs/flows#doc-labels", True)
                      if href.startswith("flows.md") else None, anchor_prefix="doc-"))
    assert '<h2 id="doc-labels">Labels</h2>' in html
    assert '<a href="/docs/flows#doc-labels" hx-boost="true"' in html
    assert '<a href="#doc-labels"' in html
    assert '<a href="../x.md"' in html and html.count("hx-boost") == 1


def test_marking_news_read_without_htmx_redirects_to_the_news_page(client):
    client.get("/ui/main/sidebar/news")
    response = client.post("/ui/main/sidebar/news/seen")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ui/main/sidebar/news")
