"""Blueprints: search by text and tag through the filter bar, clickable tags, the detail
page (description, escaped YAML, topology) and the "Use" button."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from kestra_lite import blueprints as catalog


def listed(html: str) -> list[str]:
    return re.findall(r'href="/ui/main/blueprints/([\w-]+)"', html)


def test_the_list_shows_every_blueprint_and_every_tag(client):
    html = client.get("/ui/main/blueprints").get_data(as_text=True)
    assert listed(html) == [bp.id for bp in catalog.all_blueprints()]
    for tag in catalog.all_tags():
        assert f">{tag}</a>" in unescape(html)


def test_free_text_searches_titles_descriptions_and_sources(client):
    html = client.get("/ui/main/blueprints?q=webhook").get_data(as_text=True)
    found = listed(html)
    assert "webhook_trigger" in found and "hello_world" not in found
    assert found == [bp.id for bp in catalog.search_blueprints("webhook")]


def test_a_tag_filter_keeps_blueprints_carrying_the_tag(client):
    html = client.get('/ui/main/blueprints?q=tag:"Getting started"').get_data(as_text=True)
    found = listed(html)
    assert "hello_world" in found and "webhook_trigger" not in found
    assert all("Getting started" in catalog.get_blueprint(i).tags for i in found)


def test_clicking_a_tag_adds_a_tag_filter_to_the_query(client):
    html = client.get("/ui/main/blueprints?q=flow").get_data(as_text=True)
    link = re.search(r'<a class="chip[^"]*" href="([^"]+)">Getting started</a>', html).group(1)
    assert parse_qs(urlsplit(unescape(link)).query)["q"] == ['tag:"Getting started" flow']
    assert 'class="chip selected"' not in html
    chosen = client.get(unescape(link)).get_data(as_text=True)
    assert '<a class="chip selected"' in chosen


def test_a_filter_that_blueprints_do_not_know_is_reported_inline(client):
    response = client.get("/ui/main/blueprints?q=state:FAILED")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "state:FAILED: unknown filter state" in html
    assert listed(html) == []


def test_the_detail_page_shows_the_description_the_escaped_yaml_and_the_topology(client):
    blueprint = catalog.get_blueprint("hello_world")
    response = client.get("/ui/main/blueprints/hello_world")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert blueprint.description in unescape(html)
    assert '<pre class="yaml"><code>' in html
    yaml = html.split('<pre class="yaml"><code>', 1)[1].split("</code></pre>", 1)[0]
    assert unescape(yaml) == blueprint.source
    assert "<script" not in yaml
    assert 'class="outline"' in html and "Topology" in html


def test_the_use_button_opens_the_flow_editor_on_the_blueprint(client):
    html = client.get("/ui/main/blueprints/hello_world").get_data(as_text=True)
    use = re.search(r'<a class="button primary" href="([^"]+)">Use</a>', html).group(1)
    parts = urlsplit(unescape(use))
    assert parts.path == "/ui/main/flows/new"
    assert parse_qs(parts.query) == {"blueprint": ["hello_world"]}
    listing = client.get("/ui/main/blueprints?q=hello").get_data(as_text=True)
    assert unescape(use) in unescape(listing)


def test_an_unknown_blueprint_is_not_found(client):
    assert client.get("/ui/main/blueprints/nope").status_code == 404
