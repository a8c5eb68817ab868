"""Bad input of any kind gets a message, never a server error (both databases)."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("url", [
    "/ui/main/flows?page=99999999999999999999999",
    "/ui/main/logs?page=99999999999999999999999",
    "/ui/main/executions?page=99999999999999999999999&size=-5",
    "/ui/main/executions?q=since:999999999d",
    "/ui/main/executions?q=from:0001-01-01T00:00:00%2B05:00",
    "/ui/main/dashboard?q=since:999999999d",
])
def test_absurd_numbers_and_dates_in_pages_are_not_server_errors(client, url):
    assert client.get(url).status_code < 500


@pytest.mark.parametrize("url", [
    "/api/v1/flows/search?page=9223372036854775808",
    "/api/v1/logs/search?page=9223372036854775808",
    "/api/v1/executions/search?endDate=0001-01-01T00:00:00%2B05:00",
    "/api/v1/flows/company.team/hello?revision=99999999999999999999",
])
def test_absurd_numbers_and_dates_in_the_api_answer_a_4xx_message(api, url):
    response = api.get(url)
    assert 400 <= response.status_code < 500 and response.get_json()["message"]


def test_a_nul_character_is_refused_with_a_message(client, api):
    assert client.get("/ui/main/executions?q=%00").status_code == 400
    response = api.get("/api/v1/executions/search?q=%00")
    assert response.status_code == 400 and "NUL" in response.get_json()["message"]


def test_free_text_wildcards_are_plain_characters(api):
    source = ("id: hello\nnamespace: company.team\ntasks:\n  - id: t\n"
              "    type: io.kestra.plugin.core.log.Log\n    message: hi\n")
    assert api.post("/api/v1/flows", data=source,
                    content_type="application/x-yaml").status_code == 200
    assert api.get("/api/v1/flows/search?q=hel").get_json()["total"] == 1
    assert api.get("/api/v1/flows/search?q=%25").get_json()["total"] == 0
    assert api.get("/api/v1/flows/search?q=h_llo").get_json()["total"] == 0


def test_the_largest_executions_page_stays_under_100_kb(client):
    """100 rows (the largest page size) with long namespaces, flow ids and labels."""
    from tests.store.test_search import execution
    for index in range(120):
        execution(namespace=f"company.team.department.{index % 7}",
                  flow_id=f"a_rather_long_flow_identifier_{index}",
                  labels={"env": "production", "team": "data-platform",
                          "owner": f"someone-{index}@example.com"}, hours_ago=index)
    response = client.get("/ui/main/executions?size=100")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("a_rather_long_flow_identifier_") >= 100
    assert len(response.data) < 100_000, len(response.data)


def test_the_largest_flows_page_stays_under_100_kb(client, runtime):
    from kestra_lite.services import flows as flow_service
    for index in range(100):
        flow_service.deploy(runtime, "main", (
            f"id: a_rather_long_flow_identifier_{index}\n"
            f"namespace: company.team.department.{index % 7}\n"
            "labels:\n  env: production\n  team: data-platform\n"
            "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"))
    response = client.get("/ui/main/flows?size=100")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("a_rather_long_flow_identifier_") >= 100
    assert len(response.data) < 100_000, len(response.data)
