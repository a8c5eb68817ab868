"""Manual pause of a running execution from its page, then resume: it goes on to SUCCESS."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import deploy_flow, get_execution, run_execution

FLOW = """
id: long_nap
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT5S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: awake after the nap
"""


def test_pause_a_running_execution_then_resume_it_to_success(admin_page, server, shots):
    page = admin_page
    deploy_flow(server, FLOW)
    execution_id = run_execution(server, "company.team", "long_nap")["id"]
    page.goto(f"/ui/main/executions/company.team/long_nap/{execution_id}?tab=tasks")
    state = page.locator(".execution-header .state")
    actions = page.locator(".execution-header .actions")
    pause = actions.get_by_role("button", name="Pause", exact=True)
    expect(state).to_have_text("RUNNING", timeout=10_000)
    expect(pause).to_be_visible(timeout=10_000)             # the polled header shows it
    tasks = page.locator(".task-tree tbody")
    nap = tasks.locator("tr", has=page.locator("td .mono", has_text=re.compile(r"^nap$")))
    expect(nap.locator(".state").first).to_have_text("RUNNING", timeout=10_000)
    shots(page, "running")

    pause.click()
    expect(page.locator("#flash")).to_contain_text("paused", ignore_case=True)
    expect(state).to_have_text("PAUSED")
    expect(actions.get_by_role("button", name="Pause", exact=True)).to_have_count(0)
    resume = actions.get_by_role("button", name="Resume", exact=True)
    expect(resume).to_be_visible()
    shots(page, "paused")

    # it stays paused: the running nap ends, but the next task does not start
    expect(nap.locator(".state").first).to_have_text("SUCCESS", timeout=15_000)
    page.wait_for_timeout(1_000)
    assert get_execution(server, execution_id)["state"]["current"] == "PAUSED"
    expect(state).to_have_text("PAUSED")
    expect(tasks).not_to_contain_text("after")
    shots(page, "still paused after the nap")

    resume.click()
    expect(page.locator("#flash")).to_contain_text("resumed", ignore_case=True)
    expect(state).to_have_text("SUCCESS", timeout=20_000)
    expect(tasks).to_contain_text("after")
    shots(page, "resumed to SUCCESS")
    execution = get_execution(server, execution_id)
    history = [entry["state"] for entry in execution["state"]["histories"]]
    assert "PAUSED" in history and history[-1] == "SUCCESS", history
    page.get_by_role("navigation", name="Execution").get_by_role("link", name="Logs").click()
    expect(page).to_have_url(re.compile(r".*tab=logs"))
    expect(page.locator("#log-lines")).to_contain_text("awake after the nap")
    shots(page, "logs")
