"""Triggers (Kestra's TriggerController, 0.20): search, the triggers of a flow, unlock,
update (enable/disable, set a backfill), pause/unpause/delete a backfill, enable or disable
several at once.

A trigger is answered as Kestra's trigger context (`Trigger`: tenantId, namespace, flowId,
flowRevision, triggerId, date, nextExecutionDate, backfill, stopAfter, disabled, executionId,
updatedDate...); the search pairs it with its definition (`abstractTrigger`). Bodies name a
trigger by `namespace`, `flowId` and `triggerId`. A bad body answers 400 naming the field,
an unknown trigger 404; backfill errors answer 400 with the reason, as Kestra does.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask import request

from ...errors import Conflict, InvalidInput, NotFound
from ...model.execution import label_list
from ...model.state import bounded_utc, parse_iso
from ...services import triggers as service
from ...store import triggers as trigger_store
from ...store.triggers import Trigger
from ..runtime import runtime
from . import bp
from .params import bad, json_body, label_list_body, page_args
from .search import api_filters
from .serialize import paged, respond

MAX_BULK_TRIGGERS = 1000
KEY_FIELDS = ("namespace", "flowId", "triggerId")
# Kestra's `sort=field:direction` -> the store's orders (each has one direction)
# (namespace:asc is namespace, then flow id, then trigger id)
SORTS = {"namespace:asc": "namespace", "nextExecutionDate:asc": "next", "date:desc": "last"}
DEFAULT_DIRECTION = {field.partition(":")[0]: field.partition(":")[2] for field in SORTS}
ZONE_ID = re.compile(r"\[[^\]]+\]$")     # Java's ZonedDateTime may end with [Europe/Paris]


# -- JSON shapes ---------------------------------------------------------------------------

def context_json(trigger: Trigger) -> dict:
    """Kestra's trigger context (`io.kestra.core.models.triggers.Trigger`)."""
    return {
        "tenantId": trigger.tenant,
        "namespace": trigger.namespace,
        "flowId": trigger.flow_id,
        "flowRevision": trigger.revision,
        "triggerId": trigger.trigger_id,
        "date": trigger.last_date,
        "nextExecutionDate": trigger.next_date,
        "backfill": backfill_json(trigger.backfill),
        "stopAfter": trigger.definition.get("stopAfter"),
        "disabled": trigger.disabled,
        "executionId": trigger.execution_id,
        "updatedDate": trigger.updated,
        "evaluateRunningDate": None,
        "workerId": None,
    }


def backfill_json(backfill: dict | None) -> dict | None:
    """Kestra's Backfill: start, end, currentDate, paused, inputs, labels."""
    if backfill is None:
        return None
    return {"start": backfill.get("start"), "end": backfill.get("end"),
            "currentDate": backfill.get("currentDate"),
            "paused": bool(backfill.get("paused")), "inputs": backfill.get("inputs") or {},
            "labels": label_list(backfill.get("labels")) if backfill.get("labels") else [],
            "previousNextExecutionDate": None}


def definition_json(trigger: Trigger) -> dict:
    """The trigger as declared in the flow (Kestra's AbstractTrigger)."""
    body = dict(trigger.definition)
    body["disabled"] = bool(body.get("disabled", False))
    return body


# -- reading bodies ------------------------------------------------------------------------

def trigger_key(body, what: str = "body") -> tuple[str, str, str]:
    """(namespace, flowId, triggerId) of a trigger context in a body."""
    if not isinstance(body, dict):
        bad(f"Invalid {what}: expected a JSON object with "
            f"{', '.join(f'`{name}`' for name in KEY_FIELDS)}")
    missing = [name for name in KEY_FIELDS
               if not isinstance(body.get(name), str) or not body[name].strip()]
    if missing:
        bad(f"Invalid {what}: {', '.join(f'`{name}`' for name in missing)} missing "
            "(a non-empty string each)")
    return body["namespace"], body["flowId"], body["triggerId"]


def _disabled(body: dict, what: str = "body") -> bool | None:
    value = body.get("disabled")
    if value is not None and not isinstance(value, bool):
        bad(f"Invalid {what}: `disabled` must be true or false, got {value!r}")
    return value


def backfill_date(value, field: str) -> datetime | None:
    """An ISO-8601 date-time with its offset (`2025-01-31T10:00:00Z`, `...+02:00`); a date
    without offset is refused rather than guessed."""
    if value is None or value == "":
        return None
    example = "an ISO-8601 date-time with offset, e.g. 2025-01-31T10:00:00Z"
    if not isinstance(value, str):
        bad(f"Invalid backfill: `{field}` must be {example}, got {value!r}")
    try:
        moment = datetime.fromisoformat(ZONE_ID.sub("", value.strip()))
    except ValueError:
        bad(f"Invalid backfill: `{field}` `{value}` is not {example}")
    if moment.tzinfo is None:
        bad(f"Invalid backfill: `{field}` `{value}` has no offset; add one (Z, +02:00...)")
    try:
        return bounded_utc(moment)
    except ValueError as error:
        bad(f"Invalid backfill: `{field}` `{value}`: {error}")


def _backfill_request(backfill) -> dict:
    """The start_backfill arguments of a body's `backfill`."""
    if not isinstance(backfill, dict):
        bad('Invalid backfill: expected a JSON object {"start": ..., "end": ..., '
            '"inputs": {...}, "labels": [...]}')
    start = backfill_date(backfill.get("start"), "start")
    if start is None:
        bad("Invalid backfill: `start` is required (an ISO-8601 date-time with offset, "
            "e.g. 2025-01-31T10:00:00Z)")
    inputs = backfill.get("inputs")
    if inputs is not None and not isinstance(inputs, dict):
        bad("Invalid backfill: `inputs` must be a JSON object of input id -> value")
    return {"start": start, "end": backfill_date(backfill.get("end"), "end"),
            "inputs": inputs or None, "labels": _backfill_labels(backfill.get("labels"))}


def _backfill_labels(labels) -> list[dict] | None:
    """A list of {key, value} or a map key -> value (Kestra takes both)."""
    if not labels:
        return None
    if isinstance(labels, list):
        return label_list_body(labels, "backfill labels")
    if not isinstance(labels, dict) or any(
            not str(key).strip() or isinstance(value, (dict, list))
            for key, value in labels.items()):
        bad("Invalid backfill labels: expected a map of key -> value or a list of "
            '{"key": ..., "value": ...}')
    return label_list(labels)


def _same_backfill(requested: dict, current: dict | None) -> bool:
    """Kestra's UI sends the whole context back to switch `disabled`, the running backfill
    included: that backfill is not a new one."""
    if current is None:
        return False
    start = current.get("start")
    start = parse_iso(start) if isinstance(start, str) else start
    return start == requested["start"]


# -- search and read -------------------------------------------------------------------------

def _sort() -> str:
    raw = request.args.get("sort") or "namespace:asc"
    field, _, direction = raw.partition(":")
    key = f"{field}:{direction.lower() or DEFAULT_DIRECTION.get(field, '')}"
    if key not in SORTS:
        bad(f"Invalid query parameter `sort`: `{raw}`; expected one of {', '.join(SORTS)}")
    return SORTS[key]


@bp.get("/triggers/search")
def search_triggers(tenant: str):
    """Kestra's q, namespace (and its children), flowId; plus our filter bar's `filter=`
    (`type:Schedule enabled:false`)."""
    page, size = page_args()
    filters = api_filters("triggers")
    found = trigger_store.search_triggers(tenant, filters, page=page, size=size, sort=_sort())
    return respond(paged([{"abstractTrigger": definition_json(trigger),
                           "triggerContext": context_json(trigger)}
                          for trigger in found.results], found.total))


@bp.get("/triggers/<namespace>/<flow_id>")
def flow_trigger_contexts(tenant: str, namespace: str, flow_id: str):
    """Kestra's paged list of a flow's trigger contexts (`q`: part of the trigger id)."""
    page, size = page_args()
    text = (request.args.get("q") or "").strip().lower()
    triggers = [trigger for trigger in trigger_store.flow_triggers(tenant, namespace, flow_id)
                if text in trigger.trigger_id.lower()]
    shown = triggers[(page - 1) * size:page * size]
    return respond(paged([context_json(trigger) for trigger in shown], len(triggers)))


# -- changes ---------------------------------------------------------------------------------

@bp.post("/triggers/<namespace>/<flow_id>/<trigger_id>/unlock")
def unlock_trigger(tenant: str, namespace: str, flow_id: str, trigger_id: str):
    """Release the lock a stuck execution holds on its schedule."""
    return respond(context_json(service.unlock(runtime(), tenant, namespace, flow_id,
                                               trigger_id)))


@bp.route("/triggers", methods=["PUT"], strict_slashes=False)   # Kestra's path is /triggers/
def update_trigger(tenant: str):
    """A trigger context whose `backfill` (when new) starts a backfill and whose `disabled`
    (when given) switches the trigger off or on."""
    body = json_body("trigger")
    key = trigger_key(body)
    disabled = _disabled(body)
    trigger = service.get(tenant, *key)
    with_backfill = body.get("backfill") is not None
    if with_backfill:
        requested = _backfill_request(body["backfill"])
        if not _same_backfill(requested, trigger.backfill):
            trigger = _start_backfill(tenant, key, requested)
    if _switch_wanted(trigger, disabled, with_backfill):
        trigger = service.set_disabled(runtime(), tenant, *key, disabled)
    return respond(context_json(trigger))


def _switch_wanted(trigger: Trigger, disabled: bool | None, with_backfill: bool) -> bool:
    """A change of the switch; or an explicit enable of a trigger disabled in its flow's
    source, which the service refuses (409) rather than answer a trigger that stays off. A
    context echoed with its backfill keeps its switch as it is."""
    if disabled is None:
        return False
    if disabled != trigger.disabled:
        return True
    return not disabled and trigger.source_disabled and not with_backfill


def _start_backfill(tenant: str, key: tuple[str, str, str], requested: dict) -> Trigger:
    try:
        return service.start_backfill(runtime(), tenant, *key, **requested)
    except InvalidInput as error:
        bad(f"Invalid backfill: {error}")


def _backfill_action(tenant: str, action):
    """Pause, unpause or delete the backfill of the trigger in the body; Kestra answers 400
    when the trigger has none."""
    key = trigger_key(json_body("trigger"))
    try:
        return respond(context_json(action(runtime(), tenant, *key)))
    except Conflict as error:
        bad(str(error))


@bp.put("/triggers/backfill/pause")
def pause_backfill(tenant: str):
    return _backfill_action(tenant, service.pause_backfill)


@bp.put("/triggers/backfill/unpause")
def unpause_backfill(tenant: str):
    return _backfill_action(tenant, service.resume_backfill)


@bp.post("/triggers/backfill/delete")
def delete_backfill(tenant: str):
    return _backfill_action(tenant, service.delete_backfill)


@bp.post("/triggers/set-disabled/by-triggers")
def set_disabled_by_triggers(tenant: str):
    """Body {"triggers": [trigger contexts], "disabled": bool} -> {"count": switched}; a
    trigger that no longer exists is skipped, as Kestra does."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("triggers"), list) \
            or not body["triggers"]:
        bad('Invalid body: expected {"triggers": [{"namespace": ..., "flowId": ..., '
            '"triggerId": ...}, ...], "disabled": true|false}')
    if not isinstance(body.get("disabled"), bool):
        bad("Invalid body: `disabled` is required, true or false")
    if len(body["triggers"]) > MAX_BULK_TRIGGERS:
        bad(f"Invalid body: {len(body['triggers'])} triggers, at most {MAX_BULK_TRIGGERS} "
            "per call")
    keys = [trigger_key(item, f"triggers[{index}]")
            for index, item in enumerate(body["triggers"])]
    count = sum(_switch(tenant, key, body["disabled"]) for key in keys)
    return respond({"count": count})


def _switch(tenant: str, key: tuple[str, str, str], disabled: bool) -> int:
    try:
        service.set_disabled(runtime(), tenant, *key, disabled)
    except NotFound:
        return 0
    return 1
