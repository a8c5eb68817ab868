"""The dashboard: a server-drawn SVG chart of executions per state, counts linking to the
filtered executions list, the latest failures, all following the filter bar."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from kestra_lite.services import executions as execution_service
from kestra_lite.services import flows as flow_service
from kestra_lite.services.flow_test import run_until_settled

OK_FLOW = """
id: hello
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello
"""
FAILING_FLOW = """
id: broken
namespace: company.ops
labels:
  env: prod
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: it broke
"""


def run(runtime, source, labels=None):
    flow = flow_service.deploy(runtime, "main", source)
    execution = execution_service.create_execution(runtime, flow, labels=labels)
    run_until_settled(runtime, "main", execution.id)
    return execution


@pytest.fixture
def executions(runtime):
    return {"ok": [run(runtime, OK_FLOW), run(runtime, OK_FLOW)],
            "failed": [run(runtime, FAILING_FLOW)]}


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def query_of(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("q", [""])[0]


def test_the_dashboard_draws_bars_per_state_for_the_executions_of_the_last_7_days(
        client, executions):
    response = client.get("/ui/main/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<svg class="chart"' in html
    assert re.search(r'<rect [^>]*data-state="SUCCESS"><title>[^<]*SUCCESS 2</title>', html)
    assert re.search(r'<rect [^>]*data-state="FAILED"><title>[^<]*FAILED 1</title>', html)
    assert "Last 7 days (default range)" in html
    assert len(response.data) < 100_000


def test_each_state_count_links_to_the_executions_list_filtered_by_that_state_and_range(
        client, executions):
    html = client.get("/ui/main/dashboard?q=namespace:company").get_data(as_text=True)
    counts = dict(re.findall(r'<a class="count-tile" href="([^"]+)" data-state="(\w+)">', html))
    links = {state: unescape(url) for url, state in counts.items()}
    assert set(links) == {"SUCCESS", "FAILED"}
    failed = links["FAILED"]
    assert urlsplit(failed).path == "/ui/main/executions"
    assert query_of(failed) == "namespace:company since:7d state:FAILED"
    assert re.search(r'<span class="count">2</span><span class="state state-SUCCESS">', html)
    assert re.search(r'<span class="count">3</span><span class="muted">Total', html)


def test_recent_failures_link_to_the_execution_pages(client, executions):
    failed = executions["failed"][0]
    html = client.get("/ui/main/dashboard").get_data(as_text=True)
    section = html.split('id="failures-title"', 1)[1]
    assert f"/ui/main/executions/company.ops/broken/{failed.id}" in hrefs(section)
    assert executions["ok"][0].id[:8] not in section
    assert "env:prod" in section


def test_the_filter_bar_drives_the_chart_and_the_counts(client, executions):
    html = client.get("/ui/main/dashboard?q=namespace:company.team").get_data(as_text=True)
    assert 'data-state="SUCCESS"' in html
    assert 'data-state="FAILED"' not in html
    assert "No failed executions in this range" in html


def test_an_explicit_time_range_replaces_the_7_day_default(client, executions):
    html = client.get("/ui/main/dashboard?q=since:1h").get_data(as_text=True)
    assert "Last 7 days" not in html
    assert 'data-state="SUCCESS"' in html
    html = client.get("/ui/main/dashboard?q=from:2001-01-01 to:2001-01-02").get_data(
        as_text=True)
    assert "No executions in this range" in html
    assert "data-state=" not in html.split('<svg class="chart"', 1)[1].split("</svg>")[0]


def test_a_bad_filter_shows_its_message_inline_and_no_chart(client, executions):
    response = client.get("/ui/main/dashboard?q=state:NOPE")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "state:NOPE: unknown state NOPE" in html
    assert "<svg" not in html


def test_clicking_a_state_badge_adds_it_to_the_filter(client, executions):
    html = client.get("/ui/main/dashboard?q=namespace:company").get_data(as_text=True)
    section = html.split('id="failures-title"', 1)[1]
    badge = re.search(r'<a class="state state-FAILED" href="([^"]+)"', section).group(1)
    assert query_of(unescape(badge)) == "namespace:company state:FAILED"
