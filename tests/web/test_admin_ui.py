"""Administration: announcements (CRUD, validation, banners within their window, dismiss)
and users; only super admins get in."""
from __future__ import annotations

import re
from datetime import timedelta

from kestra_lite.model.state import utcnow
from kestra_lite.services import accounts
from kestra_lite.store import accounts as account_store
from tests.web.conftest import login

FORMAT = "%Y-%m-%dT%H:%M"


def _window(start_offset: timedelta, end_offset: timedelta) -> dict:
    now = utcnow()
    return {"startDate": (now + start_offset).strftime(FORMAT),
            "endDate": (now + end_offset).strftime(FORMAT)}


def _banners(html: str) -> list[str]:
    return re.findall(r'<div class="banner banner-(\w+)"[^>]*>\s*<span>([^<]*)</span>', html)


def test_a_member_gets_403_on_every_administration_page(app, alice, bob):
    browser = login(app, bob.email)
    assert browser.get("/ui/main/admin").status_code == 403
    assert browser.get("/ui/main/admin/users").status_code == 403
    response = browser.post("/ui/main/admin/announcements",
                            data={"message": "hi", "type": "INFO", **_window(
                                timedelta(0), timedelta(hours=1))})
    assert response.status_code == 403
    assert account_store.list_announcements() == []
    response = browser.post("/ui/main/admin/users",
                            data={"email": "eve@example.com", "password": "long enough!"})
    assert response.status_code == 403
    assert account_store.find_user("eve@example.com") is None


def test_the_announcements_tab_explains_dates_are_utc(client):
    html = client.get("/ui/main/admin").get_data(as_text=True)
    assert 'type="datetime-local" name="startDate"' in html
    assert "UTC" in html
    assert '<option value="WARNING"' in html


def test_an_announcement_is_created_listed_edited_and_deleted(client):
    response = client.post("/ui/main/admin/announcements", data={
        "message": "Maintenance tonight", "type": "WARNING",
        **_window(timedelta(hours=-1), timedelta(hours=2))})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ui/main/admin")
    [created] = account_store.list_announcements()
    assert (created.message, created.type) == ("Maintenance tonight", "WARNING")
    html = client.get("/ui/main/admin").get_data(as_text=True)
    assert "Announcement created." in html
    assert f'id="announcement-{created.id}"' in html and "active" in html

    edit = client.get(f"/ui/main/admin/announcements/{created.id}").get_data(as_text=True)
    assert "Edit announcement" in edit and "Maintenance tonight</textarea>" in edit
    response = client.post(f"/ui/main/admin/announcements/{created.id}", data={
        "message": "Maintenance moved", "type": "ERROR",
        **_window(timedelta(hours=1), timedelta(hours=3))})
    assert response.status_code == 303
    updated = account_store.get_announcement(created.id)
    assert (updated.message, updated.type) == ("Maintenance moved", "ERROR")
    assert "scheduled" in client.get("/ui/main/admin").get_data(as_text=True)

    response = client.post(f"/ui/main/admin/announcements/{created.id}/delete")
    assert response.status_code == 303
    assert account_store.list_announcements() == []


def test_dates_are_read_as_utc(client):
    client.post("/ui/main/admin/announcements", data={
        "message": "m", "type": "INFO", "startDate": "2030-01-02T03:04",
        "endDate": "2030-01-02T05:06"})
    [created] = account_store.list_announcements()
    assert created.start_date.isoformat() == "2030-01-02T03:04:00+00:00"
    assert created.end_date.isoformat() == "2030-01-02T05:06:00+00:00"


def test_an_invalid_announcement_shows_inline_errors_and_saves_nothing(client):
    cases = [
        ({"message": "  ", "type": "INFO", **_window(timedelta(0), timedelta(hours=1))},
         "an announcement needs a message"),
        ({"message": "m", "type": "DEBUG", **_window(timedelta(0), timedelta(hours=1))},
         "expected one of INFO, WARNING, ERROR"),
        ({"message": "m", "type": "INFO", **_window(timedelta(hours=2), timedelta(hours=1))},
         "must be after startDate"),
        ({"message": "m", "type": "INFO", "startDate": "", "endDate": ""},
         "startDate and endDate are required"),
        ({"message": "m", "type": "INFO", "startDate": "yesterday", "endDate": "2030-01-01T00:00"},
         "expected a date and time"),
    ]
    for form, message in cases:
        response = client.post("/ui/main/admin/announcements", data=form)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, form
        assert message in html, (form, html)
        assert "<html" in html.lower()            # the page again, not an error page
        assert "Error 422" not in html
    assert account_store.list_announcements() == []


def test_an_invalid_edit_keeps_the_typed_values_and_the_saved_announcement(client):
    announcement_id = accounts.save_announcement(
        None, message="kept", type="INFO", start_date=utcnow(),
        end_date=utcnow() + timedelta(hours=1))
    response = client.post(f"/ui/main/admin/announcements/{announcement_id}", data={
        "message": "typed", "type": "INFO", **_window(timedelta(hours=2), timedelta(hours=1))})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "typed</textarea>" in html and "Edit announcement" in html
    assert account_store.get_announcement(announcement_id).message == "kept"


def test_editing_an_unknown_announcement_is_404(client):
    assert client.get("/ui/main/admin/announcements/999").status_code == 404


def test_an_active_announcement_is_a_banner_for_another_user_until_its_end(app, client, bob):
    client.post("/ui/main/admin/announcements", data={
        "message": "Upgrade at noon", "type": "ERROR",
        **_window(timedelta(minutes=-5), timedelta(hours=1))})
    client.post("/ui/main/admin/announcements", data={
        "message": "Not yet", "type": "INFO",
        **_window(timedelta(hours=1), timedelta(hours=2))})
    browser = login(app, bob.email)
    html = browser.get("/ui/main/profile").get_data(as_text=True)
    assert ("error", "Upgrade at noon") in _banners(html)
    assert "Not yet" not in html

    [active] = [a for a in account_store.list_announcements() if a.message == "Upgrade at noon"]
    accounts.save_announcement(active.id, message=active.message, type=active.type,
                               start_date=utcnow() - timedelta(hours=2),
                               end_date=utcnow() - timedelta(minutes=1))
    assert "Upgrade at noon" not in browser.get("/ui/main/profile").get_data(as_text=True)


def test_a_dismissed_banner_stays_hidden_for_that_session_only(app, client, bob):
    announcement_id = accounts.save_announcement(
        None, message="Read me", type="INFO", start_date=utcnow() - timedelta(minutes=1),
        end_date=utcnow() + timedelta(hours=1))
    browser = login(app, bob.email)
    assert "Read me" in browser.get("/ui/main/profile").get_data(as_text=True)
    response = browser.post(f"/ui/main/announcements/{announcement_id}/dismiss", htmx=True)
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert "Read me" not in browser.get("/ui/main/profile").get_data(as_text=True)

    other_session = login(app, bob.email)
    assert "Read me" in other_session.get("/ui/main/profile").get_data(as_text=True)


def test_dismissing_without_htmx_returns_to_the_page(client):
    announcement_id = accounts.save_announcement(
        None, message="Bye", type="INFO", start_date=utcnow() - timedelta(minutes=1),
        end_date=utcnow() + timedelta(hours=1))
    response = client.post(f"/ui/main/announcements/{announcement_id}/dismiss",
                           headers={"Referer": "http://localhost/ui/main/flows?q=x"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/ui/main/flows?q=x"
    response = client.post(f"/ui/main/announcements/{announcement_id}/dismiss",
                           headers={"Referer": "https://evil.example/ui/main/flows"})
    assert response.headers["Location"] == "/ui/main/dashboard"


def test_the_users_tab_lists_users_and_creates_one(client, bob):
    html = client.get("/ui/main/admin/users").get_data(as_text=True)
    assert "alice@example.com" in html and "bob@example.com" in html
    assert "Super admin" in html
    response = client.post("/ui/main/admin/users", data={
        "email": "Carol@Example.com", "password": "a long password", "superadmin": "1"})
    assert response.status_code == 303
    carol = account_store.find_user("carol@example.com")
    assert carol is not None and carol.superadmin
    html = client.get("/ui/main/admin/users").get_data(as_text=True)
    assert "User carol@example.com created." in html and "carol@example.com" in html
    assert accounts.authenticate("carol@example.com", "a long password") is not None


def test_a_created_member_is_not_a_super_admin(client):
    client.post("/ui/main/admin/users", data={"email": "dave@example.com",
                                              "password": "a long password"})
    assert account_store.find_user("dave@example.com").superadmin is False


def test_creating_a_user_shows_inline_errors(client, bob):
    cases = [({"email": "not-an-email", "password": "a long password"}, "not a valid email"),
             ({"email": "eve@example.com", "password": "short"}, "at least 8 characters"),
             ({"email": "bob@example.com", "password": "a long password"}, "already exists")]
    for form, message in cases:
        response = client.post("/ui/main/admin/users", data=form)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in html
        assert f'value="{form["email"]}"' in html      # what was typed stays
    assert account_store.find_user("eve@example.com") is None
    assert len(account_store.list_users()) == 2
