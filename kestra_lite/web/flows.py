"""Flows pages: the filtered list, the editor (live validation while typing), one flow's
tabs (overview, editor, topology, revisions with diffs, executions, execute form).

URLs (under /ui/<tenant>), all page state in the query string:

    GET  /flows?q=&page=&size=                 the list (filter bar, page "flows")
    GET  /flows/new?namespace=&blueprint=      the editor for a new flow
    POST /flows                                create (invalid: the editor again, 422)
    POST /flows/validate                       htmx: the problems of the typed source
    GET  /flows/<ns>/<id>?tab=                 overview|editor|topology|revisions|executions|
                                               execute|triggers (web/triggers.py)
    POST /flows/<ns>/<id>                      save a new revision
    POST /flows/<ns>/<id>/delete|restore|execute
    GET  /flows/<ns>/<id>/topology.svg

Read-only flows (label `system.readOnly: "true"`) open read-only; the services refuse any
change (Forbidden), whatever the form says.
"""
from __future__ import annotations

import difflib

from flask import Blueprint, Response, flash, render_template, request, url_for

from ..errors import Conflict, InvalidFlow, InvalidInput, NotFound, Problem
from ..model.flow import Flow
from ..model.flow_parser import parse_flow
from ..model.state import utcnow
from ..services import executions as execution_service
from ..services import flows as flow_service
from ..store import executions as execution_store
from ..store import flows as flow_store
from . import htmx
from .executions import execution_url
from .input_form import LABELS_FIELD, errors_by_input, form_fields, parse_form, parse_labels
from .query_args import int_arg
from .runtime import runtime
from .topology import render_svg
from .triggers import flow_tab_context

bp = Blueprint("flows", __name__)

TABS = ("overview", "editor", "topology", "revisions", "executions", "execute", "triggers")
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_SIZE = 25
RECENT_EXECUTIONS = 10
REVISIONS_PER_PAGE = 50
DIFF_BUDGET = 60_000       # characters of diff rows shown (the page stays under 100 KB)
EXCERPT_PROBLEMS = 50      # problems listed under the editor
NEW_FLOW = """id: {flow_id}
namespace: {namespace}

tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello World! 🚀
"""


# -- helpers ---------------------------------------------------------------------------------
def _execution_key(execution) -> tuple[str, str, str]:
    return execution.namespace, execution.flow_id, execution.id


def executions_list_url(tenant: str, namespace: str, flow_id: str) -> str:
    from ..model.filters import add_criterion
    query = add_criterion(add_criterion("", "namespace", namespace), "flow", flow_id)
    return url_for("executions.index", tenant=tenant, q=query)


def _visible_labels(labels, show_system: bool = False) -> list[dict]:
    from ..model.execution import label_list
    try:
        items = label_list(labels) if labels else []
    except (KeyError, TypeError, AttributeError):
        items = []
    return [label for label in items
            if show_system or not str(label["key"]).startswith("system.")]


def _list_filter_url(tenant: str, key: str, value: str) -> str:
    from ..model.filters import add_criterion
    return url_for("flows.index", tenant=tenant, q=add_criterion("", key, value))


def _flow_url(tenant: str, namespace: str, flow_id: str, **args) -> str:
    return url_for("flows.detail", tenant=tenant, namespace=namespace, flow_id=flow_id,
                   **{k: v for k, v in args.items() if v not in (None, "")})


def _record_or_404(tenant: str, namespace: str, flow_id: str):
    record = flow_store.get_flow(tenant, namespace, flow_id)
    if record is None:
        raise NotFound(f"Flow {namespace}.{flow_id} not found")
    return record


def _problems_of(source: str, tenant: str) -> tuple[Flow | None, list[Problem]]:
    try:
        return parse_flow(source, tenant=tenant), []
    except InvalidFlow as error:
        return None, error.problems


def _key_line(source: str, key: str) -> int:
    """The line of a top-level `key:` in the source (1 when not found)."""
    for number, line in enumerate(source.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return 1


def _identity_problems(source: str, flow: Flow, namespace: str | None,
                       flow_id: str | None) -> list[Problem]:
    """Editing flow <namespace>.<flow_id>: the source must keep that id and namespace."""
    problems = []
    if namespace is not None and flow.namespace != namespace:
        problems.append(Problem(_key_line(source, "namespace"), 1,
                                f"The namespace cannot be changed here (this is "
                                f"`{namespace}`); create a new flow instead", "namespace"))
    if flow_id is not None and flow.id != flow_id:
        problems.append(Problem(_key_line(source, "id"), 1,
                                f"The flow id cannot be changed here (this is `{flow_id}`); "
                                "create a new flow instead", "id"))
    return problems


def _excerpt(source: str, problems: list[Problem]) -> list[dict]:
    """The source lines holding problems, with the problems under each (a compiler-like
    view: line number, text, a caret at the column)."""
    lines = source.splitlines()
    by_line: dict[int, list[Problem]] = {}
    for problem in problems[:EXCERPT_PROBLEMS]:
        by_line.setdefault(problem.line, []).append(problem)
    return [{"number": number,
             "text": lines[number - 1] if 0 < number <= len(lines) else "",
             "problems": found}
            for number, found in sorted(by_line.items())]


def _validation(source: str, tenant: str, namespace: str | None = None,
                flow_id: str | None = None, problems: list[Problem] | None = None) -> dict:
    """What the validation panel shows for `source`."""
    if problems is None:
        flow, problems = _problems_of(source, tenant)
        if flow is not None:
            problems = _identity_problems(source, flow, namespace, flow_id)
    return {"problems": problems, "excerpt": _excerpt(source, problems),
            "more": len(problems) > EXCERPT_PROBLEMS, "line_count": _line_count(source),
            "error_lines": {p.line for p in problems}, "checked": True}


def _line_count(source: str) -> int:
    return source.count("\n") + 1


def _editor(source: str, *, tenant: str, namespace: str | None = None,
            flow_id: str | None = None, read_only: bool = False,
            validation: dict | None = None) -> dict:
    return {"source": source, "namespace": namespace, "flow_id": flow_id,
            "read_only": read_only,
            "validation": validation or {"checked": False, "error_lines": set()},
            "line_count": _line_count(source),
            "action": (_flow_url(tenant, namespace, flow_id) if flow_id
                       else url_for("flows.create", tenant=tenant))}


# -- the list --------------------------------------------------------------------------------
def _list_state() -> dict:
    size = int_arg("size", DEFAULT_SIZE, high=max(PAGE_SIZES))
    return {"q": (request.args.get("q") or "").strip(), "page": int_arg("page", 1),
            "size": size}


def _list_url(tenant: str, state: dict, **changes) -> str:
    params = {**state, **changes}
    params = {k: v for k, v in params.items()
              if v not in ("", None) and not (k == "page" and v == 1)
              and not (k == "size" and v == DEFAULT_SIZE)}
    return url_for("flows.index", tenant=tenant, **params)


def _last_states(tenant: str, records) -> dict[tuple, object]:
    """The latest execution of each listed flow (one indexed query per flow of the page)."""
    found = {}
    for record in records:
        latest = execution_store.search_executions(tenant, record.namespace, record.flow_id,
                                                   limit=1, with_task_runs=False)
        if latest:
            found[(record.namespace, record.flow_id)] = latest[0]
    return found


@bp.get("/flows")
def index(tenant: str):
    from ..model.filters import FilterError, add_criterion, parse_filters
    from ..store.flows import search_flows
    state = _list_state()
    filters, filter_error, found = None, None, None
    try:
        filters = parse_filters(state["q"], "flows")
    except FilterError as error:
        filter_error = error.message
    if filters is not None:
        found = search_flows(tenant, filters, page=state["page"], size=state["size"])
    records = found.results if found else []
    show_system = bool(filters and filters.names_system_label())
    rows = [{"flow": record, "labels": _visible_labels(record.labels, show_system),
             "read_only": flow_service.is_read_only(record.labels or [])}
            for record in records]
    last = _last_states(tenant, records)
    for row in rows:
        execution = last.get((row["flow"].namespace, row["flow"].flow_id))
        row["last"] = execution
        row["last_url"] = execution_url(tenant, *_execution_key(execution)) if execution else None
    total = found.total if found else 0
    pages = max((total + state["size"] - 1) // state["size"], 1)
    return render_template(
        "flows/index.html", rows=rows, total=total, capped=bool(found and found.capped),
        pages=pages, filters=filters, filter_error=filter_error, page_sizes=PAGE_SIZES,
        new_url=url_for("flows.new", tenant=tenant,
                        **({"namespace": filters.namespace} if filters and filters.namespace
                           else {})),
        list_url=lambda **changes: _list_url(tenant, state, **changes),
        filter_url=lambda key, value: url_for("flows.index", tenant=tenant,
                                              q=add_criterion(state["q"], key, value)),
        **state)


# -- creating and editing -------------------------------------------------------------------
def _new_source(tenant: str) -> str:
    blueprint_id = request.args.get("blueprint")
    if blueprint_id:
        from ..blueprints import get_blueprint
        blueprint = get_blueprint(blueprint_id)
        if blueprint is None:
            raise NotFound(f"Blueprint {blueprint_id} not found")
        source = blueprint.source
        namespace = (request.args.get("namespace") or "").strip()
        if namespace:
            lines = source.splitlines(keepends=True)
            for index, line in enumerate(lines):
                if line.startswith("namespace:"):
                    lines[index] = f"namespace: {namespace}\n"
                    break
            source = "".join(lines)
        return source
    namespace = (request.args.get("namespace") or "").strip() or "company.team"
    return NEW_FLOW.format(flow_id="new_flow", namespace=namespace)


@bp.get("/flows/new")
def new(tenant: str):
    source = _new_source(tenant)
    return render_template("flows/new.html", editor=_editor(source, tenant=tenant),
                           blueprint=request.args.get("blueprint"))


@bp.post("/flows/validate")
def validate(tenant: str):
    """The validation panel for the typed source (htmx, while typing)."""
    source = request.form.get("source", "")
    namespace = request.form.get("original_namespace") or None
    flow_id = request.form.get("original_flow_id") or None
    return render_template("flows/_validation.html", oob_gutter=True,
                           validation=_validation(source, tenant, namespace, flow_id))


def _editor_again(tenant: str, source: str, problems: list[Problem], status: int, *,
                  record=None):
    """The editor with the problems of a refused save (nothing stored)."""
    validation = _validation(source, tenant, problems=problems)
    if record is None:
        return render_template("flows/new.html", blueprint=None,
                               editor=_editor(source, tenant=tenant, validation=validation)
                               ), status
    context = _detail_context(tenant, record, "editor")
    context["editor"] = _editor(source, tenant=tenant, namespace=record.namespace,
                                flow_id=record.flow_id, read_only=context["read_only"],
                                validation=validation)
    return render_template("flows/detail.html", **context), status


@bp.post("/flows")
def create(tenant: str):
    source = request.form.get("source", "")
    flow, problems = _problems_of(source, tenant)
    if flow is not None and flow_store.get_flow(tenant, flow.namespace, flow.id) is not None:
        problems = [Problem(_key_line(source, "id"), 1,
                            f"A flow {flow.namespace}.{flow.id} already exists; open it to "
                            "change it, or pick another id", "id")]
    if problems:
        return _editor_again(tenant, source, problems, 422)
    try:
        flow = flow_service.deploy(runtime(), tenant, source, f"{flow.namespace}.{flow.id}",
                                   from_user=True)
    except InvalidFlow as error:
        return _editor_again(tenant, source, error.problems, 422)
    flash(f"Flow {flow.namespace}.{flow.id} created (revision {flow.revision}).", "success")
    return htmx.redirect_or_location(_flow_url(tenant, flow.namespace, flow.id))


@bp.post("/flows/<namespace>/<flow_id>")
def update(tenant: str, namespace: str, flow_id: str):
    record = _record_or_404(tenant, namespace, flow_id)
    source = request.form.get("source", "")
    flow, problems = _problems_of(source, tenant)
    if flow is not None:
        problems = _identity_problems(source, flow, namespace, flow_id)
    if problems:
        return _editor_again(tenant, source, problems, 422, record=record)
    try:
        flow = flow_service.deploy(runtime(), tenant, source, f"{namespace}.{flow_id}",
                                   from_user=True)
    except InvalidFlow as error:
        return _editor_again(tenant, source, error.problems, 422, record=record)
    if flow.revision == record.revision:
        flash("No change: the source is the same as revision "
              f"{record.revision}.", "info")
    else:
        flash(f"Saved revision {flow.revision}.", "success")
    return htmx.redirect_or_location(_flow_url(tenant, namespace, flow_id, tab="editor"))


@bp.post("/flows/<namespace>/<flow_id>/delete")
def delete(tenant: str, namespace: str, flow_id: str):
    flow_service.delete(tenant, namespace, flow_id)     # Forbidden when read-only
    flash(f"Flow {namespace}.{flow_id} deleted.", "success")
    return htmx.redirect_or_location(url_for("flows.index", tenant=tenant))


@bp.post("/flows/<namespace>/<flow_id>/restore")
def restore(tenant: str, namespace: str, flow_id: str):
    _record_or_404(tenant, namespace, flow_id)
    revision = int_arg("revision", 0)
    if not revision:
        raise InvalidInput("Pick the revision to restore")
    old = flow_store.get_flow(tenant, namespace, flow_id, revision, allow_deleted=True)
    if old is None:
        raise NotFound(f"Revision {revision} of {namespace}.{flow_id} not found")
    try:
        flow = flow_service.deploy(runtime(), tenant, old.source, f"{namespace}.{flow_id}",
                                   from_user=True)
    except InvalidFlow as error:
        flash(f"Revision {revision} cannot be restored, its source is no longer valid: "
              f"{error.problems[0] if error.problems else ''}", "error")
        return htmx.redirect_or_location(_flow_url(tenant, namespace, flow_id,
                                                   tab="revisions"))
    flash(f"Revision {revision} restored as revision {flow.revision}.", "success")
    return htmx.redirect_or_location(_flow_url(tenant, namespace, flow_id, tab="revisions"))


# -- one flow --------------------------------------------------------------------------------
def _revisions_context(tenant: str, record) -> dict:
    revisions = flow_store.revisions(tenant, record.namespace, record.flow_id)
    numbers = [r.revision for r in revisions]
    by_number = {r.revision: r for r in revisions}
    newest_first = list(reversed(revisions))
    page = int_arg("rpage", 1)
    pages = max((len(newest_first) + REVISIONS_PER_PAGE - 1) // REVISIONS_PER_PAGE, 1)
    page = min(page, pages)
    shown = newest_first[(page - 1) * REVISIONS_PER_PAGE:page * REVISIONS_PER_PAGE]
    left = int_arg("left", 0, low=0)
    right = int_arg("right", 0, low=0)
    view = "split" if request.args.get("view") == "split" else "unified"
    diff = None
    if left and right:
        if left not in by_number or right not in by_number:
            missing = left if left not in by_number else right
            raise NotFound(f"Revision {missing} of {record.namespace}.{record.flow_id} "
                           "not found")
        diff = _diff(by_number[left].source, by_number[right].source, left, right, view)
    shown_revision = int_arg("revision", 0, low=0)
    source_of = by_number.get(shown_revision) if shown_revision else None
    return {"revisions": shown, "numbers": numbers, "rpage": page, "rpages": pages,
            "left": left or (numbers[-2] if len(numbers) > 1 else numbers[-1]),
            "right": right or numbers[-1], "diff": diff, "view": view,
            "compared": bool(diff), "shown_source": source_of}


def _split_rows(opcodes, a: list[str], b: list[str]) -> list[dict]:
    """Side-by-side rows: equal lines on both sides, changes paired line by line."""
    rows = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            rows.extend({"kind": "ctx", "ln": i1 + k + 1, "lt": a[i1 + k],
                         "rn": j1 + k + 1, "rt": b[j1 + k]} for k in range(i2 - i1))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            li, rj = i1 + k, j1 + k
            rows.append({"kind": tag,
                         "ln": li + 1 if li < i2 else None, "lt": a[li] if li < i2 else "",
                         "rn": rj + 1 if rj < j2 else None, "rt": b[rj] if rj < j2 else ""})
    return rows


def _diff(left: str, right: str, left_no: int, right_no: int, view: str) -> dict:
    a, b = left.splitlines(), right.splitlines()
    rows: list[dict] = []
    if view == "split":
        matcher = difflib.SequenceMatcher(None, a, b)   # autojunk: fast on big sources
        for group in matcher.get_grouped_opcodes(3):
            first = group[0]
            rows.append({"kind": "hunk", "text": f"@@ -{first[1] + 1} +{first[3] + 1} @@",
                         "ln": None, "rn": None, "lt": "", "rt": ""})
            rows.extend(_split_rows(group, a, b))
    else:
        old_no = new_no = 0
        for line in difflib.unified_diff(a, b, f"revision {left_no}", f"revision {right_no}",
                                         n=3, lineterm=""):
            if line.startswith(("---", "+++")):
                continue
            if line.startswith("@@"):
                header = line.split()
                old_no = abs(int(header[1].split(",")[0])) - 1
                new_no = int(header[2].split(",")[0]) - 1
                rows.append({"kind": "hunk", "text": line})
            elif line.startswith("+"):
                new_no += 1
                rows.append({"kind": "add", "text": line[1:], "ln": None, "rn": new_no})
            elif line.startswith("-"):
                old_no += 1
                rows.append({"kind": "del", "text": line[1:], "ln": old_no, "rn": None})
            else:
                old_no += 1
                new_no += 1
                rows.append({"kind": "ctx", "text": line[1:], "ln": old_no, "rn": new_no})
    added = sum(1 for r in rows if r["kind"] in ("add",)) if view != "split" else \
        sum(1 for r in rows if r["kind"] in ("insert", "replace") and r["rn"])
    removed = sum(1 for r in rows if r["kind"] in ("del",)) if view != "split" else \
        sum(1 for r in rows if r["kind"] in ("delete", "replace") and r["ln"])
    shown, spent = [], 0
    for row in rows:
        spent += 110 + len(row.get("text", "")) + len(row.get("lt", "")) + len(row.get("rt", ""))
        if spent > DIFF_BUDGET:
            break
        shown.append(row)
    return {"rows": shown, "truncated": len(shown) < len(rows),
            "same": left == right, "added": added, "removed": removed,
            "left": left_no, "right": right_no}


def _execute_context(tenant: str, flow: Flow | None, values=None, errors=None) -> dict:
    if flow is None:
        return {"fields": [], "form_error": None, "labels_text": "", "labels_error": None}
    errors = errors or {}
    labels_text = values.get("labels", "") if values is not None else ""
    return {"fields": form_fields(flow.inputs, values, errors),
            "form_error": errors.get(""), "labels_text": labels_text,
            "labels_error": errors.get(LABELS_FIELD),
            "has_file": any(spec.type == "FILE" for spec in flow.inputs)}


def _detail_context(tenant: str, record, tab: str) -> dict:
    flow = runtime().load_flow(tenant, record.namespace, record.flow_id)
    read_only = flow_service.is_read_only(record.labels or [])
    context = {
        "record": record, "flow": flow, "tab": tab, "tabs": TABS, "read_only": read_only,
        "labels": _visible_labels(record.labels),
        "flow_url": lambda **args: _flow_url(tenant, record.namespace, record.flow_id,
                                             **args),
        "execution_url": lambda execution: execution_url(tenant, *_execution_key(execution)),
        "executions_list_url": executions_list_url(tenant, record.namespace, record.flow_id),
        "list_filter_url": lambda key, value: _list_filter_url(tenant, key, value),
        "now": utcnow(),
    }
    if flow is None:    # the stored source does not parse any more (an older version)
        context["source_problems"] = _problems_of(record.source, tenant)[1]
    if tab == "editor":
        context["editor"] = _editor(record.source, tenant=tenant, namespace=record.namespace,
                                    flow_id=record.flow_id, read_only=read_only)
    elif tab == "topology" and flow is not None:
        context["svg"] = render_svg(flow)
    elif tab == "revisions":
        context.update(_revisions_context(tenant, record))
    elif tab in ("overview", "executions"):
        limit = RECENT_EXECUTIONS if tab == "overview" else 25
        context["executions"] = execution_store.search_executions(
            tenant, record.namespace, record.flow_id, limit=limit, with_task_runs=False)
        if tab == "overview" and flow is not None and flow.description:
            from .markdown import render as render_markdown
            context["description"] = render_markdown(flow.description)
    elif tab == "execute":
        context.update(_execute_context(tenant, flow))
    elif tab == "triggers":
        context.update(flow_tab_context(tenant, record.namespace, record.flow_id, flow))
    return context


@bp.get("/flows/<namespace>/<flow_id>")
def detail(tenant: str, namespace: str, flow_id: str):
    record = _record_or_404(tenant, namespace, flow_id)
    tab = request.args.get("tab") or "overview"
    if tab not in TABS:
        tab = "overview"
    return render_template("flows/detail.html", **_detail_context(tenant, record, tab))


@bp.get("/flows/<namespace>/<flow_id>/topology.svg")
def topology_svg(tenant: str, namespace: str, flow_id: str):
    _record_or_404(tenant, namespace, flow_id)
    flow = runtime().load_flow(tenant, namespace, flow_id)
    if flow is None:
        raise InvalidInput(f"The source of {namespace}.{flow_id} has problems; fix it in the "
                           "editor to see its topology")
    return Response(str(render_svg(flow)), mimetype="image/svg+xml")


@bp.post("/flows/<namespace>/<flow_id>/execute")
def execute(tenant: str, namespace: str, flow_id: str):
    record = _record_or_404(tenant, namespace, flow_id)
    flow = runtime().load_flow(tenant, namespace, flow_id)
    if flow is None:
        raise Conflict(f"The flow {namespace}.{flow_id} has problems in its source; fix it "
                       "before executing it")
    try:
        labels = parse_labels(request.form.get("labels", ""))
    except InvalidInput as error:
        return _execute_again(tenant, record, flow, {LABELS_FIELD: error.message})
    provided = parse_form(flow.inputs, request.form, request.files)
    try:
        execution = execution_service.create_execution(runtime(), flow, inputs=provided,
                                                       labels=labels or None)
    except InvalidInput as error:
        return _execute_again(tenant, record, flow, errors_by_input(flow.inputs, error))
    except Conflict as error:
        return _execute_again(tenant, record, flow, {"": str(error)}, status=409)
    flash(f"Execution {execution.id} created.", "success")
    return htmx.redirect_or_location(execution_url(tenant, *_execution_key(execution)))


def _execute_again(tenant: str, record, flow: Flow, errors: dict, status: int = 422):
    context = _detail_context(tenant, record, "execute")
    context.update(_execute_context(tenant, flow, request.form, errors))
    return render_template("flows/detail.html", **context), status

