"""Flowable tasks: which children they run, in what order, and how many at once.

A flowable task run is reduced to a `Plan`: groups of (task, value) elements. Elements of a
group run one after the other; at most `limit` groups are in flight (0 = no limit). The
executor applies every plan with the same rules (semantics 6.4).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from kestra_lite.model.execution import TaskRun
from kestra_lite.model.flow import Task

SEQUENTIAL = "io.kestra.plugin.core.flow.Sequential"
PARALLEL = "io.kestra.plugin.core.flow.Parallel"
IF = "io.kestra.plugin.core.flow.If"
SWITCH = "io.kestra.plugin.core.flow.Switch"
FOREACH = "io.kestra.plugin.core.flow.ForEach"
EACH_SEQUENTIAL = "io.kestra.plugin.core.flow.EachSequential"
EACH_PARALLEL = "io.kestra.plugin.core.flow.EachParallel"
ALLOW_FAILURE = "io.kestra.plugin.core.flow.AllowFailure"
DAG = "io.kestra.plugin.core.flow.Dag"
PAUSE = "io.kestra.plugin.core.flow.Pause"
WAIT_FOR = "io.kestra.plugin.core.flow.WaitFor"
EACH_TYPES = (FOREACH, EACH_SEQUENTIAL, EACH_PARALLEL)


class FlowableError(Exception):
    """A flowable cannot resolve its children (the task run fails with this message)."""


@dataclass
class Plan:
    groups: list[list[tuple[Task, str | None]]]
    errors: list[Task] = field(default_factory=list)
    limit: int = 0
    depends_on: dict[str, list[str]] = field(default_factory=dict)


def enabled(tasks: list[Task]) -> list[Task]:
    return [t for t in tasks if not t.disabled]


def plan_for(task: Task, task_run: TaskRun) -> Plan:
    errors = enabled(task.child_list("errors"))
    kind = task.type
    if kind in EACH_TYPES:
        return _each_plan(task, task_run, errors)
    if kind == PARALLEL:
        children = enabled(task.child_list("tasks"))
        return Plan([[(t, None)] for t in children], errors, _int(task.props.get("concurrent"), 0))
    if kind == DAG:
        children = enabled(task.child_list("tasks"))
        return Plan([[(t, None)] for t in children], errors,
                    _int(task.props.get("concurrent"), 0), task.depends_on)
    if kind == IF:
        branch = "then" if (task_run.outputs or {}).get("evaluationResult") else "else"
        return Plan([[(t, None) for t in enabled(task.child_list(branch))]], errors)
    if kind == SWITCH:
        return Plan([[(t, None) for t in enabled(switch_branch(task, task_run))]], errors)
    # Sequential, AllowFailure, Pause (deprecated children), WaitFor
    return Plan([[(t, None) for t in enabled(task.child_list("tasks"))]], errors)


def switch_branch(task: Task, task_run: TaskRun) -> list[Task]:
    outputs = task_run.outputs or {}
    if outputs.get("defaults"):
        return task.child_list("defaults")
    return task.cases.get(str(outputs.get("value")), [])


def _each_plan(task: Task, task_run: TaskRun, errors: list[Task]) -> Plan:
    values = task_run.meta.get("values") or []
    children = enabled(task.child_list("tasks"))
    if task.type == EACH_PARALLEL:
        groups = [[(t, v)] for v in values for t in children]
        return Plan(groups, errors, _int(task.props.get("concurrent"), 0))
    limit = 1 if task.type == EACH_SEQUENTIAL else _int(task.props.get("concurrencyLimit"), 1)
    return Plan([[(t, v) for t in children] for v in values], errors, limit)


def _int(value, default: int) -> int:
    if value is None:
        return default
    return int(value)


# -- ForEach values ----------------------------------------------------------------------

def each_values(raw, render) -> list[str]:
    """The distinct string values of a ForEach (semantics 4, ForEach). `render(str) -> str`."""
    if isinstance(raw, str):
        text = render(raw)
        try:
            items = json.loads(text)
        except ValueError as error:
            raise FlowableError(f"Unable to parse the values `{text}` as a JSON array: {error}")
        if not isinstance(items, list):
            raise FlowableError(f"The values must be a JSON array, got `{text}`")
        items = [_json_item(item) for item in items]
    elif isinstance(raw, list):
        items = [_yaml_item(item, render) for item in raw]
    else:
        raise FlowableError(f"Unknown value type `{type(raw).__name__}` for the values")
    nulls = sum(1 for item in items if item is None)
    if nulls:
        shown = ", ".join(_java_text(v) for v in (json.loads(raw) if isinstance(raw, str) else raw))
        raise FlowableError(f"Found '{nulls}' null values on Each, with values=[{shown}]")
    return list(dict.fromkeys(items))


def _yaml_item(item, render):
    if item is None:
        return None
    if isinstance(item, str):
        return render(item)
    if isinstance(item, bool) or isinstance(item, (float, list)):
        raise FlowableError(f"Unknown value element type: {type(item).__name__}")
    if isinstance(item, int):
        return str(item)
    if isinstance(item, dict):
        return json.dumps(_render_map(item, render), separators=(",", ":"))
    raise FlowableError(f"Unknown value element type: {type(item).__name__}")


def _render_map(value, render):
    if isinstance(value, dict):
        return {render(k) if isinstance(k, str) else k: _render_map(v, render) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_map(v, render) for v in value]
    return render(value) if isinstance(value, str) else value


def _json_item(item):
    if item is None:
        return None
    if isinstance(item, str):
        return item
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (dict, list)):
        return json.dumps(item, separators=(",", ":"))
    return str(item)


def _java_text(value) -> str:
    """Java's toString of a parsed JSON value, as Kestra prints it in messages."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
