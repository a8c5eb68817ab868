"""The Flows pages: list and filters, the editor (live validation, save, read-only flows),
revisions and their diffs, the topology SVG, and the execute form generated from typed
inputs. Real app, real database (SQLite or PostgreSQL), real Redis queue."""
from __future__ import annotations

import io
import re
from html import unescape

import pytest
from werkzeug.datastructures import MultiDict

from kestra_lite.model.flow_parser import parse_flow
from kestra_lite.model.topology import layout_flow
from kestra_lite.services import executions as execution_service
from kestra_lite.services import flows as flow_service
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import executions as execution_store
from kestra_lite.store import flows as flow_store
from kestra_lite.web.input_form import errors_by_input, form_fields, parse_form, parse_labels

HELLO = """id: hello
namespace: company.team
labels:
  env: prod
  team: data
tasks:
  - id: say_hello
    type: io.kestra.plugin.core.log.Log
    message: Hello
"""

OTHER = """id: cleanup
namespace: other.ns
labels:
  env: dev
tasks:
  - id: noop
    type: io.kestra.plugin.core.log.Log
    message: bye
"""

READ_ONLY = """id: managed
namespace: company.team
labels:
  system.readOnly: "true"
tasks:
  - id: step
    type: io.kestra.plugin.core.log.Log
    message: managed by CI
"""

TYPED = """id: typed
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: world
    description: Who to greet.
  - id: count
    type: INT
    min: 1
    max: 10
    defaults: 3
  - id: ratio
    type: FLOAT
    required: false
  - id: loud
    type: BOOLEAN
    defaults: false
  - id: color
    type: ENUM
    values: [red, green]
    defaults: red
  - id: size
    type: SELECT
    values: [S, M, L]
    required: false
  - id: regions
    type: MULTISELECT
    values: [eu, us, asia]
    defaults: [eu]
  - id: day
    type: DATE
    required: false
  - id: at
    type: DATETIME
    required: false
  - id: clock
    type: TIME
    required: false
  - id: wait
    type: DURATION
    required: false
  - id: upload
    type: FILE
    required: false
  - id: settings
    type: JSON
    required: false
  - id: tags
    type: ARRAY
    itemType: STRING
    required: false
  - id: config
    type: YAML
    required: false
  - id: token
    type: SECRET
    required: false
  - id: site
    type: URI
    required: false
  - id: contact
    type: EMAIL
    required: false
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }} x{{ inputs.count }}"
"""


def deploy(runtime, source):
    return flow_service.deploy(runtime, "main", source)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


# -- the list ---------------------------------------------------------------------------------
def test_the_list_shows_every_flow_with_its_labels_and_revision(client, runtime):
    deploy(runtime, HELLO)
    deploy(runtime, OTHER)
    page = text(client.get("/ui/main/flows"))
    assert "company.team" in page and "hello" in page
    assert "other.ns" in page and "cleanup" in page
    assert "env:prod" in page and "team:data" in page
    assert 'href="/ui/main/flows/new"' in page


def test_filtering_the_list_by_namespace_keeps_only_that_namespace(client, runtime):
    deploy(runtime, HELLO)
    deploy(runtime, OTHER)
    page = text(client.get("/ui/main/flows?q=namespace:other"))
    assert "cleanup" in page
    assert "say_hello" not in page and ">hello<" not in page


def test_filtering_the_list_by_label_keeps_only_matching_flows(client, runtime):
    deploy(runtime, HELLO)
    deploy(runtime, OTHER)
    page = text(client.get("/ui/main/flows?q=label:env=dev"))
    assert "cleanup" in page
    assert ">hello<" not in page


def test_clicking_a_label_links_to_the_list_filtered_by_it(client, runtime):
    deploy(runtime, HELLO)
    page = text(client.get("/ui/main/flows"))
    assert "/ui/main/flows?q=label:env%3Dprod" in page


def test_system_labels_are_hidden_in_the_list_unless_filtered_on(client, runtime):
    deploy(runtime, READ_ONLY)
    page = text(client.get("/ui/main/flows"))
    assert "managed" in page
    assert "system.readOnly:true" not in page
    filtered = text(client.get('/ui/main/flows?q=label:system.readOnly=true'))
    assert "system.readOnly:true" in filtered


def test_a_bad_filter_shows_its_message_in_the_page_not_an_error_page(client, runtime):
    deploy(runtime, HELLO)
    response = client.get("/ui/main/flows?q=state:FAILED")
    assert response.status_code == 200
    page = text(response)
    assert "unknown filter" in page
    assert "Fix the filter" in page


def test_the_list_shows_the_state_of_the_last_execution(client, runtime):
    flow = deploy(runtime, HELLO)
    execution = execution_service.create_execution(runtime, flow)
    run_until_settled(runtime, "main", execution.id)
    page = text(client.get("/ui/main/flows"))
    assert "state-SUCCESS" in page
    assert execution.id in page


def test_the_list_pages_through_many_flows(client, runtime):
    for number in range(12):
        deploy(runtime, HELLO.replace("id: hello", f"id: flow_{number:02d}"))
    page = text(client.get("/ui/main/flows?size=10"))
    assert "flow_09" in page and "flow_10" not in page
    assert "Page 1 of 2" in page
    second = text(client.get("/ui/main/flows?size=10&page=2"))
    assert "flow_10" in second and "flow_11" in second


# -- creating, validating, editing -------------------------------------------------------
def test_the_new_flow_page_shows_an_editor_prefilled_with_an_example(client):
    page = text(client.get("/ui/main/flows/new?namespace=acme.sales"))
    assert '<textarea name="source"' in page
    assert "namespace: acme.sales" in page
    assert 'hx-post="/ui/main/flows/validate"' in page
    assert 'hx-trigger="input changed delay:400ms"' in page


def test_the_new_flow_page_can_start_from_a_blueprint(client):
    from kestra_lite.blueprints import get_blueprint
    blueprint = get_blueprint("hello_world")
    assert blueprint is not None
    page = text(client.get("/ui/main/flows/new?blueprint=hello_world"))
    assert blueprint.source.splitlines()[0] in page
    assert client.get("/ui/main/flows/new?blueprint=nope").status_code == 404


def test_creating_an_invalid_flow_shows_the_problems_with_their_lines_and_stores_nothing(client):
    source = HELLO.replace("type: io.kestra.plugin.core.log.Log", "type: io.kestra.Nope")
    response = client.post("/ui/main/flows", data={"source": source})
    assert response.status_code == 422
    page = text(response)
    assert "line 8:11" in page
    assert "Unknown task type" in page
    assert 'class="e"' in page                      # the gutter marks the line
    assert "io.kestra.Nope" in page                 # the typed source is kept
    assert flow_store.get_flow("main", "company.team", "hello") is None


def test_fixing_the_problems_then_saving_creates_the_flow_and_redirects_to_it(client):
    bad = HELLO.replace("id: say_hello", "id: say.hello")
    assert client.post("/ui/main/flows", data={"source": bad}).status_code == 422
    response = client.post("/ui/main/flows", data={"source": HELLO})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ui/main/flows/company.team/hello")
    assert flow_store.get_flow("main", "company.team", "hello").revision == 1
    page = text(client.get(response.headers["Location"]))
    assert "created (revision 1)" in page


def test_broken_yaml_gets_a_message_with_its_line_not_an_error_page(client):
    source = 'id: x\nnamespace: company\ntasks:\n  - id: "unclosed\n    type: y\n'
    response = client.post("/ui/main/flows", data={"source": source})
    assert response.status_code == 422
    page = text(response)
    assert "Invalid YAML" in page
    assert re.search(r"line \d+:\d+", page)
    assert "Something went wrong" not in page


def test_an_empty_source_is_a_problem_not_a_crash(client):
    response = client.post("/ui/main/flows", data={"source": ""})
    assert response.status_code == 422
    assert "Empty flow" in text(response)


def test_creating_a_flow_whose_id_exists_is_refused(client, runtime):
    deploy(runtime, HELLO)
    response = client.post("/ui/main/flows",
                           data={"source": HELLO.replace("message: Hello", "message: Hi")})
    assert response.status_code == 422
    assert "already exists" in text(response)
    assert flow_store.get_flow("main", "company.team", "hello").revision == 1


def test_the_validate_fragment_lists_problems_and_marks_their_lines(client):
    source = "id: x\nnamespace: company\ntasks:\n  - id: a\n    type: io.kestra.Nope\n"
    response = client.post("/ui/main/flows/validate", data={"source": source}, htmx=True)
    assert response.status_code == 200
    page = text(response)
    assert 'id="validation"' in page and "validation bad" in page
    assert "line 5:11" in page and "Unknown task type" in page
    assert 'id="gutter"' in page and 'hx-swap-oob="true"' in page
    assert page.count("<li") >= 5
    assert "<html" not in page                        # a fragment, not a page


def test_the_validate_fragment_says_valid_for_a_good_source(client):
    response = client.post("/ui/main/flows/validate", data={"source": HELLO}, htmx=True)
    page = text(response)
    assert "validation ok" in page and "Valid" in page


def test_validating_an_edit_flags_a_changed_flow_id(client):
    response = client.post("/ui/main/flows/validate", htmx=True, data={
        "source": HELLO.replace("id: hello", "id: renamed"),
        "original_namespace": "company.team", "original_flow_id": "hello"})
    assert "flow id cannot be changed" in text(response)


def test_saving_an_edit_adds_a_revision_and_returns_to_the_editor(client, runtime):
    deploy(runtime, HELLO)
    response = client.post("/ui/main/flows/company.team/hello",
                           data={"source": HELLO.replace("message: Hello", "message: Hi")})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/flows/company.team/hello?tab=editor")
    assert flow_store.get_flow("main", "company.team", "hello").revision == 2
    page = text(client.get(response.headers["Location"]))
    assert "Saved revision 2" in page and "message: Hi" in page


def test_saving_an_invalid_edit_keeps_the_typed_source_and_stores_nothing(client, runtime):
    deploy(runtime, HELLO)
    bad = HELLO.replace("tasks:", "taks:")
    response = client.post("/ui/main/flows/company.team/hello", data={"source": bad})
    assert response.status_code == 422
    page = text(response)
    assert "taks:" in page and "did you mean `tasks`" in page
    assert flow_store.get_flow("main", "company.team", "hello").revision == 1


def test_renaming_a_flow_in_its_editor_is_refused(client, runtime):
    deploy(runtime, HELLO)
    response = client.post("/ui/main/flows/company.team/hello",
                           data={"source": HELLO.replace("id: hello", "id: renamed")})
    assert response.status_code == 422
    assert "flow id cannot be changed" in text(response)
    assert flow_store.get_flow("main", "company.team", "renamed") is None


def test_deleting_a_flow_removes_it_from_the_list(client, runtime):
    deploy(runtime, HELLO)
    response = client.post("/ui/main/flows/company.team/hello/delete")
    assert response.status_code == 303
    assert flow_store.get_flow("main", "company.team", "hello") is None
    assert client.get("/ui/main/flows/company.team/hello").status_code == 404


def test_an_unknown_flow_is_a_404_page(client):
    response = client.get("/ui/main/flows/nowhere/nothing")
    assert response.status_code == 404
    assert "not found" in text(response)


# -- read-only flows -------------------------------------------------------------------------
def test_a_read_only_flow_opens_read_only_with_a_banner(client, runtime):
    deploy(runtime, READ_ONLY)
    page = text(client.get("/ui/main/flows/company.team/managed?tab=editor"))
    assert "readonly" in page and "This flow is read-only" in page
    assert ">Save<" not in page
    assert "hx-post" not in page.split('<textarea name="source"')[1].split(">")[0]
    overview = text(client.get("/ui/main/flows/company.team/managed"))
    assert ">Delete<" not in overview


def test_a_forged_save_of_a_read_only_flow_is_refused_with_the_message(client, runtime):
    deploy(runtime, READ_ONLY)
    response = client.post("/ui/main/flows/company.team/managed",
                           data={"source": READ_ONLY.replace("managed by CI", "hacked")})
    assert response.status_code == 403
    assert "read-only" in text(response)
    record = flow_store.get_flow("main", "company.team", "managed")
    assert record.revision == 1 and "hacked" not in record.source


def test_a_forged_delete_or_restore_of_a_read_only_flow_is_refused(client, runtime):
    deploy(runtime, READ_ONLY)
    assert client.post("/ui/main/flows/company.team/managed/delete").status_code == 403
    response = client.post("/ui/main/flows/company.team/managed/restore",
                           data={"revision": "1"})
    assert response.status_code == 403
    assert flow_store.get_flow("main", "company.team", "managed").revision == 1


# -- revisions ------------------------------------------------------------------------------
def test_revisions_are_listed_and_two_can_be_compared_as_a_diff(client, runtime):
    deploy(runtime, HELLO)
    deploy(runtime, HELLO.replace("message: Hello", "message: Bonjour"))
    deploy(runtime, HELLO.replace("message: Hello", "message: Hallo") + "  - id: extra\n"
           "    type: io.kestra.plugin.core.log.Log\n    message: more\n")
    page = text(client.get("/ui/main/flows/company.team/hello?tab=revisions"))
    for number in ("1", "2", "3"):
        assert f"tab=revisions&revision={number}" in page
    diff = text(client.get("/ui/main/flows/company.team/hello?tab=revisions&left=1&right=3"))
    assert '<tr class="del">' in diff and '<tr class="add">' in diff
    assert "-    message: Hello" in diff
    assert "+    message: Hallo" in diff
    assert "+  - id: extra" in diff
    split = text(client.get(
        "/ui/main/flows/company.team/hello?tab=revisions&left=1&right=2&view=split"))
    assert "diff split" in split and "Bonjour" in split and "Hello" in split


def test_a_huge_diff_is_cut_so_the_page_stays_under_100_kb(client, runtime):
    def many(word):
        return HELLO + "".join(f"  - id: {word}_{n}\n    type: io.kestra.plugin.core.log.Log\n"
                               f"    message: {word} number {n} with some padding text\n"
                               for n in range(600))
    deploy(runtime, many("first"))
    deploy(runtime, many("second"))
    for view in ("unified", "split"):
        response = client.get("/ui/main/flows/company.team/hello?tab=revisions&left=1&right=2"
                              f"&view={view}")
        assert len(response.get_data()) < 100_000, view
        assert "The diff is cut here" in text(response)


def test_comparing_an_unknown_revision_is_a_404(client, runtime):
    deploy(runtime, HELLO)
    response = client.get("/ui/main/flows/company.team/hello?tab=revisions&left=1&right=9")
    assert response.status_code == 404


def test_restoring_a_revision_saves_its_source_as_a_new_revision(client, runtime):
    deploy(runtime, HELLO)
    deploy(runtime, HELLO.replace("message: Hello", "message: Bonjour"))
    response = client.post("/ui/main/flows/company.team/hello/restore", data={"revision": "1"})
    assert response.status_code == 303
    record = flow_store.get_flow("main", "company.team", "hello")
    assert record.revision == 3 and "message: Hello" in record.source
    assert "Revision 1 restored as revision 3" in text(client.get(response.headers["Location"]))


# -- topology -------------------------------------------------------------------------------
FLOWABLES = """id: shapes
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: a
  - id: fan_out
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left_branch
        type: io.kestra.plugin.core.log.Log
        message: a
      - id: right_branch
        type: io.kestra.plugin.core.log.Log
        message: a
  - id: choose
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: when_true
        type: io.kestra.plugin.core.log.Log
        message: a
    else:
      - id: when_false
        type: io.kestra.plugin.core.log.Log
        message: a
  - id: graph
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: root
          type: io.kestra.plugin.core.log.Log
          message: a
      - task:
          id: leaf
          type: io.kestra.plugin.core.log.Log
          message: a
        dependsOn: [root]
errors:
  - id: on_failure
    type: io.kestra.plugin.core.log.Log
    message: failed
"""


def test_the_topology_tab_draws_every_task_in_an_svg(client, runtime):
    deploy(runtime, FLOWABLES)
    page = text(client.get("/ui/main/flows/company.team/shapes?tab=topology"))
    assert "<svg" in page
    for task_id in ("first", "fan_out", "left_branch", "right_branch", "choose", "when_true",
                    "when_false", "graph", "root", "leaf", "on_failure"):
        assert f'data-task="{task_id}"' in page
    assert ">then<" in page and ">else<" in page
    svg = client.get("/ui/main/flows/company.team/shapes/topology.svg")
    assert svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).startswith("<svg")


def test_the_topology_layout_puts_dag_dependents_below_their_dependencies():
    layout = layout_flow(parse_flow(FLOWABLES))
    nodes = {node.id: node for node in layout.nodes}
    assert nodes["leaf"].y > nodes["root"].y
    assert nodes["left_branch"].y == nodes["right_branch"].y
    assert nodes["left_branch"].x < nodes["right_branch"].x
    assert nodes["first"].y < nodes["left_branch"].y < nodes["when_true"].y
    assert {cluster.id for cluster in layout.clusters} >= {"fan_out", "choose", "graph", "errors"}


def test_a_200_task_flow_has_a_topology_page_under_100_kb(client, runtime):
    lines = ["id: big", "namespace: company.team", "tasks:"]
    for number in range(100):
        lines += [f"  - id: step_{number}", "    type: io.kestra.plugin.core.log.Log",
                  "    message: hi"]
    lines += ["  - id: fan", "    type: io.kestra.plugin.core.flow.Parallel", "    tasks:"]
    for number in range(100):
        lines += [f"      - id: branch_{number}", "        type: io.kestra.plugin.core.log.Log",
                  "        message: hi"]
    deploy(runtime, "\n".join(lines) + "\n")
    response = client.get("/ui/main/flows/company.team/big?tab=topology")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert len(body.encode()) < 100_000
    assert 'data-task="step_99"' in body and 'data-task="branch_99"' in body


# -- the execute form ------------------------------------------------------------------------
def _field(page: str, input_id: str) -> str:
    start = page.index(f'id="field-{input_id}"')
    return page[start:page.index("</div>", start)]


def test_the_execute_form_has_one_widget_per_input_type(client, runtime):
    deploy(runtime, TYPED)
    page = text(client.get("/ui/main/flows/company.team/typed?tab=execute"))
    expect = {
        "name": 'type="text"', "count": 'type="number"', "ratio": 'step="any"',
        "loud": 'type="radio"', "color": "<select", "size": "<select",
        "regions": 'type="checkbox"', "day": 'type="date"', "at": 'type="datetime-local"',
        "clock": 'type="time"', "wait": 'placeholder="PT5M"', "upload": 'type="file"',
        "settings": "<textarea", "tags": "<textarea", "config": "<textarea",
        "token": 'type="password"', "site": 'type="url"', "contact": 'type="email"',
    }
    for input_id, widget in expect.items():
        assert widget in _field(page, input_id), input_id
    assert 'value="world"' in _field(page, "name")                  # defaults prefilled
    assert 'min="1"' in _field(page, "count") and 'max="10"' in _field(page, "count")
    assert 'value="eu" checked' in _field(page, "regions")
    assert "Who to greet." in _field(page, "name")                   # description
    assert 'class="required"' in _field(page, "name")                # required marked
    assert 'class="required"' not in _field(page, "ratio")
    assert 'enctype="multipart/form-data"' in page


def test_an_invalid_input_shows_its_error_next_to_it_and_creates_nothing(client, runtime):
    deploy(runtime, TYPED)
    response = client.post("/ui/main/flows/company.team/typed/execute",
                           data={"name": "bob", "count": "99", "labels": ""})
    assert response.status_code == 422
    page = text(response)
    field = _field(page, "count")
    assert "Invalid input for `count`" in field and "less than `10`" in field
    assert 'value="99"' in field                                     # what was typed stays
    assert 'value="bob"' in _field(page, "name")
    assert execution_store.search_executions("main", "company.team", "typed") == []


def test_a_missing_required_input_is_shown_on_that_input(client, runtime):
    deploy(runtime, TYPED.replace("    defaults: world\n", ""))
    response = client.post("/ui/main/flows/company.team/typed/execute", data={"name": ""})
    assert response.status_code == 422
    assert "missing required input" in _field(text(response), "name")


def test_a_typed_secret_is_not_sent_back_when_the_form_is_shown_again(client, runtime):
    deploy(runtime, TYPED)
    response = client.post("/ui/main/flows/company.team/typed/execute",
                           data={"count": "0", "token": "s3cr3t-value"})
    assert response.status_code == 422
    page = text(response)
    assert "more than `1`" in _field(page, "count")
    assert "s3cr3t-value" not in page


def test_a_bad_label_line_is_shown_on_the_labels_field(client, runtime):
    deploy(runtime, TYPED)
    response = client.post("/ui/main/flows/company.team/typed/execute",
                           data={"labels": "no equals sign"})
    assert response.status_code == 422
    assert "expected key=value" in _field(text(response), "labels")
    assert execution_store.search_executions("main", "company.team", "typed") == []


def test_valid_inputs_create_an_execution_and_redirect_to_it(client, runtime):
    deploy(runtime, TYPED)
    data = MultiDict([("name", "alice"), ("count", "4"), ("loud", "true"),
                      ("color", "green"), ("regions", ""), ("regions", "eu"),
                      ("regions", "asia"), ("at", "2025-03-04T05:06"),
                      ("settings", '{"a": 1}'), ("tags", '["x", "y"]'),
                      ("labels", "env=test\nowner = alice"),
                      ("upload", (io.BytesIO(b"a,b\n1,2\n"), "data.csv"))])
    response = client.post("/ui/main/flows/company.team/typed/execute", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 303, text(response)
    [execution] = execution_store.search_executions("main", "company.team", "typed")
    assert response.headers["Location"].endswith(
        f"/ui/main/executions/company.team/typed/{execution.id}")
    inputs = execution.inputs
    assert inputs["name"] == "alice" and inputs["count"] == 4 and inputs["loud"] is True
    assert inputs["color"] == "green" and inputs["regions"] == ["eu", "asia"]
    assert inputs["at"] == "2025-03-04T05:06:00Z"
    assert inputs["settings"] == {"a": 1} and inputs["tags"] == ["x", "y"]
    assert inputs["upload"].startswith("kestra://") and inputs["upload"].endswith("data.csv")
    assert {"key": "env", "value": "test"} in execution.labels
    assert {"key": "owner", "value": "alice"} in execution.labels
    run_until_settled(runtime, "main", execution.id)
    assert execution_store.load_execution("main", execution.id).current.value == "SUCCESS"


def test_a_disabled_flow_cannot_be_executed_from_the_form(client, runtime):
    deploy(runtime, HELLO + "disabled: true\n")
    page = text(client.get("/ui/main/flows/company.team/hello?tab=execute"))
    assert "disabled" in page and "execute-form" not in page
    response = client.post("/ui/main/flows/company.team/hello/execute", data={})
    assert response.status_code == 409
    assert execution_store.search_executions("main", "company.team", "hello") == []


# -- the other tabs ----------------------------------------------------------------------------
def test_the_overview_shows_description_inputs_triggers_and_recent_executions(client, runtime):
    flow = deploy(runtime, TYPED.replace(
        "namespace: company.team\n",
        "namespace: company.team\ndescription: Greets **people**\ntriggers:\n"
        "  - id: nightly\n    type: io.kestra.plugin.core.trigger.Schedule\n"
        "    cron: \"0 2 * * *\"\n"))
    execution = execution_service.create_execution(runtime, flow)
    page = text(client.get("/ui/main/flows/company.team/typed"))
    assert "<strong>people</strong>" in page
    assert "nightly" in page and "0 2 * * *" in page
    assert "<code>regions</code>" in page
    assert execution.id[:8] in page


def test_the_executions_tab_links_to_the_executions_list_filtered_on_the_flow(client, runtime):
    flow = deploy(runtime, HELLO)
    execution = execution_service.create_execution(runtime, flow)
    page = text(client.get("/ui/main/flows/company.team/hello?tab=executions"))
    assert "/ui/main/executions?q=namespace:company.team+flow:hello" in page
    assert execution.id[:8] in page


# -- the reusable input form module ------------------------------------------------------------
def test_parse_form_gives_the_raw_values_the_engine_expects():
    flow = parse_flow(TYPED)
    form = MultiDict([("name", "x"), ("count", ""), ("regions", ""), ("loud", ""),
                      ("at", "2025-01-02T03:04:05"), ("clock", "10:30")])
    provided = parse_form(flow.inputs, form, MultiDict())
    assert provided == {"name": "x", "at": "2025-01-02T03:04:05Z", "clock": "10:30"}


def test_form_fields_prefill_defaults_and_keep_submitted_values():
    flow = parse_flow(TYPED)
    fresh = {f.id: f for f in form_fields(flow.inputs, {}, {})}
    assert fresh["name"].value == "world" and fresh["count"].value == "3"
    assert [o.value for o in fresh["loud"].options if o.selected] == ["false"]
    again = {f.id: f for f in form_fields(flow.inputs, MultiDict([("name", "typed"),
                                                                   ("regions", "us")]),
                                          {"name": "bad"})}
    assert again["name"].value == "typed" and again["name"].error == "bad"
    assert [o.value for o in again["regions"].options if o.selected] == ["us"]


def test_errors_are_mapped_to_the_input_the_message_names():
    flow = parse_flow(TYPED)
    from kestra_lite.errors import InvalidInput
    found = errors_by_input(flow.inputs, InvalidInput("color: Invalid input for `color`, it "
                                                      "must match the values `[red, green]`"))
    assert list(found) == ["color"]
    assert list(errors_by_input(flow.inputs, InvalidInput("something else"))) == [""]


def test_labels_lines_become_kestra_labels():
    assert parse_labels("a=1\n\n b : two \n# comment\na=3") == [
        {"key": "b", "value": "two"}, {"key": "a", "value": "3"}]
    with pytest.raises(Exception):
        parse_labels("=nokey")
