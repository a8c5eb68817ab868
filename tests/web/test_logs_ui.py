"""The Logs page: search by level, namespace, flow, execution, text and time through the
filter bar, newest first with paging, and the live tail fragment."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from kestra_lite.model.state import utcnow
from kestra_lite.services import executions as execution_service
from kestra_lite.services import flows as flow_service
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import logs as log_store


def line(message, level="INFO", namespace="company.team", flow="etl", execution="exec1",
         task="extract", at=None):
    return {"executionId": execution, "namespace": namespace, "flowId": flow, "taskId": task,
            "taskRunId": f"tr-{task}", "attemptNumber": 1, "level": level,
            "message": message, "timestamp": at or utcnow(), "thread": "worker"}


@pytest.fixture
def logs(db):
    old = utcnow() - timedelta(days=3)
    log_store.append_logs("main", [
        line("starting extract"),
        line("slow response from api", level="WARN"),
        line("connection timeout after 30s", level="ERROR", task="load"),
        line("debug details", level="DEBUG"),
        line("other flow says hi", namespace="company.ops", flow="report", execution="exec2"),
        line("an old line", at=old, execution="exec3"),
        line("the latest line", execution="exec9"),
    ])
    log_store.append_logs("other", [line("not for main: secret tenant line")])


def messages(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<span class="msg">([^<]*)', html)]


def test_the_logs_page_lists_every_line_newest_first(client, logs):
    response = client.get("/ui/main/logs")
    found = messages(response.get_data(as_text=True))
    assert response.status_code == 200
    assert found[0] == "the latest line" and found[-1] == "starting extract"
    assert len(found) == 7
    assert "not for main: secret tenant line" not in found


def test_a_minimum_level_keeps_that_level_and_above(client, logs):
    found = messages(client.get("/ui/main/logs?q=level:WARN").get_data(as_text=True))
    assert found == ["connection timeout after 30s", "slow response from api"]


def test_free_text_and_namespace_and_flow_narrow_the_search(client, logs):
    assert messages(client.get("/ui/main/logs?q=timeout").get_data(as_text=True)) == [
        "connection timeout after 30s"]
    found = messages(client.get("/ui/main/logs?q=namespace:company.ops").get_data(as_text=True))
    assert found == ["other flow says hi"]
    found = messages(client.get("/ui/main/logs?q=flow:report").get_data(as_text=True))
    assert found == ["other flow says hi"]
    assert messages(client.get("/ui/main/logs?q=namespace:company since:1d")
                    .get_data(as_text=True)).count("an old line") == 0


def test_an_execution_filter_shows_the_logs_of_a_real_execution_with_links(client, runtime):
    flow = flow_service.deploy(runtime, "main", """
id: hello
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello from the engine
""")
    execution = execution_service.create_execution(runtime, flow)
    run_until_settled(runtime, "main", execution.id)
    html = client.get(f"/ui/main/logs?q=execution:{execution.id}").get_data(as_text=True)
    assert "hello from the engine" in messages(html)
    assert f'href="/ui/main/executions/company.team/hello/{execution.id}"' in html
    assert '<span class="task">say</span>' in html


def test_a_bad_filter_shows_its_message_inline(client, logs):
    response = client.get("/ui/main/logs?q=level:LOUD")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "level:LOUD: unknown level LOUD" in html
    assert messages(html) == []


def test_the_level_badge_adds_a_level_filter(client, logs):
    html = client.get("/ui/main/logs?q=timeout").get_data(as_text=True)
    badge = re.search(r'<a class="lvl lvl-ERROR" href="([^"]+)"', html).group(1)
    assert parse_qs(urlsplit(unescape(badge)).query)["q"] == ["level:ERROR timeout"]


def test_pages_of_100_lines_and_long_messages_keep_the_page_small(client, db):
    log_store.append_logs("main", [line(f"line {i} " + "<&\"x" * 1000) for i in range(150)])
    first = client.get("/ui/main/logs")
    assert len(first.data) < 100_000
    found = messages(first.get_data(as_text=True))
    assert len(found) == 100 and found[0].startswith("line 149 ")
    second = messages(client.get("/ui/main/logs?page=2").get_data(as_text=True))
    assert len(second) == 50 and second[-1].startswith("line 0 ")


def test_tail_mode_polls_and_turning_it_off_stops_polling(client, logs):
    html = client.get("/ui/main/logs?q=level:WARN&tail=1").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in html
    poll = unescape(re.search(r'id="log-tail"[^>]*hx-get="([^"]+)"', html).group(1))
    assert poll.startswith("/ui/main/logs/tail?") and "after_id=" in poll
    off = client.get("/ui/main/logs?q=level:WARN").get_data(as_text=True)
    assert "every 1s" not in off


def test_the_tail_fragment_returns_only_newer_matching_lines(client, logs):
    html = client.get("/ui/main/logs?q=level:WARN&tail=1").get_data(as_text=True)
    poll = unescape(re.search(r'id="log-tail"[^>]*hx-get="([^"]+)"', html).group(1))
    assert client.get(poll, headers={"HX-Request": "true"}).status_code == 204
    log_store.append_logs("main", [line("fresh error", level="ERROR"),
                                   line("fresh info", level="INFO"),
                                   line("fresh warning", level="WARN")])
    response = client.get(poll, headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert messages(fragment) == ["fresh warning", "fresh error"]
    assert 'hx-swap-oob="true"' in fragment
    next_poll = unescape(re.search(r'id="log-tail"[^>]*hx-get="([^"]+)"', fragment).group(1))
    assert next_poll != poll
    assert client.get(next_poll, headers={"HX-Request": "true"}).status_code == 204
