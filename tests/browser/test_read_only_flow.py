"""A flow labelled `system.readOnly: "true"` opens read-only in the editor (no save button,
a readonly source with the reason), and a forged save is refused."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.browser.helpers import AUTH, csrf_token, deploy_flow, get_flow

FLOW = """
id: managed_by_ci
namespace: company.team
labels:
  system.readOnly: "true"
  team: data
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: deployed by CI
"""


def test_a_read_only_flow_cannot_be_edited_and_a_forged_save_is_refused(admin_page, server,
                                                                         shots):
    page = admin_page
    deploy_flow(server, FLOW)
    page.goto("/ui/main/flows/company.team/managed_by_ci")
    header = page.locator(".flow-header")
    expect(header.locator(".badge", has_text="read-only")).to_be_visible()
    expect(header.get_by_role("button", name="Delete")).to_have_count(0)
    shots(page, "flow page with read-only badge")

    page.get_by_role("navigation", name="Flow").get_by_role("link", name="Editor").click()
    expect(page).to_have_url(re.compile(r".*\?tab=editor$"))
    source = page.get_by_label("Flow source (YAML)")
    expect(source).to_have_attribute("readonly", "")
    expect(source).not_to_be_editable()
    expect(source).to_have_value(re.compile(r"message: deployed by CI"))
    reason = page.locator(".read-only-banner")
    expect(reason).to_contain_text("read-only")
    expect(reason).to_contain_text('system.readOnly: "true"')
    editor = page.locator("#flow-editor")
    expect(editor.get_by_role("button", name=re.compile("Save|Create"))).to_have_count(0)
    expect(editor.locator("button[type=submit]")).to_have_count(0)
    expect(page.locator("#validation")).to_have_count(0)    # no live validation either
    shots(page, "read-only editor")

    # a forged save from the page: make the source writable, change it, submit the form
    page.evaluate("""() => {
        const area = document.querySelector('#flow-editor textarea[name=source]');
        area.removeAttribute('readonly');
        area.value = area.value.replace('deployed by CI', 'changed in the browser');
        document.querySelector('#flow-editor').submit();
    }""")
    expect(page.get_by_role("heading", level=1)).to_have_text("Error 403")
    expect(page.locator("#main")).to_contain_text("read-only")
    shots(page, "forged save refused")

    # the same forgery without the page, with this session's cookie and CSRF token
    page.goto("/ui/main/flows/company.team/managed_by_ci?tab=editor")
    response = page.request.post(
        "/ui/main/flows/company.team/managed_by_ci",
        form={"csrf_token": csrf_token(page), "original_namespace": "company.team",
              "original_flow_id": "managed_by_ci",
              "source": FLOW.replace("deployed by CI", "forged")},
        max_redirects=0)
    assert response.status == 403, response.status
    # and through the API (Basic auth): update and delete are refused too
    api = f"{server}/api/v1/main/flows/company.team/managed_by_ci"
    put = requests.put(api, data=FLOW.replace("deployed by CI", "forged"), auth=AUTH,
                       headers={"Content-Type": "application/x-yaml"}, timeout=15)
    assert put.status_code == 403, put.text
    assert requests.delete(api, auth=AUTH, timeout=15).status_code == 403

    stored = get_flow(server, "company.team", "managed_by_ci")
    assert stored["revision"] == 1
    assert "deployed by CI" in stored["source"]
    page.reload()
    expect(page.get_by_label("Flow source (YAML)")).to_have_value(
        re.compile(r"message: deployed by CI"))
    expect(page.locator(".flow-header")).to_contain_text("revision 1")
    shots(page, "source unchanged")
