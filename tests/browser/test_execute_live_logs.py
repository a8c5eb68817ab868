"""Executing a flow from its generated form (a STRING and an INT input), then following its
logs live on the execution page until SUCCESS, without reloading; polling stops at the end."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import deploy_flow

FLOW = """
id: greet_inputs
namespace: company.team
inputs:
  - id: user_name
    type: STRING
    description: Who to greet
  - id: repeat
    type: INT
    defaults: 1
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.user_name }}, {{ inputs.repeat }} times"
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: bye
    type: io.kestra.plugin.core.log.Log
    message: "Goodbye {{ inputs.user_name }}, twice {{ inputs.repeat * 2 }}"
"""


def test_execute_with_inputs_and_watch_the_logs_stream_to_success(admin_page, server, shots):
    page = admin_page
    deploy_flow(server, FLOW)
    page.goto("/ui/main/flows/company.team/greet_inputs")
    page.locator(".flow-header").get_by_role("link", name="Execute").click()
    expect(page).to_have_url(re.compile(r".*/flows/company\.team/greet_inputs\?tab=execute$"))
    name = page.locator("#field-user_name input")
    repeat = page.locator("#field-repeat input")
    expect(page.locator("#field-user_name")).to_contain_text("STRING")
    expect(page.locator("#field-repeat")).to_contain_text("INT")
    expect(repeat).to_have_value("1")                       # the default
    shots(page, "generated execute form")

    repeat.fill("21")
    name.fill("Ada")
    shots(page, "form filled")
    page.locator("form.execute-form").get_by_role("button", name="Execute").click()

    expect(page).to_have_url(re.compile(r".*/ui/main/executions/company\.team/greet_inputs/\w+$"))
    expect(page.locator("#flash")).to_contain_text("created")
    execution_url = page.url
    page.get_by_role("navigation", name="Execution").get_by_role("link", name="Logs").click()
    expect(page).to_have_url(re.compile(r".*\?tab=logs$"))
    page.evaluate("window.__sameDocument = true")           # gone if the page reloads
    lines = page.locator("#log-lines")
    state = page.locator(".execution-header .state")
    expect(lines).to_contain_text("Hello Ada, 21 times", timeout=15_000)
    shown_first = lines.inner_text()
    expect(page.locator("#log-poller")).to_have_attribute("hx-trigger", "every 1s")
    shots(page, "first log line while running")
    assert "Goodbye" not in shown_first, "the whole run was over before the logs were shown"
    expect(state).not_to_have_text("SUCCESS")

    expect(lines).to_contain_text("Goodbye Ada, twice 42", timeout=15_000)
    expect(state).to_have_text("SUCCESS", timeout=15_000)
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert page.url == execution_url + "?tab=logs"
    # polling stops once terminated: neither the header nor the log tail asks again
    expect(page.locator("#execution-live")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    expect(page.locator("#log-poller")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    text = lines.inner_text()
    assert text.count("Hello Ada, 21 times") == 1 and text.count("Goodbye Ada") == 1
    assert text.index("Hello Ada") < text.index("Goodbye Ada")
    shots(page, "SUCCESS with all the logs")

    page.get_by_role("navigation", name="Execution").get_by_role("link", name="Overview").click()
    expect(page.locator(".overview")).to_contain_text('"user_name": "Ada"')
    expect(page.locator(".overview")).to_contain_text('"repeat": 21')
    shots(page, "overview with the inputs")
