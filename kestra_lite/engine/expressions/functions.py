"""Functions: now, fromJson, yaml, render, secret, kv, read, currentEachOutput, ..."""
from __future__ import annotations

import json
from collections.abc import Mapping

import yaml as _yaml
from jinja2 import Undefined, pass_context

from . import dates
from .errors import ExpressionError
from .hooks import current_hooks
from .output import to_json
from .undefined import fail

_INTERNAL_PREFIX = "__k"


def _strict(value):
    if isinstance(value, Undefined):
        fail(value)
    return value


def variables_of(context) -> dict:
    """The data variables visible in a Jinja context (functions/helpers removed)."""
    env_globals = context.environment.globals
    return {k: v for k, v in context.get_all().items()
            if not (k in env_globals and env_globals[k] is v) and not k.startswith(_INTERNAL_PREFIX)}


def now(format="iso", timeZone=None, locale=None):
    return dates.format_date(dates.now(), format or "iso", timeZone)


def from_json(value):
    value = _strict(value)
    if value is None:
        return None
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as e:
        raise ExpressionError(f"Invalid JSON given to 'fromJson': {e}") from None


def from_yaml(value):
    value = _strict(value)
    if value is None:
        return None
    try:
        return _yaml.safe_load(value)
    except _yaml.YAMLError as e:
        raise ExpressionError(f"Invalid YAML given to 'yaml': {str(e).splitlines()[0]}") from None


def _render(context, to_render, recursive):
    to_render = _strict(to_render)
    if to_render is None:
        return None
    if not isinstance(to_render, str):
        raise ExpressionError("The 'render' function expects an optional argument 'toRender' with type string.")
    from .renderer import render_string
    return render_string(to_render, variables_of(context), current_hooks(), bool(recursive))


@pass_context
def render(context, toRender=None, recursive=True):
    return _render(context, toRender, recursive)


@pass_context
def render_once(context, toRender=None):
    return _render(context, toRender, False)


def secret(key=None):
    key = _strict(key)
    if key is None:
        raise ExpressionError("The 'secret' function expects an argument 'key'.")
    return current_hooks().secret(str(key))


@pass_context
def kv(context, key=None, namespace=None, errorOnMissing=False):
    key = _strict(key)
    namespace = _strict(namespace)
    if key is None:
        raise ExpressionError("The 'kv' function expects an argument 'key'.")
    if namespace is None:
        flow = context.resolve_or_missing("flow")
        if isinstance(flow, Mapping):
            namespace = flow.get("namespace")
        if namespace is None:
            raise ExpressionError("The 'kv' function needs a namespace (no flow in context).")
    return current_hooks().kv(str(namespace), str(key), bool(_strict(errorOnMissing)))


def read(path=None):
    path = _strict(path)
    if path is None:
        raise ExpressionError("The 'read' function expects an argument 'path'.")
    return current_hooks().read(str(path))


def file_uri(path=None):
    path = _strict(path)
    if path is None:
        raise ExpressionError("The 'fileURI' function expects an argument 'path'.")
    return current_hooks().file_uri(str(path))


def file_size(path=None):
    path = _strict(path)
    if path is None:
        raise ExpressionError("The 'fileSize' function expects an argument 'path'.")
    return current_hooks().file_size(str(path))


def error_logs():
    return current_hooks().error_logs()


@pass_context
def current_each_output(context, outputs=None):
    outputs = _strict(outputs)
    parents = context.resolve_or_missing("parents")
    taskrun = context.resolve_or_missing("taskrun")
    values = []
    if isinstance(parents, list):
        for parent in reversed(parents):
            tr = parent.get("taskrun") if isinstance(parent, Mapping) else None
            if isinstance(tr, Mapping) and tr.get("value") is not None:
                values.append(tr["value"])
    if isinstance(taskrun, Mapping) and taskrun.get("value") is not None:
        values.append(taskrun["value"])
    current = outputs
    for value in values:
        if not isinstance(current, Mapping):
            return None
        current = current.get(value) if value in current else current.get(str(value))
    return current


@pass_context
def fetch_context(context):
    return variables_of(context)


@pass_context
def print_context(context):
    return to_json(variables_of(context))


def _numbers(args):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    values = [_strict(a) for a in args]
    if not values:
        raise ExpressionError("The function expects at least one argument")
    return values


def max_(*args):
    return max(_numbers(args))


def min_(*args):
    return min(_numbers(args))


def pebble_range(start, end, step=1):
    start, end, step = _strict(start), _strict(end), _strict(step)
    if step == 0:
        raise ExpressionError("The range step cannot be 0")
    if isinstance(start, str) and isinstance(end, str) and len(start) == 1 and len(end) == 1:
        return [chr(c) for c in pebble_range(ord(start), ord(end), step)]
    start, end, step = int(start), int(end), int(step)
    return list(range(start, end + (1 if step > 0 else -1), step))


def range_(start, end, increment=1):
    return pebble_range(start, end, increment)


def _unsupported(name):
    def fn(*args, **kwargs):
        raise ExpressionError(f"The '{name}' function is not supported by kestra-lite")
    return fn


FUNCTIONS = {
    "now": now,
    "fromJson": from_json,
    "json": from_json,
    "yaml": from_yaml,
    "render": render,
    "renderOnce": render_once,
    "secret": secret,
    "kv": kv,
    "read": read,
    "fileURI": file_uri,
    "fileSize": file_size,
    "errorLogs": error_logs,
    "currentEachOutput": current_each_output,
    "fetchContext": fetch_context,
    "printContext": print_context,
    "max": max_,
    "min": min_,
    "range": range_,
    "encrypt": _unsupported("encrypt"),
    "decrypt": _unsupported("decrypt"),
    "fromIon": _unsupported("fromIon"),
}
