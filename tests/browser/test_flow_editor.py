"""Creating a flow in the editor: a mistake is shown at its line while typing (debounced
htmx validation), fixed in place, then the flow is created and its page opens."""
from __future__ import annotations

import re

from playwright.sync_api import expect

BROKEN = """id: greet_editor
namespace: company.team

tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Lgo
    message: Hello from the editor
"""


def test_an_error_is_shown_at_its_line_while_typing_then_fixed_and_saved(admin_page, shots):
    page = admin_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Flows").click()
    expect(page).to_have_url(re.compile(r".*/ui/main/flows$"))
    page.goto("/ui/main/flows/new")
    editor = page.get_by_label("Flow source (YAML)")
    validation = page.locator("#validation")
    expect(editor).to_be_editable()
    expect(validation).to_contain_text("checked while you type")
    shots(page, "new flow editor")

    # typing: the whole source, with a typo in the task type on line 6
    editor.fill("")
    editor.press_sequentially(BROKEN, delay=2)
    expect(validation).to_have_class(re.compile(r"\bbad\b"), timeout=10_000)
    expect(validation).to_contain_text("1 problem")
    problem = validation.locator("li[data-line='6']")
    expect(problem).to_contain_text("line 6:11")
    expect(problem).to_contain_text("Unknown task type `io.kestra.plugin.core.log.Lgo`")
    expect(problem.locator(".source-line")).to_contain_text("type: io.kestra.plugin.core.log.Lgo")
    gutter = page.locator("#gutter li")
    expect(gutter.nth(5)).to_have_class("e")            # line 6 is marked in the gutter
    expect(page.locator("#gutter li.e")).to_have_count(1)
    shots(page, "error shown at line 6")

    # fixing it in place: select the typo and type over it
    page.evaluate("""() => {
        const area = document.querySelector('textarea[name=source]');
        const at = area.value.indexOf('Lgo');
        area.focus();
        area.setSelectionRange(at, at + 3);
    }""")
    page.keyboard.type("Log", delay=30)
    expect(validation).to_have_class(re.compile(r"\bok\b"), timeout=10_000)
    expect(validation).to_contain_text("Valid")
    expect(page.locator("#gutter li.e")).to_have_count(0)
    assert "type: io.kestra.plugin.core.log.Log\n" in editor.input_value()
    shots(page, "fixed and valid")

    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r".*/ui/main/flows/company\.team/greet_editor$"))
    expect(page.locator("#flash")).to_contain_text("Flow company.team.greet_editor created")
    expect(page.get_by_role("heading", level=1)).to_have_text("greet_editor")
    expect(page.locator(".flow-header")).to_contain_text("revision 1")
    shots(page, "flow page")

    page.get_by_role("navigation", name="Flow").get_by_role("link", name="Editor").click()
    expect(page.get_by_label("Flow source (YAML)")).to_have_value(
        re.compile(r"type: io\.kestra\.plugin\.core\.log\.Log\n"))
    shots(page, "saved source in the editor")
