"""Bookmarking a filtered executions page with the star of the top bar, then opening it
again from the navigation's bookmarks list: the same filtered URL comes back."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.helpers import deploy_flow, run_execution

FLOW = """
id: bookmarked
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
"""
QUERY = "namespace:company.team state:SUCCESS"


def test_bookmark_a_filtered_page_and_open_it_from_the_navigation(admin_page, server, shots):
    page = admin_page
    deploy_flow(server, FLOW)
    run_execution(server, "company.team", "bookmarked", wait=True)
    page.goto("/ui/main/executions")
    bar = page.get_by_role("searchbox", name="Filter executions")
    bar.fill(QUERY)
    bar.press("Enter")
    expect(page.locator("form.filter-bar .chip")).to_have_count(2)
    expect(page.locator("table.executions tbody tr")).to_have_count(1)
    filtered = urlsplit(page.url)
    filtered_path = filtered.path + "?" + filtered.query
    nav_bookmarks = page.locator("#nav-bookmarks")
    expect(nav_bookmarks.get_by_role("link")).to_have_count(0)
    shots(page, "filtered executions")

    star = page.locator("#bookmark-star summary")
    expect(star).to_have_attribute("aria-label", "Bookmark this page")
    star.click()
    name = page.locator("#bookmark-star").get_by_label("Bookmark name")
    expect(name).to_be_visible()
    expect(name).to_have_value(re.compile(r"Executions"))
    shots(page, "star opened")
    name.fill("Successful team runs")
    page.locator("#bookmark-star").get_by_role("button", name="Save bookmark").click()
    expect(page.locator("#bookmark-star summary")).to_have_attribute("aria-label", "Bookmarked")
    expect(page.locator("#bookmark-star summary")).to_have_text("★")
    link = nav_bookmarks.get_by_role("link", name="Successful team runs")
    expect(link).to_be_visible()                        # the navigation list, out of band
    expect(link).to_have_attribute("href", filtered_path)
    shots(page, "bookmarked")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r".*/ui/main/dashboard"))
    expect(page.locator("#bookmark-star summary")).to_have_attribute("aria-label",
                                                                      "Bookmark this page")
    shots(page, "another page")
    page.locator("#nav-bookmarks").get_by_role("link", name="Successful team runs").click()
    expect(page).to_have_url(re.compile(r".*/ui/main/executions\?q=.+"))
    landed = urlsplit(page.url)
    assert landed.path + "?" + landed.query == filtered_path
    assert parse_qs(landed.query)["q"] == [QUERY]
    expect(page.locator("form.filter-bar .chip")).to_have_count(2)
    expect(page.locator("table.executions tbody tr")).to_have_count(1)
    expect(page.locator("#bookmark-star summary")).to_have_attribute("aria-label", "Bookmarked")
    shots(page, "opened from the bookmarks list")
