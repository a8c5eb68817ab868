"""Triggers pages: every trigger of the tenant (filter bar page "triggers"), the backfill
form of a schedule, and the "triggers" tab of a flow (the same rows, plus a panel per
trigger explaining when it fires).

URLs (under /ui/<tenant>), all page state in the query string:

    GET  /triggers?q=&page=&size=&sort=            the list (sort: namespace|next|last)
    POST /triggers/<ns>/<flow>/<trigger>           action=enable|disable|unlock|pause|
                                                   resume|delete-backfill; htmx: the row
                                                   (retargeted), else 303 to `next`
    GET  /triggers/<ns>/<flow>/<trigger>/backfill  the backfill form (Schedule triggers)
    POST /triggers/<ns>/<flow>/<trigger>/backfill  start it (errors inline, nothing stored)
    GET  /triggers/<ns>/<flow>/<trigger>/backfill/preview?start=&end=   htmx: date count

A row is one template (`triggers/_row.html`) for both pages, built from the trigger row
alone: the list costs one search query (and its count) whatever the number of triggers.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import (Blueprint, flash, make_response, render_template, request, url_for)

from ..config import Settings
from ..engine import conditions
from ..errors import Conflict, InvalidInput, NotFound
from ..model.filters import FilterError, parse_filters
from ..model.state import bounded_utc, parse_iso, utcnow
from ..services import triggers as service
from ..store import triggers as store
from ..store.triggers import Trigger
from . import htmx
from .executions import execution_url
from .gantt import format_duration
from .input_form import LABELS_FIELD, errors_by_input, form_fields, parse_form, parse_labels
from .query_args import int_arg, is_local_path
from .runtime import runtime

bp = Blueprint("triggers", __name__)

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_SIZE = 25
SORTS = ("namespace", "next", "last")
PREVIEW_LIMIT = 1000          # dates the backfill preview counts before saying "more than"
ACTIONS = {   # form action -> (service call, message)
    "enable": (lambda rt, t, *key: service.set_disabled(rt, t, *key, False), "enabled"),
    "disable": (lambda rt, t, *key: service.set_disabled(rt, t, *key, True), "disabled"),
    "unlock": (service.unlock, "unlocked"),
    "pause": (service.pause_backfill, "backfill paused"),
    "resume": (service.resume_backfill, "backfill resumed"),
    "delete-backfill": (service.delete_backfill, "backfill deleted"),
}


# -- one row ---------------------------------------------------------------------------------
@dataclass
class Line:
    """What a row shows of one trigger (links and relative dates computed once)."""
    trigger: Trigger
    flow_url: str
    action_url: str
    backfill_url: str | None = None
    last_date: datetime | None = None
    last_url: str | None = None
    lock_url: str | None = None
    next_relative: str = ""
    progress: dict | None = None
    error: dict | None = None

    @property
    def row_id(self) -> str:
        """The row's HTML id: short, CSS-safe, the same on every page showing the trigger."""
        key = "/".join((self.trigger.tenant, *self.trigger.key))
        return "t-" + hashlib.sha1(key.encode()).hexdigest()[:12]

    @property
    def schedule(self) -> str:
        """`cron` (timezone) of a Schedule, the number of dates of a ScheduleOnDates."""
        definition = self.trigger.definition
        if self.trigger.kind == "Schedule":
            return str(definition.get("cron", ""))
        if self.trigger.kind == "ScheduleOnDates":
            dates = definition.get("dates")
            return f"{len(dates)} dates" if isinstance(dates, list) else ""
        return ""

    @property
    def timezone(self) -> str:
        if self.trigger.kind in ("Schedule", "ScheduleOnDates"):
            return str(self.trigger.definition.get("timezone") or "UTC")
        return ""


def _trigger_url(endpoint: str, trigger: Trigger, **args) -> str:
    return url_for(endpoint, tenant=trigger.tenant, namespace=trigger.namespace,
                   flow_id=trigger.flow_id, trigger_id=trigger.trigger_id, **args)


def _flow_url(trigger: Trigger, **args) -> str:
    return url_for("flows.detail", tenant=trigger.tenant, namespace=trigger.namespace,
                   flow_id=trigger.flow_id, **args)


def _last_fired(trigger: Trigger) -> tuple[datetime | None, str | None]:
    """The last date that created an execution and that execution's id."""
    fired = trigger.data.get("lastFired") or {}
    moment = trigger.last_date
    if moment is None and fired.get("date"):
        moment = _parse_date(fired["date"])
    return moment, fired.get("executionId")


def _parse_date(value: str) -> datetime | None:
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        return None


def line(trigger: Trigger, now: datetime) -> Line:
    """The row of `trigger` (no query: everything comes from the trigger row)."""
    key = (trigger.tenant, trigger.namespace, trigger.flow_id)
    last_date, last_id = _last_fired(trigger)
    return Line(
        trigger=trigger, flow_url=_flow_url(trigger),
        action_url=_trigger_url("triggers.act", trigger),
        backfill_url=(_trigger_url("triggers.backfill", trigger)
                      if trigger.kind in service.SCHEDULE_KINDS else None),
        last_date=last_date, last_url=execution_url(*key, last_id) if last_id else None,
        lock_url=execution_url(*key, trigger.execution_id) if trigger.execution_id else None,
        next_relative=relative(trigger.next_date, now) if trigger.next_date else "",
        progress=service.backfill_progress(trigger), error=trigger.data.get("lastError"))


def relative(moment: datetime, now: datetime) -> str:
    """`in 5 min`, `2 h ago`, `now`: the distance from `now` in its largest unit."""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    if size < 1:
        return "now"
    for unit, span in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if size >= span:
            amount = f"{int(size // span)} {unit}"
            break
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


# -- the list --------------------------------------------------------------------------------
def _list_state() -> dict:
    sort = request.args.get("sort") or "namespace"
    return {"q": (request.args.get("q") or "").strip(), "page": int_arg("page", 1),
            "size": int_arg("size", DEFAULT_SIZE, high=max(PAGE_SIZES)),
            "sort": sort if sort in SORTS else "namespace"}


def _list_url(tenant: str, state: dict, **changes) -> str:
    params = {**state, **changes}
    params = {k: v for k, v in params.items()
              if v not in ("", None) and not (k == "page" and v == 1)
              and not (k == "size" and v == DEFAULT_SIZE)
              and not (k == "sort" and v == "namespace")}
    return url_for("triggers.index", tenant=tenant, **params)


@bp.get("/triggers")
def index(tenant: str):
    state = _list_state()
    filters, filter_error, found = None, None, None
    try:
        filters = parse_filters(state["q"], "triggers")
    except FilterError as error:
        filter_error = error.message
    if filters is not None:
        found = store.search_triggers(tenant, filters, page=state["page"],
                                      size=state["size"], sort=state["sort"])
    now = utcnow()
    total = found.total if found else 0
    return render_template(
        "triggers/index.html", lines=[line(t, now) for t in (found.results if found else [])],
        total=total, pages=max((total + state["size"] - 1) // state["size"], 1),
        filters=filters, filter_error=filter_error, page_sizes=PAGE_SIZES,
        back=_list_url(tenant, state), show_flow=True,
        list_url=lambda **changes: _list_url(tenant, state, **changes), **state)


# -- row actions -----------------------------------------------------------------------------
def _back(tenant: str) -> str:
    """Where a plain form post returns: the `next` field when it is a path of this site."""
    target = request.form.get("next") or ""
    if is_local_path(target):
        return target
    return url_for("triggers.index", tenant=tenant)


@bp.post("/triggers/<namespace>/<flow_id>/<trigger_id>")
def act(tenant: str, namespace: str, flow_id: str, trigger_id: str):
    """One row button: the row again (htmx) or back where the form was (303)."""
    action = request.form.get("action", "")
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown trigger action `{action}`; expected one of "
                           f"{', '.join(ACTIONS)}")
    call, done = ACTIONS[action]
    try:      # enabling a trigger disabled in the YAML: Conflict saying so
        trigger = call(runtime(), tenant, namespace, flow_id, trigger_id)
    except (Conflict, InvalidInput) as error:
        if htmx.is_htmx():
            return htmx.flash(str(error), "error"), 409
        flash(str(error), "error")
        return htmx.redirect_or_location(_back(tenant))
    back = _back(tenant)
    if htmx.is_htmx():
        return _row_response(line(trigger, utcnow()), back)
    flash(f"Trigger {namespace}.{flow_id}.{trigger_id}: {done}.", "success")
    return htmx.redirect_or_location(back)


def _row_response(row: Line, back: str):
    """The row again, replacing the one whose button was clicked (the request came from
    the form around the table), with the flow columns when it is a Triggers page row."""
    list_path = url_for("triggers.index", tenant=row.trigger.tenant)
    response = make_response(render_template(
        "triggers/_row.html", line=row, show_flow=back.split("?", 1)[0] == list_path))
    response.headers["HX-Retarget"] = f"#{row.row_id}"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


# -- backfill --------------------------------------------------------------------------------
def _zone(trigger: Trigger):
    """The zone the form's dates are typed in: the schedule's `timezone`, else UTC."""
    name = trigger.definition.get("timezone")
    if not name:
        return timezone.utc, "UTC"
    try:
        return ZoneInfo(str(name)), str(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc, "UTC"


def _local_moment(text: str, zone) -> datetime | None:
    """A datetime-local value in `zone` as an aware UTC datetime (None: empty)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"`{text}` is not a date and time; expected 2026-11-01T10:00") \
            from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return bounded_utc(moment)
    except ValueError:
        raise InvalidInput(f"`{text}` is out of range: pick a year between 1900 and "
                           "9999") from None


def _range(trigger: Trigger, form) -> tuple[datetime, datetime | None, dict]:
    """(start, end, errors by field): start is required, end (empty = now) not before it."""
    zone, _ = _zone(trigger)
    errors, start, end = {}, None, None
    try:
        start = _local_moment(form.get("start", ""), zone)
        if start is None:
            errors["start"] = "Give the first date of the backfill."
    except InvalidInput as error:
        errors["start"] = error.message
    try:
        end = _local_moment(form.get("end", ""), zone)
    except InvalidInput as error:
        errors["end"] = error.message
    if start and end and end < start:
        errors["end"] = "The end comes before the start; pick an end after it."
    return start, end, errors


def _schedule_or_404(tenant: str, namespace: str, flow_id: str, trigger_id: str) -> Trigger:
    trigger = service.get(tenant, namespace, flow_id, trigger_id)
    if trigger.kind not in service.SCHEDULE_KINDS:
        raise NotFound(f"The trigger {trigger_id} of {namespace}.{flow_id} is a "
                       f"{trigger.kind} trigger; only schedules can be backfilled")
    return trigger


def _backfill_form(trigger: Trigger, flow, values=None, errors=None, status: int = 200):
    """The form (`flow`: the trigger's flow, None when it no longer loads)."""
    errors = errors or {}
    _, zone_name = _zone(trigger)
    return render_template(
        "triggers/backfill.html", trigger=trigger, flow=flow, zone_name=zone_name,
        line=line(trigger, utcnow()), values=values or {}, errors=errors,
        fields=form_fields(flow.inputs, values, errors) if flow else [],
        has_file=bool(flow and any(spec.type == "FILE" for spec in flow.inputs)),
        preview=_preview(trigger, values) if values else None), status


@bp.get("/triggers/<namespace>/<flow_id>/<trigger_id>/backfill")
def backfill(tenant: str, namespace: str, flow_id: str, trigger_id: str):
    return _backfill_form(_schedule_or_404(tenant, namespace, flow_id, trigger_id),
                          runtime().load_flow(tenant, namespace, flow_id))


@bp.post("/triggers/<namespace>/<flow_id>/<trigger_id>/backfill")
def start_backfill(tenant: str, namespace: str, flow_id: str, trigger_id: str):
    trigger = _schedule_or_404(tenant, namespace, flow_id, trigger_id)
    flow = runtime().load_flow(tenant, namespace, flow_id)
    start, end, errors = _range(trigger, request.form)
    labels = None
    try:
        labels = parse_labels(request.form.get("labels", ""))
    except InvalidInput as error:
        errors[LABELS_FIELD] = error.message
    if errors:
        return _backfill_form(trigger, flow, request.form, errors, 422)
    inputs = parse_form(flow.inputs, request.form, request.files) if flow else {}
    try:
        service.start_backfill(runtime(), tenant, namespace, flow_id, trigger_id, start=start,
                               end=end, inputs=inputs, labels=labels or None)
    except (InvalidInput, Conflict) as error:
        return _backfill_form(trigger, flow, request.form, _service_errors(flow, error), 422)
    flash(f"Backfill of {namespace}.{flow_id}.{trigger_id} started.", "success")
    return htmx.redirect_or_location(url_for("triggers.index", tenant=tenant,
                                             q=f"namespace:{namespace} flow:{flow_id}"))


def _service_errors(flow, error) -> dict:
    """Where the service's refusal goes: an input, the labels, else beside the range."""
    if isinstance(error, Conflict):
        return {"": str(error)}
    errors = errors_by_input(flow.inputs if flow else [], error)
    if "" in errors:
        errors["range"] = errors.pop("")
    return errors


def _preview(trigger: Trigger, values) -> dict | None:
    """How many dates the typed range covers (counted up to PREVIEW_LIMIT)."""
    from ..model.schedule import dates_between
    start, end, errors = _range(trigger, values)
    if errors:
        return None
    try:
        dates = dates_between(trigger.definition, start, end or utcnow(),
                              limit=PREVIEW_LIMIT + 1)
    except (ValueError, OverflowError):
        return None
    return {"count": min(len(dates), PREVIEW_LIMIT), "more": len(dates) > PREVIEW_LIMIT,
            "first": dates[0] if dates else None,
            "last": dates[-1] if dates and len(dates) <= PREVIEW_LIMIT else None}


@bp.get("/triggers/<namespace>/<flow_id>/<trigger_id>/backfill/preview")
def backfill_preview(tenant: str, namespace: str, flow_id: str, trigger_id: str):
    trigger = _schedule_or_404(tenant, namespace, flow_id, trigger_id)
    return htmx.render_block("triggers/backfill.html", "preview",
                             preview=_preview(trigger, request.args), zone_name=_zone(trigger)[1])


# -- the flow's triggers tab ----------------------------------------------------------------
@dataclass
class Panel:
    """The explanation under a trigger on the flow's tab."""
    line: Line
    preconditions: list = field(default_factory=list)    # services' PreconditionsStatus
    states: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    webhook_url: str | None = None
    webhook_masked: str | None = None


def flow_tab_context(tenant: str, namespace: str, flow_id: str, flow=None) -> dict:
    """What the flow page's "triggers" tab shows (web/flows.py calls this). `flow`: the
    parsed flow, to tell "no trigger" from "triggers not registered yet" (a flow saved
    before triggers had rows: the scheduler registers them when it starts)."""
    now = utcnow()
    panels = [_panel(trigger, now) for trigger in store.flow_triggers(tenant, namespace, flow_id)]
    return {"trigger_panels": panels, "now": now, "format_duration": format_duration,
            "declared_triggers": len(flow.triggers) if flow is not None else 0,
            "triggers_back": url_for("flows.detail", tenant=tenant, namespace=namespace,
                                     flow_id=flow_id, tab="triggers")}


def _panel(trigger: Trigger, now: datetime) -> Panel:
    panel = Panel(line(trigger, now))
    definition = trigger.definition
    if trigger.kind == "Flow":
        panel.preconditions = service.preconditions_status(runtime(), trigger, now=now)
        panel.states = [str(state) for state in definition.get("states") or []]
        panel.conditions = [describe_condition(c) for c in definition.get("conditions") or []
                            if _short(c.get("type")) != "MultipleCondition"]
    elif trigger.kind == "Webhook":
        panel.webhook_url = webhook_url(trigger)
        panel.webhook_masked = webhook_url(trigger, masked=True)
    else:
        panel.conditions = [describe_condition(c) for c in definition.get("conditions") or []]
    return panel


def webhook_url(trigger: Trigger, masked: bool = False) -> str:
    """The URL that starts the flow: KESTRA_LITE_URL (else this request's host) + the API
    path; `masked` hides the key, which is the webhook's only secret."""
    base = runtime().settings.public_url
    if base.rstrip("/") == Settings.public_url:          # KESTRA_LITE_URL unset
        base = request.host_url
    tenant = "" if trigger.tenant == "main" else f"{quote(trigger.tenant, safe='')}/"
    key = "•" * 8 if masked else quote(str(trigger.definition.get("key", "")), safe="")
    return (f"{base.rstrip('/')}/api/v1/{tenant}executions/webhook/"
            f"{quote(trigger.namespace, safe='')}/{quote(trigger.flow_id, safe='')}/{key}")


# -- conditions in words ---------------------------------------------------------------------
def _short(type_name) -> str:
    return str(type_name or "").rsplit(".", 1)[-1].removesuffix("Condition") or "Condition"


def _values(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def describe_condition(condition: dict) -> str:
    """One legacy condition as a sentence (the others: the engine's one-line summary)."""
    kind, c = _short(condition.get("type")), condition
    if kind in ("ExecutionFlow", "Flow"):
        return f"the execution is of flow {c.get('namespace')}.{c.get('flowId')}"
    if kind in ("ExecutionNamespace", "FlowNamespace"):
        how = {"PREFIX": "starts with", "SUFFIX": "ends with"}.get(
            str(c.get("comparison") or ("PREFIX" if c.get("prefix") else "")).upper(), "is")
        return f"the execution's namespace {how} {c.get('namespace')}"
    if kind == "ExecutionStatus":
        parts = ([f"is one of {_values(c['in'])}"] if c.get("in") else []) + \
                ([f"is none of {_values(c['notIn'])}"] if c.get("notIn") else [])
        return "the execution's state " + " and ".join(parts or ["is any state"])
    if kind == "ExecutionLabels":
        return f"the execution has the labels {_values(c.get('labels'))}"
    if kind in ("ExecutionOutputs", "Expression"):
        return f"`{c.get('expression')}` is true"
    if kind in ("Not", "Or"):
        inner = [describe_condition(sub) for sub in c.get("conditions") or []]
        joined = " or ".join(inner)
        return f"not ({joined})" if kind == "Not" else f"either {joined}"
    return conditions.describe(condition)
