"""First-run setup, logout and login in a real browser."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def test_first_run_setup_creates_the_admin_then_logout_and_login_work(page, shots):
    page.goto("/")
    expect(page).to_have_url(re.compile(r".*/setup$"))
    shots(page, "setup page")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.fill("input[name=confirm]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/ui/main/dashboard"))
    expect(page.locator(".whoami")).to_contain_text(ADMIN_EMAIL)
    shots(page, "logged in")

    page.click("text=Log out")
    expect(page).to_have_url(re.compile(r".*/login$"))
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("Wrong email or password")
    shots(page, "wrong password")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/ui/main/dashboard"))
    shots(page, "logged in again")
