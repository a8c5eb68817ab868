"""Executions pages: the filtered list (with bulk actions) and one execution's detail (header,
Gantt chart, task-run tree, live logs, outputs, correlated executions, every user action).

All page state is in the query string (`q`, `page`, `size`, `sort` on the list; `tab`,
`trpage`, `level`, `task`, `before` on the detail). Actions are plain POST forms
(POST-redirect-GET, results and errors as flash messages). While an execution is not
terminated its page polls a fragment (`#execution-live`) and the log tail polls new lines;
both stop asking once the execution is terminated (the fragment comes back without
`hx-trigger`). The fragment carries the SLA block (deadlines, time left, violations, the
duration forecast), so it refreshes too; the list flags running executions "at risk".
"""
from __future__ import annotations

import json
import mimetypes
import re
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from flask import (Blueprint, Response, current_app, flash, make_response, render_template,
                   request, url_for)
from markupsafe import Markup, escape

from ..engine import sla as slas
from ..errors import InvalidInput, KestraLiteError, NotFound
from ..model.execution import Execution
from ..model.filters import FilterError, add_criterion, parse_filters
from ..model.flow import task_index
from ..model.forecast import Forecast, clock_time, expected_end, forecast, format_span, risk
from ..model.inputs import parse_input_specs
from ..model.state import State, parse_iso, utcnow
from ..services import bulk as bulk_service
from ..services import deletion
from ..services import executions as service
from ..storage.internal import SCHEME, check_scope, readable_scopes
from ..store import executions as execution_store
from ..store import logs as log_store
from ..store import execution_search
from ..store import forecast as forecast_store
from . import htmx, input_form
from .gantt import format_duration, ordered, task_run_rows
from .query_args import int_arg
from .runtime import runtime

bp = Blueprint("executions", __name__)

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_SIZE = 25
SORTS = {   # ?sort= field -> column title
    "start_date": "Start date", "end_date": "End date", "duration": "Duration",
    "namespace": "Namespace", "flow_id": "Flow", "state": "State",
}
DEFAULT_SORT = "start_date:desc"
TABS = ("overview", "gantt", "tasks", "logs", "outputs")
TASK_RUNS_PER_PAGE = 100       # tree and Gantt rows per page (HTML stays well under 100 KB)
LOG_LINES = 500                # log lines per window (the tail, or an earlier page)
TASK_OPTIONS = 100             # task runs offered in the logs' task filter
LEVELS = log_store.LEVELS
CHANGE_STATES = (State.SUCCESS, State.WARNING, State.FAILED, State.KILLED, State.CANCELLED)
RESTARTABLE = (State.FAILED, State.KILLED, State.WARNING)
JSON_LIMIT = 20_000            # characters of one JSON value shown before truncating
CORRELATION_LIMIT = 50
BULK_ACTIONS = {"kill": "Killed", "pause": "Paused", "resume": "Resumed",
                "restart": "Restarted", "delete": "Deleted", "labels": "Labelled"}
BULK_ERRORS_SHOWN = 10
LABEL_TEXT = re.compile(r"^\s*([^=\s]+)\s*=\s*(.*?)\s*$")
FORECAST_SECONDS = 30.0        # a flow's duration forecast is reused this long (per process)
FORECASTS_KEPT = 10_000        # flows whose forecast a process keeps, at most


# -- the list ---------------------------------------------------------------------------------

def _list_state() -> dict:
    """The list's URL state (from the query string, or the bulk form's hidden fields)."""
    size = int_arg("size", DEFAULT_SIZE, high=max(PAGE_SIZES))
    sort = request.values.get("sort") or DEFAULT_SORT
    field, _, direction = sort.partition(":")
    if field not in SORTS or direction not in ("asc", "desc"):
        sort = DEFAULT_SORT
    return {"q": (request.values.get("q") or "").strip(), "page": int_arg("page", 1),
            "size": size, "sort": sort}


def _list_url(tenant: str, state: dict, **changes) -> str:
    params = {**state, **changes}
    params = {k: v for k, v in params.items()
              if v not in ("", None) and not (k == "page" and v == 1)
              and not (k == "size" and v == DEFAULT_SIZE)
              and not (k == "sort" and v == DEFAULT_SORT)}
    return url_for("executions.index", tenant=tenant, **params)


def _filter_url(tenant: str, q: str, key: str, value: str) -> str:
    """The list filtered by one more criterion (a clicked state badge or label): a link
    relative to the list page, kept short (a 100-row page holds ~600 of them)."""
    return "?" + urlencode({"q": add_criterion(q, key, value)}, safe=":=,/")


def _visible_labels(labels: list[dict], show_system: bool) -> list[dict]:
    return [label for label in labels
            if show_system or not str(label.get("key", "")).startswith("system.")]


@bp.get("/executions")
def index(tenant: str):
    state = _list_state()
    filters, filter_error, found = None, None, None
    try:
        filters = parse_filters(state["q"], "executions")
    except FilterError as error:
        filter_error = error.message
    if filters is not None:
        found = execution_search.search(tenant, filters, page=state["page"], size=state["size"],
                                       sort=state["sort"])
    now = utcnow()
    show_system = bool(filters and filters.names_system_label())
    shown = found.results if found else []
    risks = _risks(tenant, shown, now)
    rows = [{"execution": e, "duration": format_duration(e.state.duration(now)),
             "labels": _visible_labels(e.labels, show_system), "risk": risks.get(e.id)}
            for e in shown]
    total = found.total if found else 0
    pages = max((total + state["size"] - 1) // state["size"], 1)
    return render_template(
        "executions/index.html", rows=rows, total=total, capped=bool(found and found.capped),
        pages=pages, filters=filters, filter_error=filter_error, select_all=bool(
            request.args.get("all")), sorts=SORTS, page_sizes=PAGE_SIZES,
        list_url=lambda **changes: _list_url(tenant, state, **changes),
        filter_url=lambda key, value: _filter_url(tenant, state["q"], key, value),
        sort_param=lambda field: _sort_link(state, field), bulk_actions=BULK_ACTIONS, **state)


def _risks(tenant: str, executions: list[Execution], now) -> dict[str, str]:
    """{execution id: why it is at risk} for the running executions shown (terminated ones
    cost nothing)."""
    running = [e for e in executions if not e.current.is_terminated]
    if not running:
        return {}
    forecasts = _forecasts(tenant, [(e.namespace, e.flow_id) for e in running])
    risks = {}
    for execution in running:
        reason = _risk(execution, _flow_of(execution),
                       forecasts[(execution.namespace, execution.flow_id)], now)
        if reason:
            risks[execution.id] = reason
    return risks


def _risk(execution: Execution, flow, forecast: Forecast | None, now) -> str | None:
    """Why a running execution is at risk (past its p95, or past what a MAX_DURATION
    allows), or None."""
    return risk(execution.state.start_date, now, forecast,
                slas.max_durations(flow.sla if flow else []))


def _forecasts(tenant: str, flows: list[tuple[str, str]]) -> dict[tuple[str, str], Forecast | None]:
    """The forecast of each (namespace, flow id). Each is computed from the flow's recent
    successes (one indexed query) at most every FORECAST_SECONDS per web process: it changes
    only when an execution of the flow succeeds, and the list and the polled execution page
    ask for it all the time (a 100-row page of running executions spans dozens of flows)."""
    cache = current_app.extensions.setdefault("kestra_lite_forecasts", {})
    clock = time.monotonic()
    found, missing = {}, []
    for flow in dict.fromkeys(flows):
        cached = cache.get((tenant, flow))
        if cached and cached[0] > clock:
            found[flow] = cached[1]
        else:
            missing.append(flow)
    if len(cache) > FORECASTS_KEPT:
        cache.clear()
    for flow, durations in forecast_store.durations_by_flow(tenant, missing).items():
        found[flow] = forecast(durations)
        cache[(tenant, flow)] = (clock + FORECAST_SECONDS, found[flow])
    return found


def _sort_link(state: dict, field: str) -> str:
    current, _, direction = state["sort"].partition(":")
    if current == field:
        return f"{field}:{'asc' if direction == 'desc' else 'desc'}"
    return f"{field}:desc"


@bp.post("/executions/bulk")
def bulk(tenant: str):
    state = _list_state()
    back = _list_url(tenant, state)
    action = request.form.get("action", "")
    ids = list(dict.fromkeys(i for i in request.form.getlist("ids") if i))
    if action not in BULK_ACTIONS:
        flash(f"Unknown action `{action}`", "error")
        return htmx.redirect_or_location(back)
    if not ids:
        flash("Select at least one execution first", "warning")
        return htmx.redirect_or_location(back)
    labels = None
    if action == "labels":
        try:
            labels = _parse_labels(request.form.get("labels", ""))
        except InvalidInput as error:
            flash(str(error), "error")
            return htmx.redirect_or_location(back)
    result = bulk_service.run(runtime(), tenant, action, ids, all_or_nothing=False,
                              labels=labels, include_non_terminated=True)
    done = result.count
    errors = [f"{failure.execution_id}: {failure.message}" for failure in result.failures]
    noun = "execution" if done == 1 else "executions"
    flash(f"{BULK_ACTIONS[action]} {done} {noun}"
          + (f"; {len(errors)} failed" if errors else ""), "warning" if errors else "success")
    for message in errors[:BULK_ERRORS_SHOWN]:
        flash(message, "error")
    if len(errors) > BULK_ERRORS_SHOWN:
        flash(f"... and {len(errors) - BULK_ERRORS_SHOWN} more errors", "error")
    return htmx.redirect_or_location(back)


def _delete(tenant: str, execution_id: str) -> None:
    """Delete with its logs and files (a running execution is killed first)."""
    deletion.delete_execution(runtime(), tenant, execution_id)


def _parse_labels(text: str) -> list[dict]:
    """`key=value` pairs separated by commas or new lines (or spaces between pairs)."""
    labels = []
    for part in re.split(r"[,\n]+|\s+(?=[^=\s]+\s*=)", text or ""):
        if not part.strip():
            continue
        found = LABEL_TEXT.match(part)
        if not found or not found.group(2):
            raise InvalidInput(f"Invalid label `{part.strip()}`: expected key=value")
        labels.append({"key": found.group(1), "value": found.group(2)})
    if not labels:
        raise InvalidInput("Give at least one label as key=value")
    return labels


# -- the detail page --------------------------------------------------------------------------

def _load(tenant: str, namespace: str, flow_id: str, execution_id: str) -> Execution:
    execution = execution_store.load_execution(tenant, execution_id)
    if execution.namespace != namespace or execution.flow_id != flow_id:
        raise NotFound(f"execution {execution_id} not found")
    return execution


def execution_url(tenant: str, namespace: str, flow_id: str, execution_id: str) -> str:
    """An execution's page (other areas link to it)."""
    return url_for("executions.detail", tenant=tenant, namespace=namespace, flow_id=flow_id,
                   execution_id=execution_id)


def _detail_url(execution: Execution, **params) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")
              and not (k == "trpage" and v == 1) and not (k == "tab" and v == "overview")}
    return url_for("executions.detail", tenant=execution.tenant, namespace=execution.namespace,
                   flow_id=execution.flow_id, execution_id=execution.id, **params)


@dataclass
class LogWindow:
    lines: list[dict]
    earlier: int | None      # id to ask for the lines before (None: nothing earlier)
    last_id: int             # the poller asks for lines after this id
    level: str | None
    task: str | None
    before: int | None       # showing an earlier window (no polling)


def _level_arg() -> str | None:
    level = (request.args.get("level") or "").upper()
    return level if level in LEVELS else None


def _log_window(execution: Execution) -> LogWindow:
    level, task = _level_arg(), request.args.get("task") or None
    before = int_arg("before", 0, low=0) or None
    lines, more = log_store.last_execution_logs(execution.tenant, execution.id,
                                                min_level=level, task_run_id=task,
                                                before_id=before, limit=LOG_LINES)
    last_id = lines[-1]["id"] if lines else 0
    earlier = lines[0]["id"] if more and lines else None
    return LogWindow(lines, earlier, last_id, level, task, before)


def _flow_of(execution: Execution):
    return runtime().load_flow(execution.tenant, execution.namespace, execution.flow_id,
                               execution.flow_revision)


def _resume_inputs(execution: Execution) -> list:
    """The onResume input declarations of the paused Pause task (empty: a plain resume)."""
    if execution.current is not State.PAUSED:
        return []
    paused = [t for t in execution.task_runs if t.current is State.PAUSED]
    flow = _flow_of(execution) if paused else None
    if flow is None:
        return []
    task = task_index(flow).get(paused[0].task_id)
    raw = task.props.get("onResume") if task else None
    return parse_input_specs(raw, "onResume") if raw else []


def _actions(execution: Execution) -> dict:
    current = execution.current
    terminated = current.is_terminated
    return {
        "kill": not terminated,
        "pause": current is State.RUNNING,
        "resume": current is State.PAUSED,
        "resume_form": bool(_resume_inputs(execution)),
        "restart": current in RESTARTABLE,
        "replay": terminated,
        "change_status": terminated,
        "change_states": [s for s in CHANGE_STATES if s is not current],
        "mark": terminated or current is State.PAUSED,
        "labels": terminated,
        "delete": True,
    }


def _file_uris(value, found: set) -> set:
    if isinstance(value, str):
        if value.startswith(SCHEME):
            found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _file_uris(item, found)
    elif isinstance(value, list):
        for item in value:
            _file_uris(item, found)
    return found


def _json_html(execution: Execution):
    """A Jinja filter: a value as pretty JSON, kestra:// URIs as download links."""
    def render(value) -> Markup:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False)
        truncated = len(text) > JSON_LIMIT
        if truncated:
            text = text[:JSON_LIMIT]
        html = str(escape(text))
        for uri in sorted(_file_uris(value, set()), key=len, reverse=True):
            quoted = str(escape(json.dumps(uri, ensure_ascii=False)))
            link = url_for("executions.file", tenant=execution.tenant,
                           execution_id=execution.id, path=uri)
            html = html.replace(quoted, f'<a href="{escape(link)}" download>{quoted}</a>')
        if truncated:
            html += "\n… (truncated)"
        return Markup(f'<pre class="json">{html}</pre>')
    return render


def _correlated(execution: Execution) -> tuple[str | None, list[Execution], bool, str | None]:
    """The executions sharing its system.correlationId (itself included), the search URL."""
    correlation = execution.label("system.correlationId")
    if not correlation:
        return None, [], False, None
    query = add_criterion("", "label", f"system.correlationId={correlation}")
    try:
        filters = parse_filters(query, "executions")
    except FilterError:
        return correlation, [], False, None
    found = execution_search.search(execution.tenant, filters, page=1, size=CORRELATION_LIMIT)
    url = url_for("executions.index", tenant=execution.tenant, q=query)
    return correlation, found.results, found.total > len(found.results), url


# -- SLA status and forecast ----------------------------------------------------------------

@dataclass
class SlaLine:
    """One SLA of the execution's flow, as the execution page shows it."""
    id: str
    type: str
    behavior: str
    deadline: datetime | None        # MAX_DURATION: start + duration
    time_left: str | None            # before the deadline, while running
    expression: str | None           # EXECUTION_ASSERTION's `assert`
    violation: dict | None           # the violation record ({} when only its key is known)
    violated_at: str | None          # its date, for people


@dataclass
class SlaStatus:
    lines: list[SlaLine]
    forecast: Forecast | None        # while running, from the flow's past successes
    p50_end: datetime | None
    p95_end: datetime | None
    risk: str | None                 # why the running execution is at risk
    past_p50: bool = False           # the p50 end has passed (still running)


def _sla_lines(flow, execution: Execution, now) -> list[SlaLine]:
    found = slas.violation_by_key(execution)
    running = not execution.current.is_terminated
    lines = []
    for position, spec in enumerate(flow.sla if flow else []):
        deadline = slas.deadline(spec, execution.state.start_date)
        left = deadline - now if deadline and running and deadline > now else None
        assertion = spec.get("assert") if spec.get("type") == slas.EXECUTION_ASSERTION else None
        violation = found.get(slas.sla_key(spec, position))
        lines.append(SlaLine(
            id=str(spec.get("id")), type=str(spec.get("type")),
            behavior=spec.get("behavior") or "NONE", deadline=deadline,
            time_left=format_span(left) if left else None,
            expression=None if assertion is None else str(assertion), violation=violation,
            violated_at=_violation_date(violation, now)))
    return lines


def _violation_date(violation: dict | None, now) -> str | None:
    try:
        date = parse_iso((violation or {}).get("date"))
    except (TypeError, ValueError):
        return None
    return f"{clock_time(date, now)} UTC" if date else None


def _sla_status(execution: Execution, now) -> SlaStatus | None:
    """The SLA block: None when the flow has no SLA and nothing to forecast."""
    flow = _flow_of(execution)
    lines = _sla_lines(flow, execution, now)
    expected, reason = None, None
    if not execution.current.is_terminated:
        flow_key = (execution.namespace, execution.flow_id)
        expected = _forecasts(execution.tenant, [flow_key])[flow_key]
        reason = _risk(execution, flow, expected, now)
    if not lines and expected is None:
        return None
    start = execution.state.start_date
    p50_end, p95_end = expected_end(start, expected) if expected else (None, None)
    return SlaStatus(lines, expected, p50_end, p95_end, reason,
                     past_p50=bool(p50_end and p50_end < now))


def _context(execution: Execution, tab: str) -> dict:
    now = utcnow()
    terminated = execution.current.is_terminated
    context = {"execution": execution, "tab": tab, "tabs": TABS, "now": now,
               "terminated": terminated, "polling": not terminated,
               "duration": format_duration(execution.state.duration(now)),
               "actions": _actions(execution), "levels": LEVELS,
               "as_json": _json_html(execution), "format_duration": format_duration,
               "detail_url": lambda **params: _detail_url(execution, **params),
               "sla": _sla_status(execution, now), "clock": lambda d: clock_time(d, now),
               "system_labels": [l for l in execution.labels if l["key"].startswith("system.")],
               "user_labels": [l for l in execution.labels
                               if not l["key"].startswith("system.")]}
    output_runs = ([t for t, _, _ in ordered(execution) if t.outputs] if tab == "outputs"
                   else None)
    total = len(execution.task_runs) if output_runs is None else len(output_runs)
    pages = max((total + TASK_RUNS_PER_PAGE - 1) // TASK_RUNS_PER_PAGE, 1)
    trpage = min(int_arg("trpage", 1), pages)
    context.update(trpage=trpage, trpages=pages, task_run_count=total)
    window = slice((trpage - 1) * TASK_RUNS_PER_PAGE, trpage * TASK_RUNS_PER_PAGE)
    if tab in ("gantt", "tasks"):
        context["rows"] = task_run_rows(execution, now, window)
    if output_runs is not None:
        context["output_runs"] = output_runs[window]
    if tab == "overview":
        (context["correlation"], context["correlated"], context["correlated_more"],
         context["correlation_url"]) = _correlated(execution)
    context["live_url"] = url_for(
        "executions.live", tenant=execution.tenant, namespace=execution.namespace,
        flow_id=execution.flow_id, execution_id=execution.id, tab=tab,
        **({"trpage": trpage} if trpage > 1 else {}))
    return context


def _tab_arg() -> str:
    tab = request.args.get("tab") or "overview"
    return tab if tab in TABS else "overview"


@bp.get("/executions/<namespace>/<flow_id>/<execution_id>")
def detail(tenant: str, namespace: str, flow_id: str, execution_id: str):
    execution = _load(tenant, namespace, flow_id, execution_id)
    tab = _tab_arg()
    context = _context(execution, tab)
    if tab == "logs":
        window = _log_window(execution)
        context.update(logs=window, task_options=_task_options(execution, window.task),
                       log_poll_url=_log_poll_url(execution, window))
    return render_template("executions/detail.html", **context)


@bp.get("/executions/<namespace>/<flow_id>/<execution_id>/live")
def live(tenant: str, namespace: str, flow_id: str, execution_id: str):
    """The polled part of the detail page (header, actions, the tab's body but logs)."""
    execution = _load(tenant, namespace, flow_id, execution_id)
    return htmx.render_block("executions/detail.html", "live",
                             **_context(execution, _tab_arg()))


def _task_options(execution: Execution, selected: str | None) -> list[tuple[str, str]]:
    options = []
    for task_run, depth, _ in ordered(execution)[:TASK_OPTIONS]:
        label = task_run.task_id + (f" [{task_run.value}]" if task_run.value else "")
        options.append((task_run.id, "· " * depth + label))
    if selected and selected not in {o[0] for o in options}:
        try:
            chosen = execution.task_run(selected)
            options.append((selected, chosen.task_id))
        except KeyError:
            pass
    return options


def _log_poll_url(execution: Execution, window: LogWindow) -> str:
    params = {"after": window.last_id}
    if window.level:
        params["level"] = window.level
    if window.task:
        params["task"] = window.task
    return url_for("executions.log_tail", tenant=execution.tenant,
                   namespace=execution.namespace, flow_id=execution.flow_id,
                   execution_id=execution.id, **params)


@bp.get("/executions/<namespace>/<flow_id>/<execution_id>/logs")
def log_tail(tenant: str, namespace: str, flow_id: str, execution_id: str):
    """New log lines after `after` (appended to #log-lines) and the next poller (out of band),
    which stops asking once the execution is terminated. Nothing new: 204, keep polling."""
    execution = _load(tenant, namespace, flow_id, execution_id)
    terminated = execution.current.is_terminated   # read before the logs: none are missed
    after = int_arg("after", 0, low=0)
    level, task = _level_arg(), request.args.get("task") or None
    lines = log_store.execution_logs(tenant, execution.id, min_level=level, task_run_id=task,
                                     after_id=after, limit=LOG_LINES)
    if not lines and not terminated:
        return Response(status=204)
    window = LogWindow(lines, None, lines[-1]["id"] if lines else after, level, task, None)
    more = len(lines) >= LOG_LINES        # a full batch: there may be more to fetch
    return htmx.render_block("executions/detail.html", "log_tail", execution=execution,
                             logs=window, polling=more or not terminated,
                             log_poll_url=_log_poll_url(execution, window))


# -- files ----------------------------------------------------------------------------------

@bp.get("/executions/<execution_id>/file")
def file(tenant: str, execution_id: str):
    """Download a kestra:// file of this execution (or one it may read); others: 404."""
    execution = execution_store.load_execution(tenant, execution_id)
    uri = request.args.get("path", "")
    try:
        path = check_scope(uri, readable_scopes(execution))
    except (PermissionError, ValueError):
        raise NotFound(f"File '{uri}' not found")
    storage = runtime().storage
    try:
        if not storage.exists(tenant, path):
            raise NotFound(f"File '{uri}' not found")
        data = storage.get(tenant, path)
    except (OSError, ValueError):
        raise NotFound(f"File '{uri}' not found")
    name = path.rsplit("/", 1)[-1] or "file"
    response = make_response(data)
    response.headers["Content-Type"] = (mimetypes.guess_type(name)[0]
                                        or "application/octet-stream")
    response.headers["Content-Disposition"] = ("attachment; filename*=UTF-8''"
                                               + quote(name, safe=""))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- actions -------------------------------------------------------------------------------

def _act(execution: Execution, call, success: str, *, tab: str | None = None):
    """Run one action; flash its result or its error; back to the page (POST-redirect-GET)."""
    try:
        call()
        flash(success, "success")
    except KestraLiteError as error:
        flash(str(error), "error")
    return htmx.redirect_or_location(_detail_url(execution, tab=tab or request.form.get("tab")))


ROUTE = "/executions/<namespace>/<flow_id>/<execution_id>"


# actions that take nothing but the execution: endpoint -> (service call, flash message)
PLAIN_ACTIONS = {"kill": (service.kill, "Kill requested"),
                 "pause": (service.pause, "Execution paused"),
                 "restart": (service.restart, "Execution restarted")}


def _plain_action(name: str):
    call, message = PLAIN_ACTIONS[name]

    def view(tenant, namespace, flow_id, execution_id):
        execution = _load(tenant, namespace, flow_id, execution_id)
        return _act(execution, lambda: call(runtime(), tenant, execution_id), message)
    return view


for _name in PLAIN_ACTIONS:
    bp.add_url_rule(f"{ROUTE}/{_name}", _name, _plain_action(_name), methods=["POST"])


@bp.post(ROUTE + "/replay")
def replay(tenant, namespace, flow_id, execution_id):
    execution = _load(tenant, namespace, flow_id, execution_id)
    task_run_id = request.form.get("task_run_id") or None
    try:
        new = service.replay(runtime(), tenant, execution_id, task_run_id=task_run_id)
    except KestraLiteError as error:
        flash(str(error), "error")
        return htmx.redirect_or_location(_detail_url(execution, tab=request.form.get("tab")))
    flash(f"Replay of {execution_id} created" + (" from the task run" if task_run_id else ""),
          "success")
    return htmx.redirect_or_location(_detail_url(new))


@bp.post(ROUTE + "/change-status")
def change_status(tenant, namespace, flow_id, execution_id):
    execution = _load(tenant, namespace, flow_id, execution_id)
    value = request.form.get("state", "")

    def call():
        try:
            state = State(value)
        except ValueError:
            raise InvalidInput(f"Unknown state `{value}`")
        service.change_status(runtime(), tenant, execution_id, state)
    return _act(execution, call, f"Status changed to {value}")


@bp.post(ROUTE + "/mark")
def mark(tenant, namespace, flow_id, execution_id):
    execution = _load(tenant, namespace, flow_id, execution_id)
    task_run_id, _, value = request.form.get("mark", "").rpartition(":")

    def call():
        if value not in ("SUCCESS", "FAILED", "WARNING"):
            raise InvalidInput(f"A task run can be marked SUCCESS, WARNING or FAILED, "
                               f"not `{value}`")
        service.mark_task_run(runtime(), tenant, execution_id, task_run_id, State(value))
    return _act(execution, call, f"Task run marked {value}", tab=request.form.get("tab"))


@bp.post(ROUTE + "/labels")
def labels(tenant, namespace, flow_id, execution_id):
    """Add (`add`: key=value lines) and remove (`remove`: keys) labels; system labels are
    read-only."""
    execution = _load(tenant, namespace, flow_id, execution_id)
    removed = [key for key in request.form.getlist("remove") if key]

    def call():
        added = _parse_labels(request.form.get("add", "")) if request.form.get(
            "add", "").strip() else []
        if not added and not removed:
            raise InvalidInput("Nothing to change: add key=value or remove a label")
        if removed:
            service.remove_labels(runtime(), tenant, execution_id, removed)
        if added:
            service.set_labels(runtime(), tenant, execution_id, added)
    return _act(execution, call, "Labels updated")


@bp.post(ROUTE + "/delete")
def delete(tenant, namespace, flow_id, execution_id):
    execution = _load(tenant, namespace, flow_id, execution_id)
    try:
        _delete(tenant, execution_id)
    except KestraLiteError as error:
        flash(str(error), "error")
        return htmx.redirect_or_location(_detail_url(execution))
    flash(f"Execution {execution_id} deleted", "success")
    return htmx.redirect_or_location(url_for("executions.index", tenant=tenant))


# -- resume ----------------------------------------------------------------------------------

@bp.route(ROUTE + "/resume", methods=["GET", "POST"])
def resume(tenant, namespace, flow_id, execution_id):
    """Resume a PAUSED execution; with onResume inputs, a form validated inline."""
    execution = _load(tenant, namespace, flow_id, execution_id)
    specs = _resume_inputs(execution)
    if request.method == "POST" and not specs:
        return _act(execution, lambda: service.resume(runtime(), tenant, execution_id),
                    "Execution resumed")
    if execution.current is not State.PAUSED:
        flash(f"Execution '{execution_id}' is not paused, can't resume it", "error")
        return htmx.redirect_or_location(_detail_url(execution))
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        try:
            values = input_form.parse_form(specs, request.form, request.files)
            service.resume(runtime(), tenant, execution_id, values)
        except InvalidInput as error:
            errors = input_form.errors_by_input(specs, error)
            values = request.form
            status = 422
        except KestraLiteError as error:
            flash(str(error), "error")
            return htmx.redirect_or_location(_detail_url(execution))
        else:
            flash("Execution resumed", "success")
            return htmx.redirect_or_location(_detail_url(execution))
    fields = input_form.form_fields(specs, values, errors)
    return render_template("executions/resume.html", execution=execution, fields=fields,
                           errors=errors, detail_url=lambda **p: _detail_url(execution, **p)
                           ), status

