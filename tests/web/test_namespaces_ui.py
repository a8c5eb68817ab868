"""Namespaces: the list derived from flows and KV entries, a namespace's flows, its KV
store (create, edit, delete; typed values and TTL checked, nothing stored on error) and
the secret names it can use (never their values)."""
from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from html import unescape

import pytest

from kestra_lite.model.state import utcnow
from kestra_lite.services import flows as flow_service
from kestra_lite.store import kv as kv_store

FLOW = """
id: {id}
namespace: {namespace}
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
"""
KV = "/ui/main/namespaces/company.team/kv"


def deploy(runtime, flow_id, namespace):
    flow_service.deploy(runtime, "main", FLOW.format(id=flow_id, namespace=namespace))


def entries(namespace="company.team"):
    return {entry.key: entry for entry in kv_store.kv_list("main", namespace, now=utcnow())}


def create(client, key, value, type="STRING", ttl=""):
    return client.post(KV, data={"mode": "create", "key": key, "type": type, "value": value,
                                 "ttl": ttl})


def test_the_list_shows_namespaces_of_flows_and_kv_entries_with_their_parents(client, runtime):
    deploy(runtime, "a", "company.team")
    deploy(runtime, "b", "company.team")
    deploy(runtime, "c", "company.ops.reports")
    kv_store.kv_put("main", "lonely.kv", "k", "v", now=utcnow())
    kv_store.kv_put("other", "other.tenant", "k", "v", now=utcnow())
    html = client.get("/ui/main/namespaces").get_data(as_text=True)
    rows = re.findall(r'href="/ui/main/namespaces/([\w.-]+)">.*?</a></td>\s*'
                      r'<td class="num">(\d+)</td>', html)
    assert rows == [("company", "0"), ("company.ops", "0"), ("company.ops.reports", "1"),
                    ("company.team", "2"), ("lonely", "0"), ("lonely.kv", "0")]
    assert f'href="{KV}' not in html and "/namespaces/lonely.kv/kv" in html
    assert "other.tenant" not in html
    searched = client.get("/ui/main/namespaces?q=ops").get_data(as_text=True)
    assert "company.ops.reports" in searched and "namespaces/company.team\"" not in searched


def test_open_namespace_goes_to_a_namespace_that_has_nothing_yet(client):
    response = client.get("/ui/main/namespaces?go=brand.new")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ui/main/namespaces/brand.new")
    assert client.get("/ui/main/namespaces/brand.new").status_code == 200
    assert client.get("/ui/main/namespaces/Bad%20Name").status_code == 404


def test_the_overview_lists_the_flows_of_the_namespace_and_its_children(client, runtime):
    deploy(runtime, "a", "company.team")
    deploy(runtime, "c", "company.team.sub")
    html = client.get("/ui/main/namespaces/company.team").get_data(as_text=True)
    assert ">a</a>" in html and "/flows/company.team/a" in html
    assert "/ui/main/namespaces/company.team.sub" in html
    assert 'aria-current="page">Overview' in html


def test_creating_a_string_entry_with_a_ttl_stores_it_with_its_expiration(client):
    before = utcnow()
    response = create(client, "greeting", "hello world", ttl="PT1H")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(KV)
    entry = entries()["greeting"]
    assert (entry.value, entry.type) == ("hello world", "STRING")
    assert before + timedelta(minutes=59) < entry.expires_at <= utcnow() + timedelta(hours=1)
    html = client.get(KV).get_data(as_text=True)
    assert "Key &#39;greeting&#39; created." in html
    assert "<code>greeting</code>" in html and "hello world" in html


@pytest.mark.parametrize("kind, text, stored", [
    ("NUMBER", "42", 42), ("NUMBER", "-1.5", -1.5), ("BOOLEAN", "TRUE", True),
    ("DATETIME", "2025-01-31T08:30:00+02:00", "2025-01-31T06:30:00Z"),
    ("DATE", "2025-01-31", "2025-01-31"), ("DURATION", "P1D", "PT24H"),
    ("JSON", '{"a": [1, 2]}', {"a": [1, 2]}),
])
def test_each_type_is_parsed_before_it_is_stored(client, kind, text, stored):
    assert create(client, "k", text, type=kind).status_code == 303
    entry = entries()["k"]
    assert (entry.type, entry.value) == (kind, stored)


@pytest.mark.parametrize("kind, text, ttl, message", [
    ("NUMBER", "abc", "", "NUMBER value 'abc' is not a number"),
    ("BOOLEAN", "yes", "", "BOOLEAN value 'yes' must be true or false"),
    ("DATE", "31/01/2025", "", "DATE value '31/01/2025' is not an ISO-8601 date"),
    ("DURATION", "1 hour", "", "DURATION value '1 hour' is not an ISO-8601 duration"),
    ("JSON", "{oops", "", "JSON value is not valid JSON"),
    ("STRING", "fine", "soon", "TTL 'soon' is not an ISO-8601 duration"),
])
def test_a_bad_value_or_ttl_is_reported_inline_and_nothing_is_stored(client, kind, text, ttl,
                                                                      message):
    response = create(client, "k", text, type=kind, ttl=ttl)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in html
    assert f">{text}</textarea>" in html          # what was typed is kept
    assert entries() == {}


def test_a_bad_key_and_an_existing_key_are_refused(client):
    response = create(client, "has space", "v")
    assert response.status_code == 422
    assert "Invalid key 'has space'" in unescape(response.get_data(as_text=True))
    create(client, "taken", "first")
    response = create(client, "taken", "second")
    assert response.status_code == 422
    assert "already exists" in unescape(response.get_data(as_text=True))
    assert entries()["taken"].value == "first"


def test_editing_changes_the_type_value_and_ttl(client):
    create(client, "config", "1", type="NUMBER", ttl="PT1H")
    html = unescape(client.get(f"{KV}/edit?key=config").get_data(as_text=True))
    assert 'name="key" value="config" readonly' in html
    assert "<option selected>NUMBER</option>" in html
    assert re.search(r'name="ttl" value="PT(59M\d+S|1H)"', html)
    response = client.post(KV, data={"mode": "edit", "key": "config", "type": "JSON",
                                     "value": '{"retries": 3}', "ttl": ""})
    assert response.status_code == 303
    entry = entries()["config"]
    assert (entry.type, entry.value, entry.expires_at) == ("JSON", {"retries": 3}, None)


def test_a_bad_edit_keeps_the_old_value(client):
    create(client, "count", "7", type="NUMBER")
    response = client.post(KV, data={"mode": "edit", "key": "count", "type": "NUMBER",
                                     "value": "seven", "ttl": ""})
    assert response.status_code == 422
    assert "NUMBER value 'seven' is not a number" in unescape(response.get_data(as_text=True))
    assert entries()["count"].value == 7


def test_editing_a_missing_key_is_not_found(client):
    assert client.get(f"{KV}/edit?key=ghost").status_code == 404


def test_deleting_asks_for_confirmation_and_removes_the_entry(client):
    create(client, "doomed", "bye")
    html = client.get(KV).get_data(as_text=True)
    assert 'data-confirm="Delete the key doomed?"' in html
    response = client.post(f"{KV}/delete", data={"key": "doomed"})
    assert response.status_code == 303
    assert entries() == {}
    assert "Key &#39;doomed&#39; deleted." in client.get(KV).get_data(as_text=True)


def test_entries_set_by_flows_with_any_key_can_be_deleted(client):
    kv_store.kv_put("main", "company.team", "odd/key", {"x": 1}, now=utcnow())
    html = unescape(client.get(KV).get_data(as_text=True))
    assert '{"x": 1}' in html
    client.post(f"{KV}/delete", data={"key": "odd/key"})
    assert entries() == {}


def test_expired_entries_are_not_listed(client):
    kv_store.kv_put("main", "company.team", "old", "v", ttl=timedelta(seconds=1),
                    now=utcnow() - timedelta(hours=1))
    kv_store.kv_put("main", "company.team", "day", date(2025, 1, 1), now=utcnow())
    html = client.get(KV).get_data(as_text=True)
    assert "<code>old</code>" not in html and "<code>day</code>" in html


def test_the_secrets_tab_shows_secret_names_but_never_their_values(app, client, make_runtime):
    encoded = base64.b64encode(b"hunter2-very-secret").decode()
    app.extensions["kestra_runtime"] = make_runtime(secrets={"DB_PASSWORD": encoded,
                                                             "api_token": "dG9rZW4="})
    html = client.get("/ui/main/namespaces/company.team/secrets").get_data(as_text=True)
    assert "<code>API_TOKEN</code>" in html and "<code>DB_PASSWORD</code>" in html
    assert "secret(&#39;DB_PASSWORD&#39;)" in html
    for leaked in ("hunter2", encoded, "dG9rZW4=", "token<"):
        assert leaked not in html
    other = client.get("/ui/main/namespaces/anything.else/secrets").get_data(as_text=True)
    assert "<code>DB_PASSWORD</code>" in other


def test_a_large_kv_store_is_paged(client):
    for i in range(120):
        kv_store.kv_put("main", "company.team", f"key{i:03}", "v" * 200, now=utcnow())
    first = client.get(KV)
    keys = re.findall(r"<td><code>(key\d+)</code></td>", first.get_data(as_text=True))
    assert len(keys) == 100 and keys[0] == "key000"
    assert len(first.data) < 100_000
    html = first.get_data(as_text=True)
    assert 'href="/ui/main/namespaces/company.team/kv?page=2"' in html
    second = client.get(f"{KV}?page=2").get_data(as_text=True)
    assert re.findall(r"<td><code>(key\d+)</code></td>", second)[-1] == "key119"
