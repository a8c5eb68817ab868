"""An announcement made in Administration -> Announcements shows as a banner of its type on
every page; dismissing it hides it for the rest of the session (a new session sees it)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

MESSAGE = "Maintenance tonight: the workers restart at 22:00 UTC"
PAGES = ("/ui/main/flows", "/ui/main/executions", "/ui/main/logs", "/ui/main/namespaces",
         "/ui/main/blueprints")


def _local(moment: datetime) -> str:
    """A datetime-local value (the form reads it as UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_an_announcement_shows_on_every_page_until_dismissed(admin_page, shots):
    page = admin_page
    expect(page.locator("#announcements .banner")).to_have_count(0)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Administration").click()
    expect(page).to_have_url(re.compile(r".*/ui/main/admin$"))
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Announcements").click()
    form = page.locator("#announcement-form")
    expect(form).to_contain_text("New announcement")
    shots(page, "announcements page")

    now = datetime.now(timezone.utc)
    form.get_by_label("Message").fill(MESSAGE)
    form.get_by_label("Type").select_option("WARNING")
    form.get_by_label("Start").fill(_local(now - timedelta(hours=1)))
    form.get_by_label("End").fill(_local(now + timedelta(hours=1)))
    shots(page, "form filled")
    form.get_by_role("button", name="Create").click()

    expect(page.locator("#flash")).to_contain_text("Announcement created")
    row = page.locator("table.announcements tbody tr", has_text=MESSAGE)
    expect(row).to_contain_text("WARNING")
    expect(row.locator(".status")).to_have_text("active")
    banner = page.locator("#announcements .banner")
    expect(banner).to_have_count(1)
    expect(banner).to_have_class(re.compile(r"\bbanner-warning\b"))
    expect(banner).to_contain_text(MESSAGE)
    expect(banner).to_have_attribute("role", "status")
    shots(page, "created, banner shown")

    for path in PAGES:
        page.goto(path)
        expect(page.locator("#announcements .banner-warning")).to_contain_text(MESSAGE)
    shots(page, "banner on another page")

    page.locator("#announcements .banner").get_by_role("button", name="Dismiss").click()
    expect(page.locator("#announcements .banner")).to_have_count(0)
    shots(page, "dismissed")
    for path in PAGES[:2] + ("/ui/main/dashboard",):
        page.goto(path)
        expect(page.locator("#main")).to_be_visible()
        expect(page.locator("#announcements .banner")).to_have_count(0)
    shots(page, "still hidden after navigating")

    # another session (a fresh browser context) sees it again
    other = page.context.browser.new_context(base_url=page.url.split("/ui/")[0],
                                             viewport={"width": 1400, "height": 900})
    try:
        fresh = other.new_page()
        fresh.goto("/login")
        fresh.fill("input[name=email]", ADMIN_EMAIL)
        fresh.fill("input[name=password]", ADMIN_PASSWORD)
        fresh.click("button[type=submit]")
        expect(fresh).to_have_url(re.compile(r".*/ui/main/dashboard"))
        expect(fresh.locator("#announcements .banner-warning")).to_contain_text(MESSAGE)
        shots(fresh, "a new session sees it")
    finally:
        other.close()
