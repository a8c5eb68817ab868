"""Filtering the executions list by typing in the filter bar, then reopening the URL (same
page reloaded, and a new tab) brings back the same chips and results."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.helpers import deploy_flow, run_execution

FLOWS = {
    ("company.team", "hello_ok"): """
        id: hello_ok
        namespace: company.team
        tasks:
          - id: hello
            type: io.kestra.plugin.core.log.Log
            message: fine
    """,
    ("company.team", "always_fails"): """
        id: always_fails
        namespace: company.team
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: on purpose
    """,
    ("acme.ops", "other_ok"): """
        id: other_ok
        namespace: acme.ops
        tasks:
          - id: hello
            type: io.kestra.plugin.core.log.Log
            message: elsewhere
    """,
}
QUERY = "namespace:company.team state:SUCCESS"


def seed(server) -> dict:
    """Flows in two namespaces, one execution each (one FAILED); returns {flow: id}."""
    ids = {}
    for (namespace, flow_id), source in FLOWS.items():
        deploy_flow(server, source)
        execution = run_execution(server, namespace, flow_id, wait=True)
        assert execution["state"]["current"] in ("SUCCESS", "FAILED"), execution["state"]
        ids[flow_id] = execution["id"]
    return ids


def expect_filtered(page, ids: dict) -> None:
    chips = page.locator("form.filter-bar .chip")
    expect(chips).to_have_count(2)
    expect(chips.nth(0)).to_contain_text("namespace:company.team")
    expect(chips.nth(1)).to_contain_text("state:SUCCESS")
    rows = page.locator("table.executions tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("hello_ok")
    expect(rows.first.get_by_role("link", name=ids["hello_ok"][:8])).to_be_visible()
    expect(page.locator(".toolbar .count")).to_have_text("1 execution")


def test_filter_executions_by_typing_then_reopen_the_url(admin_page, server, shots):
    page = admin_page
    ids = seed(server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Executions").click()
    expect(page).to_have_url(re.compile(r".*/ui/main/executions$"))
    expect(page.locator("table.executions tbody tr")).to_have_count(3)
    shots(page, "all executions")

    bar = page.get_by_role("searchbox", name="Filter executions")
    bar.click()
    bar.press_sequentially(QUERY, delay=20)
    # the suggestions follow the last word typed (a debounced htmx request)
    expect(page.locator("#filter-suggestions-executions").get_by_role("option")).to_have_text(
        ["state:SUCCESS"])
    shots(page, "typing with suggestions")
    bar.press("Enter")
    expect(page).to_have_url(re.compile(r".*/ui/main/executions\?q=.+"))
    assert parse_qs(urlsplit(page.url).query)["q"] == [QUERY]
    expect_filtered(page, ids)
    expect(page.get_by_role("searchbox", name="Filter executions")).to_have_value("")
    shots(page, "filtered list")

    filtered_url = page.url
    page.goto(page.url)                                      # reload the same URL
    expect_filtered(page, ids)
    shots(page, "same URL reloaded")

    other = page.context.new_page()                          # a new tab, same session
    other.goto(filtered_url)
    expect_filtered(other, ids)
    shots(other, "same URL in a new tab")

    # removing a chip widens the list again (namespace only: the FAILED one comes back)
    other.get_by_role("link", name="Remove filter state:SUCCESS").click()
    expect(other.locator("form.filter-bar .chip")).to_have_count(1)
    expect(other.locator("table.executions tbody tr")).to_have_count(2)
    expect(other.locator("table.executions")).to_contain_text("always_fails")
    expect(other.locator("table.executions")).not_to_contain_text("other_ok")
    shots(other, "state chip removed")
    other.close()
