"""The triggers UI through the test client: the Triggers page (list, filters, the enable
switch, unlock, backfills), the backfill form, and a flow's "triggers" tab with the panel
explaining its preconditions. Real app, real database (SQLite or PostgreSQL), real Redis
queue; upstream executions run through a burst worker."""
from __future__ import annotations

import re
import textwrap
from datetime import timedelta
from html import unescape

import pytest

from kestra_lite.model.state import utcnow
from kestra_lite.services import executions as execution_service
from kestra_lite.services import flows as flow_service
from kestra_lite.services import schedules
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import db as store_db
from kestra_lite.store import triggers as trigger_store

TENANT = "main"
LIST = "/ui/main/triggers"
ROW = '<tr id="t-'          # a row of the triggers table

NIGHTLY = """
    id: nightly
    namespace: company.team
    inputs:
      - id: region
        type: STRING
        defaults: eu
      - id: count
        type: INT
        defaults: 1
    tasks:
      - id: hello
        type: io.kestra.plugin.core.log.Log
        message: "{{ inputs.region }}"
    triggers:
      - id: every_hour
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "0 * * * *"
      - id: paris_mornings
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "0 7 * * *"
        timezone: Europe/Paris
      - id: hook
        type: io.kestra.plugin.core.trigger.Webhook
        key: s3cr3t-webhook-key
"""
EXTRACT = """
    id: extract
    namespace: company.etl
    tasks:
      - id: work
        type: io.kestra.plugin.core.log.Log
        message: extracted
"""
LOAD = EXTRACT.replace("extract", "load")
REPORT = """
    id: report
    namespace: company.etl
    tasks:
      - id: work
        type: io.kestra.plugin.core.log.Log
        message: reported
    triggers:
      - id: after_both
        type: io.kestra.plugin.core.trigger.Flow
        preconditions:
          id: extract_and_load
          flows:
            - namespace: company.etl
              flowId: extract
              states: [SUCCESS]
            - namespace: company.etl
              flowId: load
              states: [SUCCESS]
      - id: on_failure
        type: io.kestra.plugin.core.trigger.Flow
        states: [FAILED]
        conditions:
          - type: io.kestra.plugin.core.condition.ExecutionNamespace
            namespace: company
            comparison: PREFIX
"""
OFF_IN_YAML = """
    id: paused_job
    namespace: other.ns
    tasks:
      - id: work
        type: io.kestra.plugin.core.log.Log
        message: hi
    triggers:
      - id: weekly
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "@weekly"
        disabled: true
"""


def deploy(runtime, source: str):
    return flow_service.deploy(runtime, TENANT, textwrap.dedent(source))


def text_of(response) -> str:
    """The page as plain text (tags removed, spaces collapsed)."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r" ([,.:;])", r"\1", re.sub(r"\s+", " ", unescape(body)))


def trigger(trigger_id: str, flow_id: str = "nightly", namespace: str = "company.team"):
    return trigger_store.get_trigger(TENANT, namespace, flow_id, trigger_id)


def act(client, trigger_id: str, action: str, flow_id="nightly", namespace="company.team",
        **kwargs):
    return client.post(f"{LIST}/{namespace}/{flow_id}/{trigger_id}",
                       data={"action": action, "next": LIST}, **kwargs)


@pytest.fixture
def flows(runtime):
    for source in (NIGHTLY, EXTRACT, LOAD, REPORT, OFF_IN_YAML):
        deploy(runtime, source)


# -- the list ---------------------------------------------------------------------------------
def test_the_page_lists_schedule_flow_and_webhook_triggers_with_their_next_dates(client, flows):
    response = client.get(LIST)
    assert response.status_code == 200
    page = text_of(response)
    assert "6 triggers" in page
    for trigger_id in ("every_hour", "paris_mornings", "hook", "after_both", "on_failure",
                       "weekly"):
        assert trigger_id in page
    nightly = trigger("every_hour")
    assert nightly.next_date is not None
    assert "Next date (UTC)" in page
    assert nightly.next_date.strftime("%Y-%m-%d %H:%M:%S") in page
    assert "0 7 * * * Europe/Paris" in page
    assert "disabled in YAML" in page
    body = response.get_data(as_text=True)
    assert 'href="/ui/main/flows/company.team/nightly"' in body
    assert 'href="/ui/main/triggers/company.team/nightly/every_hour/backfill"' in body
    assert "/hook/backfill" not in body          # only schedules are backfilled


def test_the_list_filters_by_type_namespace_and_state(client, flows):
    page = text_of(client.get(LIST + "?q=type:Flow"))
    assert "2 triggers" in page and "after_both" in page and "every_hour" not in page
    page = text_of(client.get(LIST + "?q=type:Schedule namespace:company"))
    assert "2 triggers" in page and "paris_mornings" in page and "weekly" not in page
    page = text_of(client.get(LIST + "?q=enabled:false"))
    assert "1 trigger " in page and "weekly" in page


def test_free_text_matches_the_namespace_the_flow_and_the_trigger_id(client, flows):
    page = text_of(client.get(LIST + "?q=paris"))
    assert "1 trigger " in page and "paris_mornings" in page
    page = text_of(client.get(LIST + "?q=ETL"))
    assert "2 triggers" in page and "after_both" in page
    page = text_of(client.get(LIST + '?q="100%_"'))
    assert "0 triggers" in page and "No trigger matches." in page


def test_a_bad_query_gives_an_inline_message_and_no_rows(client, flows):
    response = client.get(LIST + "?q=type:Cron")
    assert response.status_code == 200
    page = text_of(response)
    assert "type:Cron: unknown trigger type Cron; expected one of Schedule, Flow, Webhook" in page
    assert "Fix the filter to see triggers." in page and "every_hour" not in page


def test_the_filter_bar_suggests_trigger_types_and_namespaces_holding_triggers(client, flows):
    types = client.get("/ui/main/filter-bar/triggers/suggest",
                       query_string={"q": "type:we", "action": LIST}).get_data(as_text=True)
    assert "type:Webhook" in types and "type:Schedule" not in types
    spaces = client.get("/ui/main/filter-bar/triggers/suggest",
                        query_string={"q": "namespace:comp", "action": LIST}).get_data(
                            as_text=True)
    assert "namespace:company.etl" in spaces and "namespace:company.team" in spaces
    assert ">namespace:company<" in spaces and "other.ns" not in spaces


def test_the_page_shows_at_most_the_page_size_and_links_the_next_page(client, runtime):
    triggers = "\n".join(f"""
      - id: t{i:03d}
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "{i % 60} * * * *" """ for i in range(30))
    deploy(runtime, "id: many\nnamespace: company.team\ntasks:\n  - id: a\n"
           "    type: io.kestra.plugin.core.log.Log\n    message: x\ntriggers:" +
           textwrap.indent(textwrap.dedent(triggers), "  "))
    first = client.get(LIST).get_data(as_text=True)
    assert first.count(ROW) == 25
    assert "Page 1 of 2" in first and 'href="/ui/main/triggers?page=2" rel="next"' in first
    second = client.get(LIST + "?page=2").get_data(as_text=True)
    assert second.count(ROW) == 5 and "t029" in second


def test_a_page_of_100_triggers_stays_under_100_kb_and_costs_the_same_queries_as_10(
        client, runtime, monkeypatch):
    for n in range(10):
        triggers = "\n".join(f"""
          - id: trigger_identifier_{i:02d}
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "*/5 * * * *"
            timezone: America/Buenos_Aires""" for i in range(11))
        deploy(runtime, f"id: flow_with_a_long_name_{n}\nnamespace: "
               "company.department.team\ntasks:\n  - id: a\n"
               "    type: io.kestra.plugin.core.log.Log\n    message: x\ntriggers:" +
               textwrap.indent(textwrap.dedent(triggers), "  "))
    statements = []
    real = store_db.database.obj.execute_sql

    def counting(sql, *args, **kwargs):
        if '"triggers"' in sql:
            statements.append(sql)
        return real(sql, *args, **kwargs)
    monkeypatch.setattr(store_db.database.obj, "execute_sql", counting)
    small = client.get(LIST + "?size=10")
    small_count, statements[:] = len(statements), []
    response = client.get(LIST + "?size=100")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count(ROW) == 100
    assert len(response.data) < 100_000, len(response.data)
    assert small.status_code == 200 and len(statements) == small_count <= 2


# -- enabling, disabling, unlocking -----------------------------------------------------------
def test_disabling_then_enabling_a_trigger_changes_it_in_the_database(client, flows):
    response = act(client, "every_hour", "disable")
    assert response.status_code == 303 and response.headers["Location"] == LIST
    assert trigger("every_hour").disabled is True
    assert trigger("every_hour").next_fire_at is None
    assert "Trigger company.team.nightly.every_hour: disabled." in text_of(client.get(LIST))
    row = act(client, "every_hour", "enable", htmx=True)
    assert row.status_code == 200
    body = row.get_data(as_text=True)
    row_id = re.search(r'<tr id="([^"]+)" class="trigger">', body).group(1)
    assert row.headers["HX-Retarget"] == f"#{row_id}" and row.headers["HX-Reswap"] == "outerHTML"
    assert f'<tr id="{row_id}"' in client.get(LIST).get_data(as_text=True)   # the same row
    assert 'value="disable" role="switch" aria-checked="true"' in body
    assert trigger("every_hour").disabled is False
    assert trigger("every_hour").next_fire_at is not None


def test_a_trigger_disabled_in_the_yaml_cannot_be_enabled_and_the_message_says_why(
        client, flows):
    response = act(client, "weekly", "enable", flow_id="paused_job", namespace="other.ns",
                   htmx=True)
    assert response.status_code == 409
    assert "disabled in the flow source" in text_of(response)
    assert trigger("weekly", "paused_job", "other.ns").enabled is False
    page = client.get(LIST + "?q=flow:paused_job").get_data(as_text=True)
    assert 'value="enable"' not in page and "disabled in YAML" in page


def test_an_unknown_action_or_trigger_is_a_message_not_a_crash(client, flows):
    response = act(client, "every_hour", "explode")
    assert response.status_code == 422 and "Unknown trigger action `explode`" in text_of(response)
    response = act(client, "nope", "disable")
    assert response.status_code == 404 and "Trigger nope of flow" in text_of(response)


def test_unlock_frees_a_schedule_locked_by_the_execution_it_started(client, runtime, flows):
    hourly = trigger("every_hour")
    schedules.fire_due(runtime, hourly.next_date + timedelta(seconds=1))
    locked = trigger("every_hour")
    assert locked.execution_id is not None
    page = client.get(LIST + "?q=flow:nightly").get_data(as_text=True)
    assert f"locked by <a href=\"/ui/main/executions/company.team/nightly/{locked.execution_id}\"" \
        in page
    assert 'value="unlock"' in page
    response = act(client, "every_hour", "unlock", htmx=True)
    assert response.status_code == 200 and 'value="unlock"' not in response.get_data(as_text=True)
    assert trigger("every_hour").execution_id is None


# -- backfill -------------------------------------------------------------------------------
BACKFILL = LIST + "/company.team/nightly/every_hour/backfill"


def test_the_backfill_form_says_the_timezone_and_prefills_the_inputs(client, flows):
    page = client.get(BACKFILL).get_data(as_text=True)
    assert "in UTC" in text_of(client.get(BACKFILL))
    assert 'name="region" value="eu"' in page and 'name="count" value="1"' in page
    paris = text_of(client.get(LIST + "/company.team/nightly/paris_mornings/backfill"))
    assert "in Europe/Paris, the schedule's timezone" in paris
    response = client.get(LIST + "/company.team/nightly/hook/backfill")
    assert response.status_code == 404 and "only schedules can be backfilled" in text_of(response)


def test_a_backfill_ending_before_it_starts_is_refused_inline_and_nothing_is_stored(
        client, flows):
    response = client.post(BACKFILL, data={"start": "2026-01-02T00:00",
                                           "end": "2026-01-01T00:00"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert re.search(r'id="error-end" role="alert">The end comes before the start', body)
    assert 'value="2026-01-02T00:00"' in body            # what was typed comes back
    assert trigger("every_hour").backfill is None


def test_an_invalid_backfill_input_is_shown_next_to_the_input(client, flows):
    response = client.post(BACKFILL, data={"start": "2026-01-01T00:00",
                                           "end": "2026-01-01T03:00", "count": "many"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert re.search(r'id="error-count" role="alert">[^<]*count', body), body
    assert trigger("every_hour").backfill is None


def test_a_range_without_dates_is_explained_beside_the_dates(client, flows):
    response = client.post(BACKFILL, data={"start": "2026-01-01T00:10",
                                           "end": "2026-01-01T00:20"})
    assert response.status_code == 422
    assert 'id="error-range"' in response.get_data(as_text=True)
    assert "has no date between" in text_of(response)


def test_the_preview_counts_the_dates_the_range_covers(client, flows):
    response = client.get(BACKFILL + "/preview",
                          query_string={"start": "2026-01-01T00:00", "end": "2026-01-01T05:30"})
    assert response.status_code == 200
    assert text_of(response).strip() == ("6 dates, from 2026-01-01 00:00:00 UTC to "
                                         "2026-01-01 05:00:00 UTC.")
    paris = client.get(LIST + "/company.team/nightly/paris_mornings/backfill/preview",
                       query_string={"start": "2026-01-01T00:00", "end": "2026-01-03T00:00"})
    assert "2 dates, from 2026-01-01 06:00:00 UTC" in text_of(paris)   # 07:00 Paris


def test_a_valid_backfill_is_stored_and_its_progress_shown_then_paused_resumed_deleted(
        client, runtime, flows):
    response = client.post(BACKFILL, data={"start": "2026-01-01T00:00",
                                           "end": "2026-01-01T02:00", "region": "us",
                                           "count": "2", "labels": "backfill=true"})
    assert response.status_code == 303, text_of(response)
    stored = trigger("every_hour").backfill
    assert stored["start"].startswith("2026-01-01T00:00") and stored["total"] == 3
    assert stored["inputs"] == {"region": "us", "count": "2"}
    assert stored["labels"] == [{"key": "backfill", "value": "true"}]
    page = text_of(client.get(response.headers["Location"]))
    assert "Backfill of company.team.nightly.every_hour started." in page
    assert "0/3" in page and "at 2026-01-01 00:00" in page
    schedules.fire_due(runtime, utcnow())          # the scheduler runs the first date
    assert "1/3" in text_of(client.get(LIST + "?q=flow:nightly"))
    act(client, "every_hour", "pause")
    assert trigger("every_hour").backfill["paused"] is True
    assert "1/3 paused" in text_of(client.get(LIST + "?q=flow:nightly"))
    row = act(client, "every_hour", "resume", htmx=True).get_data(as_text=True)
    assert trigger("every_hour").backfill["paused"] is False and 'value="pause"' in row
    act(client, "every_hour", "delete-backfill")
    assert trigger("every_hour").backfill is None
    again = client.post(BACKFILL, data={"start": "2026-01-01T00:00", "end": ""})
    assert again.status_code == 303                # a new one once the old one is gone


def test_a_second_backfill_is_refused_while_one_is_set(client, flows):
    client.post(BACKFILL, data={"start": "2026-01-01T00:00", "end": "2026-01-01T02:00"})
    response = client.post(BACKFILL, data={"start": "2026-02-01T00:00",
                                           "end": "2026-02-01T02:00"})
    assert response.status_code == 422
    assert "already has a backfill" in text_of(response)
    assert trigger("every_hour").backfill["total"] == 3


# -- a flow's triggers tab ------------------------------------------------------------------
def tab(client, flow_id="report", namespace="company.etl"):
    return client.get(f"/ui/main/flows/{namespace}/{flow_id}?tab=triggers")


def test_the_tab_explains_which_preconditions_are_met_and_which_are_missing(client, runtime,
                                                                            flows):
    before = text_of(tab(client))
    assert "Preconditions extract_and_load: 0 of 2 met" in before
    extract = runtime.load_flow(TENANT, "company.etl", "extract")
    execution = execution_service.create_execution(runtime, extract)
    run_until_settled(runtime, TENANT, execution.id)
    body = tab(client).get_data(as_text=True)
    after = text_of(tab(client))
    assert "Preconditions extract_and_load: 1 of 2 met" in after
    met = re.search(r'<li class="met">(.*?)</li>', body, re.S).group(1)
    missing = re.search(r'<li class="missing">(.*?)</li>', body, re.S).group(1)
    assert "extract" in met and "load" in missing
    assert re.search(r"Window \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC – \d{4}-\d\d-\d\d "
                     r"\d\d:\d\d:\d\d UTC: [\dhms ]+ left", after), after
    assert "Last fired: never" in after


def test_the_tab_shows_a_plain_flow_trigger_in_words(client, flows):
    page = text_of(tab(client))
    assert "Fires when an execution of another flow reaches FAILED, and:" in page
    assert "the execution's namespace starts with company" in page


def test_the_tab_masks_the_webhook_key_until_revealed(client, flows):
    body = tab(client, "nightly", "company.team").get_data(as_text=True)
    masked = "http://localhost/api/v1/executions/webhook/company.team/nightly/••••••••"
    assert f"<summary><code>{masked}</code>" in body
    shown = re.search(r"<details class=\"webhook-url\">.*?</summary>(.*?)</details>", body,
                      re.S).group(1)
    assert "http://localhost/api/v1/executions/webhook/company.team/nightly/s3cr3t-webhook-key" \
        in shown
    assert body.count("s3cr3t-webhook-key") == 1        # only inside the <details>


def test_the_tab_rows_act_like_the_triggers_page_rows(client, flows):
    body = tab(client, "nightly", "company.team").get_data(as_text=True)
    assert body.count(ROW) == 3
    assert 'name="next" value="/ui/main/flows/company.team/nightly?tab=triggers"' in body
    response = client.post(f"{LIST}/company.team/nightly/hook", data={
        "action": "disable", "next": "/ui/main/flows/company.team/nightly?tab=triggers"})
    assert response.headers["Location"] == "/ui/main/flows/company.team/nightly?tab=triggers"
    assert trigger("hook").disabled is True


def test_a_flow_without_triggers_says_so(client, flows):
    assert "This flow has no trigger." in text_of(tab(client, "extract"))


def test_a_form_cannot_send_the_browser_to_another_site(client, flows):
    response = client.post(f"{LIST}/company.team/nightly/hook",
                           data={"action": "disable", "next": "//evil.example/x"})
    assert response.headers["Location"] == LIST


def test_triggers_declared_but_not_registered_yet_are_pointed_out(client, flows):
    trigger_store.delete_triggers(TENANT, "company.team", "nightly")   # saved before rows
    page = text_of(tab(client, "nightly", "company.team"))
    assert "This flow declares 3 triggers that are not registered yet" in page


def test_a_backfill_typed_in_the_schedules_timezone_is_stored_in_utc(client, flows):
    response = client.post(LIST + "/company.team/nightly/paris_mornings/backfill",
                           data={"start": "2026-07-01T07:00", "end": "2026-07-03T07:00"})
    assert response.status_code == 303, text_of(response)
    stored = trigger("paris_mornings").backfill
    assert stored["start"].startswith("2026-07-01T05:00")       # 07:00 in Paris in summer
    assert stored["total"] == 3


def test_the_panel_shows_the_last_evaluation_error_with_its_date(client, flows):
    listener = trigger("after_both", "report", "company.etl")
    listener.data = {"lastError": {"date": "2026-11-20T10:00:00Z",
                                   "message": "Invalid where filter: boom"}}
    assert trigger_store.update_trigger(listener, utcnow())
    page = text_of(tab(client))
    assert "Last evaluation error (2026-11-20T10:00:00Z): Invalid where filter: boom" in page
    listing = client.get(LIST + "?q=flow:report").get_data(as_text=True)
    assert 'class="badge error" title="Invalid where filter: boom"' in listing


def test_relative_dates_read_in_their_largest_unit():
    from datetime import datetime, timezone
    from kestra_lite.web.triggers import relative
    now = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
    assert relative(now + timedelta(minutes=5, seconds=30), now) == "in 5 min"
    assert relative(now - timedelta(hours=2, minutes=59), now) == "2 h ago"
    assert relative(now + timedelta(days=3), now) == "in 3 d"
    assert relative(now + timedelta(milliseconds=200), now) == "now"


def test_the_docs_button_of_the_page_opens_the_triggers_documentation(client, flows):
    body = client.get(LIST).get_data(as_text=True)
    docs = re.search(r'id="docs-toggle" href="([^"]+)"', body).group(1)
    assert docs.endswith("/triggers")
    page = text_of(client.get(docs))
    assert "The Triggers page" in page and "Backfill" in page
    assert re.search(r'<a href="/ui/main/triggers"\s+aria-current="page">Triggers</a>', body)
