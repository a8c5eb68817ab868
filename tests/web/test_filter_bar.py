"""The filter bar: the suggest endpoint (htmx autocomplete), the macro, the URL helpers."""
from __future__ import annotations

import re
from html import unescape
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from flask import render_template_string

from kestra_lite.model.execution import Execution, new_id
from kestra_lite.model.filters import FilterError, parse_filters
from kestra_lite.model.state import State, StateInfo
from kestra_lite.store import executions as execution_store
from kestra_lite.store import flows as flow_store

NOW = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
ACTION = "/ui/main/executions"


def suggest(client, page, text, chips="", action=ACTION, **extra):
    response = client.get(f"/ui/main/filter-bar/{page}/suggest",
                          query_string={"q": text, "chips": chips, "action": action, **extra},
                          headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def links(html):
    return [(href, unescape(label))
            for href, label in re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', html)]


def query_of(href):
    return parse_qs(urlsplit(href.replace("&amp;", "&")).query).get("q", [""])[0]


def store_execution(namespace, flow_id, labels):
    execution = Execution(id=new_id(), namespace=namespace, flow_id=flow_id, flow_revision=1,
                          state=StateInfo.new(State.SUCCESS, NOW),
                          labels=[{"key": k, "value": v} for k, v in labels.items()])
    execution_store.insert_execution("main", execution)
    return execution


def test_typing_the_start_of_a_key_suggests_the_key_to_keep_typing(client):
    html = suggest(client, "executions", "sta")
    assert [label for _, label in links(html)] == ["state:"]
    assert 'hx-swap="outerHTML"' in html and "fill=1" in html


def test_an_empty_input_suggests_every_key_of_the_page(client):
    labels = [label for _, label in links(suggest(client, "logs", ""))]
    assert labels == ["level:", "namespace:", "flow:", "execution:", "since:", "from:", "to:"]


def test_a_state_prefix_suggests_matching_states_that_apply_the_filter(client):
    html = suggest(client, "executions", "hello state:f", chips="namespace:company")
    (href, label), = links(html)
    assert label == "state:FAILED"
    assert href.startswith(ACTION + "?")
    assert query_of(href) == "namespace:company hello state:FAILED"


def test_namespaces_come_from_the_store_with_their_parents(client):
    store_execution("company.team", "hello", {})
    flow_store.save_flow("main", "company.data", "etl", "id: etl\nnamespace: company.data")
    flow_store.save_flow("main", "other", "x", "id: x\nnamespace: other")
    labels = [label for _, label in links(suggest(client, "executions", "namespace:com"))]
    assert labels == ["namespace:company", "namespace:company.data", "namespace:company.team"]


def test_flow_ids_are_suggested_within_the_chosen_namespace(client):
    flow_store.save_flow("main", "company", "hello", "id: hello\nnamespace: company")
    flow_store.save_flow("main", "other", "help", "id: help\nnamespace: other")
    assert [label for _, label in links(suggest(client, "executions", "flow:he"))] == [
        "flow:hello", "flow:help"]
    assert [label for _, label in links(suggest(client, "executions", "flow:he",
                                                chips="namespace:company"))] == ["flow:hello"]


def test_label_keys_are_suggested_then_the_values_of_the_chosen_key(client):
    store_execution("company", "a", {"env": "prod", "team": "data"})
    store_execution("company", "b", {"env": "dev west"})
    keys = suggest(client, "executions", "label:")
    assert [label for _, label in links(keys)] == ["label:env=", "label:team="]
    values = suggest(client, "executions", "label:env=")
    assert [label for _, label in links(values)] == ['label:"env=dev west"', "label:env=prod"]
    assert [label for _, label in links(suggest(client, "executions", "label:env=p"))] == [
        "label:env=prod"]


def test_picking_a_key_returns_an_input_holding_it_with_focus(client):
    html = suggest(client, "executions", "label:env=", chips="state:FAILED", fill="1")
    assert 'value="label:env="' in html and "autofocus" in html
    assert 'id="filter-input-executions"' in html
    assert "&#34;chips&#34;: &#34;state:FAILED&#34;" in html or '"chips": "state:FAILED"' in html


def test_levels_scopes_and_windows_are_offered_as_values(client):
    assert [l for _, l in links(suggest(client, "logs", "level:w"))] == ["level:WARN"]
    assert [l for _, l in links(suggest(client, "flows", "scope:"))] == ["scope:USER",
                                                                        "scope:SYSTEM"]
    assert "since:24h" in [l for _, l in links(suggest(client, "executions", "since:2"))]


def test_a_key_the_page_does_not_take_suggests_nothing(client):
    assert links(suggest(client, "flows", "state:F")) == []


def test_an_unknown_page_is_not_found_and_an_outside_action_is_refused(client):
    assert client.get("/ui/main/filter-bar/nope/suggest?q=a").status_code == 404
    response = client.get("/ui/main/filter-bar/executions/suggest",
                          query_string={"q": "state:F", "action": "//evil.example/x"})
    assert response.status_code == 400


def test_suggestions_need_a_login(app):
    response = app.test_client().get("/ui/main/filter-bar/executions/suggest?q=sta")
    assert response.status_code in (302, 401)


def test_a_submitted_bar_is_joined_into_one_query_on_page_one(client):
    response = client.get("/ui/main/executions?q=state:FAILED&q=hello+world&page=3&size=50")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert parse_qs(urlsplit(location).query) == {"q": ["state:FAILED hello world"],
                                                 "size": ["50"]}


def render_bar(app, url, query, page="executions"):
    with app.test_request_context(url):
        from flask import g
        g.tenant = "main"
        try:
            filters, error = parse_filters(query, page), None
        except FilterError as failure:
            filters, error = None, failure
        return render_template_string(
            '{% from "macros/filter_bar.html" import filter_bar %}'
            '{{ filter_bar(page, q, "/ui/main/executions", filters, error) }}',
            page=page, q=query, filters=filters, error=error)


def test_the_bar_shows_removable_chips_and_keeps_the_free_text_in_the_input(app):
    html = render_bar(app, "/ui/main/executions?q=x&size=50",
                      'state:FAILED label:"env=prod west" hello')
    chips = re.findall(r'<span class="chip"[^>]*>(.*?)<a href="([^"]+)"', html)
    assert [text for text, _ in chips] == ["state:FAILED", 'label:&#34;env=prod west&#34;']
    removed = parse_qs(urlsplit(chips[0][1].replace("&amp;", "&")).query)
    assert removed == {"q": ['label:"env=prod west" hello'], "size": ["50"]}
    assert 'type="hidden" name="q" value="state:FAILED label:&#34;env=prod west&#34;"' in html
    assert re.search(r'type="search" name="q" value="hello"', html)
    assert 'hx-trigger="input changed delay:150ms, focus"' in html
    assert 'name="size" value="50"' in html


def test_a_bad_query_is_shown_inline_and_left_in_the_input_to_fix(app):
    html = render_bar(app, "/ui/main/executions", "state:FOO hello")
    assert 'class="flash flash-error filter-error"' in html
    assert "state:FOO: unknown state FOO; expected one of" in html
    assert re.search(r'type="search" name="q" value="state:FOO hello"', html)
    assert 'class="chip"' not in html


def test_add_filter_url_extends_the_current_query_and_restarts_at_page_one(app):
    with app.test_request_context("/ui/main/executions?q=state:FAILED&page=4&sort=id:asc"):
        url = app.jinja_env.globals["add_filter_url"]("label", "env=prod")
    assert urlsplit(url).path == "/ui/main/executions"
    assert parse_qs(urlsplit(url).query) == {"q": ["state:FAILED label:env=prod"],
                                            "sort": ["id:asc"]}
    with app.test_request_context("/ui/main/executions?q=state:FAILED"):
        again = app.jinja_env.globals["add_filter_url"]("state", "failed")
    assert parse_qs(urlsplit(again).query) == {"q": ["state:FAILED"]}
