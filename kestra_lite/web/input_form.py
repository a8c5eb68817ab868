"""A form generated from typed inputs: the flow's execute form and a Pause's onResume form.

    fields = form_fields(flow.inputs, values, errors)        # -> list[Field]
    {% from "macros/input_form.html" import input_fields %}{{ input_fields(fields) }}
    provided = parse_form(flow.inputs, request.form, request.files)
    create_execution(runtime(), flow, inputs=provided, labels=parse_labels(text))

`values`: what the user submitted (request.form, to re-show the form after an error) or {}
for a fresh form (then the inputs' `defaults` are shown). `errors`: {input id: message},
from `errors_by_input(inputs, InvalidInput)`; the key "" holds a message for no input.

`parse_form` gives the raw values as Kestra's multipart API receives them: text for every
type (the engine parses and validates them, `model/inputs.resolve_inputs`), a list of the
checked values for MULTISELECT, `(filename, bytes)` for an uploaded FILE. An empty field is
"not provided" (the input's default applies, or "missing required input").
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import yaml

from ..errors import InvalidInput
from ..model.inputs import Input

WIDGETS = {
    "STRING": "text", "SECRET": "password", "INT": "number", "FLOAT": "number",
    "BOOLEAN": "radio", "BOOL": "radio", "ENUM": "select", "SELECT": "select",
    "MULTISELECT": "checkboxes", "DATE": "date", "DATETIME": "datetime-local", "TIME": "time",
    "DURATION": "text", "FILE": "file", "JSON": "textarea", "ARRAY": "textarea",
    "YAML": "textarea", "URI": "url", "EMAIL": "email",
}
HINTS = {
    "DURATION": "An ISO-8601 duration, such as PT5M or P1D.",
    "DATETIME": "In UTC.",
    "JSON": "JSON.",
    "ARRAY": "A JSON array, such as [\"a\", \"b\"].",
    "YAML": "YAML.",
    "SECRET": "Stored encrypted; never shown again.",
}
_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_INPUT_IN_MESSAGE = re.compile(r"Invalid input for `([^`]+)`")
LABELS_FIELD = "__labels"   # the errors key of the labels textarea (not an input id)


@dataclass
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass
class Field:
    id: str                     # the input id, also the form field name
    type: str                   # the Kestra input type
    widget: str                 # text password number radio select checkboxes date
    label: str                  # datetime-local time file textarea url email
    required: bool = True
    description: str | None = None
    value: str = ""             # the current value as text (text-like widgets)
    options: list[Option] = field(default_factory=list)
    step: str | None = None
    min: str | None = None
    max: str | None = None
    accept: str | None = None   # FILE: the allowed extension
    placeholder: str | None = None
    hint: str | None = None
    error: str | None = None
    depends_on: list[str] = field(default_factory=list)
    datalist: bool = False      # SELECT allowing custom values: free text with suggestions

    @property
    def html_id(self) -> str:
        return "input-" + self.id

    @property
    def html_required(self) -> bool:
        """The browser may insist (not when another input can disable this one)."""
        return self.required and not self.depends_on


# -- building the fields -------------------------------------------------------------------
def _text(value: Any, input_type: str = "STRING") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        if input_type == "YAML":
            return yaml.safe_dump(value, sort_keys=False, allow_unicode=True).rstrip("\n")
        return json.dumps(value, indent=2 if isinstance(value, dict) else None)
    return str(value)


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _local_datetime(value: str) -> str | None:
    """An ISO instant as a datetime-local value (UTC), None when it is not one."""
    text = value.strip()
    if _LOCAL_DATETIME.match(text):
        return text
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _choices(spec: Input) -> list | None:
    values = spec.props.get("values")
    if values is None:
        values = spec.props.get("options")
    return values if isinstance(values, list) else None


def _submitted(spec: Input, values) -> tuple[bool, Any]:
    """(given, value): what the user submitted for this input (a list for MULTISELECT)."""
    if values is None or spec.id not in values:
        return False, None
    if spec.type == "MULTISELECT":
        items = values.getlist(spec.id) if hasattr(values, "getlist") else values[spec.id]
        if not isinstance(items, (list, tuple)):
            items = [items]
        return True, [str(item) for item in items if str(item) != ""]
    value = values[spec.id]
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return True, value


def _selected_many(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        return [] if value is None else [_text(value)]
    return [_text(item) for item in value]


def form_field(spec: Input, values=None, error: str | None = None) -> Field:
    """One input's widget, filled with the submitted value or else the default."""
    given, value = _submitted(spec, values)
    if not given:
        value = spec.defaults
    widget = WIDGETS.get(spec.type, "text")
    out = Field(id=spec.id, type=spec.type, widget=widget,
                label=spec.display_name or spec.id, required=spec.required,
                description=spec.description, error=error, hint=HINTS.get(spec.type),
                depends_on=list((spec.depends_on or {}).get("inputs") or []))
    props = spec.props
    if spec.type in ("INT", "FLOAT"):
        out.step = "1" if spec.type == "INT" else "any"
        out.min = None if props.get("min") is None else _text(props["min"])
        out.max = None if props.get("max") is None else _text(props["max"])
    if spec.type in ("STRING", "SECRET") and props.get("validator") is not None:
        out.hint = ((out.hint + " ") if out.hint else "") + \
            f"Must match the pattern {props['validator']}."
    if spec.type == "DURATION":
        out.placeholder = "PT5M"
    if spec.type in ("DATE", "DATETIME", "TIME"):
        bounds = [f"after {props['after']}" if props.get("after") is not None else "",
                  f"before {props['before']}" if props.get("before") is not None else ""]
        if any(bounds):
            out.hint = ((out.hint + " ") if out.hint else "") + \
                "Must be " + " and ".join(b for b in bounds if b) + "."
        if spec.type in ("DATETIME", "TIME"):
            out.step = "1"
    if spec.type == "FILE":
        extension = props.get("extension")
        out.accept = None if extension is None else str(extension)
        return out
    if spec.type in ("BOOLEAN", "BOOL"):
        current = "" if value is None else _text(value).strip().lower()
        out.options = [Option("true", "true", current == "true"),
                       Option("false", "false", current == "false")]
        if not spec.required or (current not in ("true", "false")):
            out.options.append(Option("", "not set", current not in ("true", "false")))
        return out
    if spec.type == "MULTISELECT":
        chosen = _selected_many(value)
        choices = _choices(spec)
        if choices is None:     # values from an expression: typed as a list
            out.widget, out.value = "textarea", json.dumps(chosen) if chosen else ""
            out.hint = 'The values are computed when the execution starts; give a JSON ' \
                       'list, such as ["a", "b"].'
            return out
        out.options = [Option(_text(c), _text(c), _text(c) in chosen) for c in choices]
        return out
    if spec.type in ("ENUM", "SELECT"):
        current = _text(value)
        choices = _choices(spec)
        if choices is None or props.get("allowCustomValue"):
            out.widget, out.value = "text", current
            out.datalist = choices is not None
            out.options = [Option(_text(c), _text(c), _text(c) == current)
                           for c in choices or []]
            if choices is None:
                out.hint = "The allowed values are computed when the execution starts."
            return out
        out.options = [Option(_text(c), _text(c), _text(c) == current) for c in choices]
        if not spec.required or current not in [o.value for o in out.options]:
            out.options.insert(0, Option("", "—", current not in [o.value for o in out.options]))
        return out
    text = _text(value, spec.type)
    if spec.type == "SECRET" and given:
        text = ""               # a typed secret is never sent back to the browser
    if spec.type == "DATETIME" and text:
        local = _local_datetime(text)
        if local is None:       # an expression or a value the picker cannot show: free text
            out.widget = "text"
        else:
            text = local
    elif spec.type in ("DATE", "TIME", "INT", "FLOAT", "URI", "EMAIL") and \
            _is_expression(text):
        out.widget = "text"
    out.value = text
    return out


def form_fields(inputs: list[Input], values=None, errors: dict | None = None) -> list[Field]:
    """The widgets of `inputs` (in their order), with submitted values and errors."""
    errors = errors or {}
    return [form_field(spec, values, errors.get(spec.id)) for spec in inputs]


# -- reading the submitted form ---------------------------------------------------------
def _form_value(spec: Input, form) -> Any:
    if spec.type == "MULTISELECT" and _choices(spec) is not None:    # checkboxes
        items = [item for item in form.getlist(spec.id) if item != ""]
        return items or None
    value = form.get(spec.id)
    if value is None or value.strip() == "":
        return None
    if spec.type == "DATETIME" and _LOCAL_DATETIME.match(value.strip()):
        return value.strip() + "Z"          # the picker gives no offset: the form says UTC
    return value


def parse_form(inputs: list[Input], form, files=None) -> dict:
    """The provided values, keyed by input id (absent: not provided)."""
    provided: dict[str, Any] = {}
    for spec in inputs:
        if spec.type == "FILE":
            upload = files.get(spec.id) if files is not None else None
            if upload is not None and upload.filename:
                provided[spec.id] = (upload.filename, upload.read())
            continue
        value = _form_value(spec, form)
        if value is not None:
            provided[spec.id] = value
    return provided


def parse_labels(text: str) -> list[dict]:
    """`key=value` lines (also `key:value`) -> [{"key", "value"}]. Raises InvalidInput."""
    labels: list[dict] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut <= 0:
            raise InvalidInput(f"Label line {number} `{line}`: expected key=value, such as "
                               "env=prod")
        key, value = line[:cut].strip(), line[cut + 1:].strip()
        labels = [label for label in labels if label["key"] != key]
        labels.append({"key": key, "value": value})
    return labels


def errors_by_input(inputs: list[Input], error: Exception) -> dict[str, str]:
    """Where to show an InvalidInput: {input id: message}; a label problem goes to
    LABELS_FIELD, anything else to ""."""
    message = getattr(error, "message", None) or str(error)
    ids = {spec.id for spec in inputs}
    found = _INPUT_IN_MESSAGE.search(message)
    if found and found.group(1) in ids:
        return {found.group(1): message}
    prefix = message.split(":", 1)[0]
    if prefix in ids:
        return {prefix: message}
    if "label" in message.lower():
        return {LABELS_FIELD: message}
    for input_id in sorted(ids, key=len, reverse=True):
        if f"`{input_id}`" in message:
            return {input_id: message}
    return {"": message}
