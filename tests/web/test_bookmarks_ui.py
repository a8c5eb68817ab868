"""Bookmarks: the star on every page saves the current URL (filters included) per user and
tenant; the navigation lists them in every session of that user; /bookmarks renames and
deletes them."""
from __future__ import annotations

import re

from kestra_lite.services import accounts
from kestra_lite.store import accounts as account_store
from tests.web.conftest import login

FILTERED = "/ui/main/executions?q=state:FAILED+namespace:company"
# pages of this area render the layout (star, nav) without depending on other areas' pages
PAGE = "/ui/main/bookmarks"


def _nav_bookmarks(html: str) -> list[tuple[str, str]]:
    block = re.search(r'<div id="nav-bookmarks"[^>]*>(.*?)</div>', html, re.S).group(1)
    return [(href.replace("&amp;", "&"), name)
            for href, name in re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]*)</a></li>', block)]


def _star(html: str) -> str:
    return re.search(r'<div id="bookmark-star".*?</details>\s*</div>', html, re.S).group(0)


def test_every_page_has_a_star_that_posts_the_current_url(client):
    html = client.get("/ui/main/admin/users?page=1&q=state:FAILED+x").get_data(as_text=True)
    star = _star(html)
    assert 'action="/ui/main/bookmarks"' in star
    assert 'name="url" value="/ui/main/admin/users?page=1&amp;q=state:FAILED+x"' in star
    assert "☆" in star and "starred" not in star
    assert 'name="name" value="Administration · users (state:FAILED x)"' in star


def test_the_default_name_of_a_filtered_list_names_the_area_and_the_filter(app):
    from kestra_lite.web.bookmarks import bookmark_default_name
    with app.test_request_context("/"):
        assert bookmark_default_name(FILTERED) == "Executions (state:FAILED namespace:company)"
        assert bookmark_default_name("/ui/main/flows/company/hello") == "Flows · company / hello"


def test_a_bookmarked_filtered_url_is_in_the_nav_of_another_session_and_not_for_bob(
        app, client, bob):
    response = client.post("/ui/main/bookmarks", data={"url": FILTERED, "name": "Failed runs"})
    assert response.status_code == 303
    assert response.headers["Location"] == FILTERED

    again = login(app, "alice@example.com")               # another browser
    html = again.get(PAGE).get_data(as_text=True)
    assert _nav_bookmarks(html) == [(FILTERED, "Failed runs")]

    bob_html = login(app, bob.email).get(PAGE).get_data(as_text=True)
    assert _nav_bookmarks(bob_html) == []


def test_bookmarks_belong_to_their_tenant(app, client):
    client.post("/ui/main/bookmarks", data={"url": FILTERED, "name": "Failed runs"})
    assert account_store.user_bookmarks(1, "other") == []
    html = client.get("/ui/other/bookmarks").get_data(as_text=True)
    assert _nav_bookmarks(html) == []


def test_the_star_is_filled_on_a_bookmarked_page(client):
    page = "/ui/main/admin/users?page=1"
    client.post("/ui/main/bookmarks", data={"url": page, "name": "Users"})
    star = _star(client.get(page).get_data(as_text=True))
    assert "★" in star and "starred" in star and "Bookmarked as <strong>Users</strong>" in star
    assert "☆" in _star(client.get("/ui/main/admin/users?page=2").get_data(as_text=True))


def test_bookmarking_with_htmx_swaps_the_star_and_the_nav_list(client):
    response = client.post("/ui/main/bookmarks", htmx=True,
                           data={"url": FILTERED, "name": "Failed runs"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "★" in _star(html) and "Bookmarked as <strong>Failed runs</strong>" in html
    assert 'id="nav-bookmarks" hx-swap-oob="true"' in html
    assert _nav_bookmarks(html) == [(FILTERED, "Failed runs")]

    [bookmark] = account_store.user_bookmarks(1, "main")
    response = client.post(f"/ui/main/bookmarks/{bookmark.id}/delete", htmx=True,
                           data={"back": FILTERED})
    html = response.get_data(as_text=True)
    assert "☆" in _star(html) and _nav_bookmarks(html) == []
    assert account_store.user_bookmarks(1, "main") == []


def test_a_blank_name_falls_back_to_a_name_from_the_url(client):
    client.post("/ui/main/bookmarks", data={"url": "/ui/main/flows", "name": " "})
    [bookmark] = account_store.user_bookmarks(1, "main")
    assert bookmark.name == "Flows"


def test_only_pages_of_this_ui_can_be_bookmarked(client):
    response = client.post("/ui/main/bookmarks",
                           data={"url": "https://evil.example/", "name": "x"})
    assert response.status_code == 303
    assert "a bookmark must point at a page of this UI" in client.get(
        response.headers["Location"]).get_data(as_text=True)
    response = client.post("/ui/main/bookmarks", htmx=True,
                           data={"url": "javascript:alert(1)", "name": "x"})
    assert response.status_code == 422
    assert account_store.user_bookmarks(1, "main") == []


def test_the_star_follows_the_url_the_browser_shows_after_an_htmx_push(client):
    client.post("/ui/main/bookmarks", data={"url": FILTERED, "name": "Failed runs"})
    response = client.get("/ui/main/bookmarks/star", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost" + FILTERED})
    assert "★" in _star(response.get_data(as_text=True))
    response = client.get("/ui/main/bookmarks/star", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/ui/main/logs"})
    star = _star(response.get_data(as_text=True))
    assert "☆" in star and 'name="url" value="/ui/main/logs"' in star


def test_the_bookmarks_page_renames_and_deletes(client):
    accounts.add_bookmark(1, "main", "Old name", FILTERED)
    [bookmark] = account_store.user_bookmarks(1, "main")
    html = client.get("/ui/main/bookmarks").get_data(as_text=True)
    assert 'value="Old name"' in html and f'href="{FILTERED}"' in html

    response = client.post(f"/ui/main/bookmarks/{bookmark.id}/rename", data={"name": "New name"})
    assert response.status_code == 303
    html = client.get("/ui/main/bookmarks").get_data(as_text=True)
    assert "Bookmark renamed." in html
    assert _nav_bookmarks(html) == [(FILTERED, "New name")]

    client.post(f"/ui/main/bookmarks/{bookmark.id}/rename", data={"name": ""})
    html = client.get("/ui/main/bookmarks").get_data(as_text=True)
    assert "the bookmark name is required" in html
    assert account_store.user_bookmarks(1, "main")[0].name == "New name"

    response = client.post(f"/ui/main/bookmarks/{bookmark.id}/delete")
    assert response.status_code == 303
    html = client.get("/ui/main/bookmarks").get_data(as_text=True)
    assert "Bookmark “New name” deleted." in html and "No bookmark yet" in html


def test_bob_cannot_rename_or_delete_alices_bookmark(app, client, bob):
    accounts.add_bookmark(1, "main", "Mine", FILTERED)
    [bookmark] = account_store.user_bookmarks(1, "main")
    browser = login(app, bob.email)
    assert browser.post(f"/ui/main/bookmarks/{bookmark.id}/rename",
                        data={"name": "Stolen"}).status_code == 404
    assert browser.post(f"/ui/main/bookmarks/{bookmark.id}/delete").status_code == 404
    assert account_store.user_bookmarks(1, "main")[0].name == "Mine"
