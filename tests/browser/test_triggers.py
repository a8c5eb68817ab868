"""The Triggers page in a real browser against the real processes (web, worker, scheduler):
switch a schedule off and on in place, backfill it from the form and watch the scheduler
run the dates, and see why a Flow trigger with preconditions has not fired yet."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import deploy_flow, run_execution

SCHEDULE = """
id: nightly
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date }}"
triggers:
  - id: every-night
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
"""
UPSTREAM = """
id: {flow_id}
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: done
"""
REPORT = """
id: report
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: both upstreams are done
triggers:
  - id: after-both
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: both
      flows:
        - namespace: company.team
          flowId: extract
          states: [SUCCESS]
        - namespace: company.team
          flowId: transform
          states: [SUCCESS]
"""


def test_a_schedule_is_switched_off_and_on_in_place_then_backfilled(admin_page, server, shots):
    page = admin_page
    deploy_flow(server, SCHEDULE)
    page.goto("/ui/main/triggers?q=type:Schedule")
    row = page.locator("tr.trigger", has_text="every-night")
    expect(row).to_contain_text("0 2 * * *")
    expect(row.locator(".badge.on")).to_have_text("enabled")
    shots(page, "triggers page")

    row.get_by_role("switch").click()                       # htmx swaps the row
    expect(row.locator(".badge")).to_have_text("disabled")
    expect(row.get_by_role("switch")).to_have_text("Enable")
    expect(page).to_have_url(re.compile(r"/ui/main/triggers\?q=type(:|%3A)Schedule$"))
    row.get_by_role("switch").click()
    expect(row.locator(".badge.on")).to_have_text("enabled")
    shots(page, "switched off and on")

    row.get_by_role("link", name="Backfill").click()
    page.get_by_label(re.compile("^Start")).fill("2026-01-01T00:00")
    page.get_by_label(re.compile("^End")).fill("2026-01-03T12:00")
    shots(page, "backfill form")
    page.get_by_role("button", name=re.compile("Start the backfill|Backfill")).click()
    row = page.locator("tr.trigger", has_text="every-night")
    expect(row).to_contain_text("/3")
    # the scheduler fires the three dates one after the other (each waits for the last)
    for _ in range(30):
        page.reload()
        if "3/3" in row.inner_text() or "Backfill" in row.inner_text():
            break
        page.wait_for_timeout(500)
    page.goto("/ui/main/executions?q=flow:nightly")
    expect(page.locator("tbody tr")).to_have_count(3)
    shots(page, "three backfilled executions")


def test_the_flow_triggers_tab_explains_what_a_precondition_still_misses(admin_page, server,
                                                                        shots):
    page = admin_page
    deploy_flow(server, UPSTREAM.format(flow_id="extract"))
    deploy_flow(server, UPSTREAM.format(flow_id="transform"))
    deploy_flow(server, REPORT)
    run_execution(server, "company.team", "extract", wait=True)
    page.goto("/ui/main/flows/company.team/report?tab=triggers")
    panel = page.locator(".preconditions")
    expect(panel.locator("h3")).to_contain_text("1 of 2 met")
    expect(panel.locator("li.met")).to_contain_text("extract")
    expect(panel.locator("li.missing")).to_contain_text("transform")
    expect(panel.locator(".window")).to_contain_text("left")
    shots(page, "preconditions panel: one missing")

    run_execution(server, "company.team", "transform", wait=True)
    page.goto("/ui/main/executions?q=flow:report")
    expect(page.locator("tbody tr")).to_have_count(1, timeout=10_000)
    shots(page, "the listener ran")
