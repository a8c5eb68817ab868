"""Flow YAML -> `Flow` (semantics 1-4, 6.8, 8, 9, 11), reporting every problem with its
line and column.

    parse_flow(source, filename="<flow>", tenant="main") -> Flow      # raises InvalidFlow
    parse_flows(source, filename="<flows>", tenant="main") -> list[Flow]   # multi-document

The YAML is composed with marks (libyaml when available), converted to plain Python values
(YAML timestamps stay strings, as Jackson reads them) while remembering where every key and
value starts; validation then reports `Problem(line, column, message, path)`s.
"""
from __future__ import annotations

import copy
import difflib
import re

import yaml

from ..errors import InvalidFlow, Problem
from . import catalog
from .catalog import COMMON_PROPERTIES, LOG_LEVELS, Prop, TaskType
from .durations import parse_duration
from .execution import label_list
from .flow import Flow, Task
from .inputs import INPUT_ID_RE, TYPES as INPUT_TYPES, format_path, parse_input_specs
from .triggers import parse_conditions, parse_sla, parse_triggers

FLOW_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
TASK_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")

TOP_LEVEL_KEYS = ("id", "namespace", "revision", "description", "labels", "inputs",
                  "variables", "tasks", "errors", "listeners", "triggers", "pluginDefaults",
                  "taskDefaults", "concurrency", "outputs", "retry", "sla", "disabled",
                  "deleted", "tenantId")
CONCURRENCY_BEHAVIORS = ("QUEUE", "CANCEL", "FAIL")
RETRY_COMMON = ("type", "maxAttempt", "maxDuration", "warningOnRetry", "behavior")
RETRY_TYPES = {
    "constant": {"required": ("interval",), "allowed": ("interval",)},
    "exponential": {"required": ("interval", "maxInterval"),
                    "allowed": ("interval", "maxInterval", "delayFactor")},
    "random": {"required": ("minInterval", "maxInterval"),
               "allowed": ("minInterval", "maxInterval")},
}
RETRY_BEHAVIORS = ("RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION")
OUTPUT_KEYS = ("id", "type", "value", "description", "displayName", "required")
SUBFLOW_TYPES = ("io.kestra.plugin.core.flow.Subflow", "io.kestra.plugin.core.flow.ForEachItem")
DAG_TYPE = "io.kestra.plugin.core.flow.Dag"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTORS = yaml.SafeLoader.yaml_constructors
_STR = "tag:yaml.org,2002:str"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_KEEP_AS_STRING = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}


def _is_sexagesimal(node) -> bool:
    """YAML 1.1 reads `16:00:00` as the number 57600; Kestra's YAML 1.2 reader (and every
    time field: TimeBetween, timeWindow deadlines) sees the text."""
    return node.tag in (_INT, _FLOAT) and ":" in node.value


def _is_expression(value) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _text(value) -> str:
    """String form of a scalar like Jackson would coerce it (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _short(value, limit: int = 60) -> str:
    text = _text(value) if not isinstance(value, (list, dict)) else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Source:
    """One YAML document converted to Python values, with marks per path."""

    def __init__(self, node, loader, line_offset: int, problems: list):
        self.loader = loader
        self.offset = line_offset
        self.vmarks: dict[tuple, tuple[int, int]] = {}
        self.kmarks: dict[tuple, tuple[int, int]] = {}
        self.problems = problems
        self.data = self._convert(node, ())

    def _mark(self, mark) -> tuple[int, int]:
        return (mark.line + 1 + self.offset, mark.column + 1)

    def _convert(self, node, path: tuple):
        self.vmarks[path] = self._mark(node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            tag = node.tag
            if tag == _STR or tag in _KEEP_AS_STRING or _is_sexagesimal(node):
                return node.value
            constructor = _CONSTRUCTORS.get(tag)
            if constructor is None:
                line, col = self.vmarks[path]
                self.problems.append(Problem(line, col, f"Unsupported YAML tag `{tag}`",
                                             format_path(path)))
                return node.value
            return constructor(self.loader, node)
        if isinstance(node, yaml.SequenceNode):
            return [self._convert(child, path + (i,)) for i, child in enumerate(node.value)]
        # mapping
        if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
            self.loader.flatten_mapping(node)
        result: dict = {}
        for key_node, value_node in node.value:
            # Jackson reads every map key as a string: `true:` -> "true", `1:` -> "1"
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.tag == _STR:
                    key = key_node.value
                else:
                    raw_key = self._convert(key_node, ("__key__",))
                    key = "null" if raw_key is None else _text(raw_key)
            else:
                key = _short(self._convert(key_node, ("__key__",)))
            kpath = path + (key,)
            if key in result:
                line, col = self._mark(key_node.start_mark)
                self.problems.append(Problem(line, col, f"Duplicate key `{_text(key)}`",
                                             format_path(kpath)))
            self.kmarks[kpath] = self._mark(key_node.start_mark)
            result[key] = self._convert(value_node, kpath)
        return result


class _FlowParser:
    def __init__(self, src: _Source, text: str, filename: str, tenant: str, problems: list):
        self.src = src
        self.text = text
        self.filename = filename
        self.tenant = tenant
        self.problems = problems
        self.task_ids: list[tuple[str, tuple]] = []
        self.flow_id: str | None = None
        self.namespace: str | None = None
        self.plugin_defaults: list[dict] = []

    # -- reporting ---------------------------------------------------------------------
    def pos(self, path: tuple, at_key: bool = False) -> tuple[int, int]:
        if at_key and path in self.src.kmarks:
            return self.src.kmarks[path]
        while path:
            if path in self.src.vmarks:
                return self.src.vmarks[path]
            if path in self.src.kmarks:
                return self.src.kmarks[path]
            path = path[:-1]
        return self.src.vmarks.get((), (1 + self.src.offset, 1))

    def report(self, path: tuple, message: str, at_key: bool = False) -> None:
        line, col = self.pos(path, at_key)
        self.problems.append(Problem(line, col, message, format_path(path)))

    # -- flow --------------------------------------------------------------------------
    def parse(self) -> Flow | None:
        data = self.src.data
        if not isinstance(data, dict):
            self.report((), "A flow must be a YAML mapping with at least `id`, `namespace` "
                            "and `tasks`")
            return None
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                hint = difflib.get_close_matches(str(key), TOP_LEVEL_KEYS, n=1)
                self.report((key,), f"Unknown top-level property `{key}`"
                            + (f", did you mean `{hint[0]}`?" if hint else ""), True)
        flow_id = self._id_value(data, "id", FLOW_ID_RE, 100, "flow id")
        namespace = self._id_value(data, "namespace", NAMESPACE_RE, 150, "namespace")
        self.flow_id, self.namespace = flow_id, namespace

        revision = data.get("revision", 1)
        if revision is None:
            revision = 1
        if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
            self.report(("revision",), "`revision` must be an integer >= 1")
            revision = 1
        disabled = self._bool(data, "disabled", ("disabled",), "flow") or False
        description = data.get("description")
        if description is not None and isinstance(description, (list, dict)):
            self.report(("description",), "`description` must be a string")
        labels = self._flow_labels(data.get("labels"))
        variables = data.get("variables") or {}
        if not isinstance(variables, dict):
            self.report(("variables",), "`variables` must be a map")
            variables = {}
        self.plugin_defaults = self._plugin_defaults(data)

        inputs = parse_input_specs(data.get("inputs"), ("inputs",), report=self.report)
        for spec_index, spec in enumerate(inputs):
            spec.line = self.pos(("inputs", spec_index))[0]

        tasks = self._task_list(data.get("tasks"), ("tasks",), "flow", required=True)
        errors = self._task_list(data.get("errors"), ("errors",), "flow")
        self._listeners(data.get("listeners"))
        triggers = parse_triggers(self._with_defaults_list(data.get("triggers"), "triggers"),
                                  ("triggers",), report=self.report)
        sla = parse_sla(data.get("sla"), ("sla",), report=self.report)
        outputs = self._outputs(data.get("outputs"))
        concurrency = self._concurrency(data.get("concurrency"))
        retry = None
        if data.get("retry") is not None:
            retry = self._retry(data["retry"], ("retry",), "flow")
        self._check_duplicate_task_ids()

        return Flow(
            id=flow_id or "", namespace=namespace or "", tasks=tasks, revision=revision,
            tenant=self.tenant, source=self.text,
            description=None if description is None else _text(description),
            labels=labels, inputs=inputs, variables=variables, errors=errors,
            outputs=outputs, triggers=triggers, sla=sla, concurrency=concurrency,
            retry=retry, disabled=bool(disabled), plugin_defaults=self.plugin_defaults,
        )

    def _id_value(self, data: dict, key: str, regex, max_len: int, what: str) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            self.report((), f"Missing required property `{key}`")
            return None
        if isinstance(value, (list, dict)):
            self.report((key,), f"Invalid {what}: expected a string")
            return None
        value = _text(value)
        if not regex.match(value):
            self.report((key,), f"Invalid {what} `{value}`: must match `{regex.pattern}`")
        elif len(value) > max_len:
            self.report((key,), f"Invalid {what} `{value}`: at most {max_len} characters")
        return value

    def _bool(self, data: dict, key: str, path: tuple, label: str):
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.report(path, f"Invalid value for `{key}` of {label}: expected a boolean, got "
                          f"`{_short(value)}`")
        return None

    def _flow_labels(self, raw) -> list[dict]:
        if raw is None:
            return []
        if isinstance(raw, dict):
            items = [((("labels", k)), k, v) for k, v in raw.items()]
        elif isinstance(raw, list):
            items = []
            for i, item in enumerate(raw):
                if not isinstance(item, dict) or "key" not in item or "value" not in item:
                    self.report(("labels", i), "Labels list items must be mappings with `key` "
                                               "and `value`")
                    continue
                items.append((("labels", i), item["key"], item["value"]))
        else:
            self.report(("labels",), "`labels` must be a map or a list of `key`/`value` "
                                     "mappings")
            return []
        out = []
        for path, key, value in items:
            if isinstance(value, (list, dict)):
                self.report(path, f"Label `{key}` must have a scalar value")
                continue
            if value is None:
                self.report(path, f"Label `{key}` must have a value")
                continue
            key_text = _text(key)
            if key_text.startswith("system.") and key_text != "system.readOnly":
                self.report(path, "System labels can only be set by Kestra itself, offending "
                                  f"label: {key_text}={_text(value)}", True)
                continue
            out.extend(label_list({key_text: value}))
        return out

    # -- plugin defaults ---------------------------------------------------------------
    def _plugin_defaults(self, data: dict) -> list[dict]:
        out = []
        for key in ("pluginDefaults", "taskDefaults"):
            raw = data.get(key)
            if raw is None:
                continue
            if not isinstance(raw, list):
                self.report((key,), f"`{key}` must be a list of `type`/`values` mappings")
                continue
            for i, item in enumerate(raw):
                p = (key, i)
                if not isinstance(item, dict):
                    self.report(p, f"`{key}` items must be mappings with `type` and `values`")
                    continue
                for k in item:
                    if k not in ("type", "forced", "values"):
                        self.report(p + (k,), f"Unknown property `{k}` of {key}", True)
                if not isinstance(item.get("type"), str) or not item.get("type"):
                    self.report(p, f"Missing required property `type` of {key}")
                    continue
                values = item.get("values")
                if not isinstance(values, dict):
                    self.report(p + ("values",) if "values" in item else p,
                                f"`values` of {key} must be a map")
                    continue
                forced = item.get("forced", False)
                if not isinstance(forced, bool):
                    self.report(p + ("forced",), f"`forced` of {key} must be a boolean")
                    forced = False
                out.append({"type": item["type"], "forced": forced, "values": values})
        return out

    def _defaults_for(self, type_string: str, names: tuple) -> list[dict]:
        found = []
        for default in self.plugin_defaults:
            t = default["type"]
            if type_string == t or t in names or any(n.startswith(t + ".") for n in names) \
                    or type_string.startswith(t + "."):
                found.append(default)
        return found

    def _apply_defaults(self, raw: dict, type_string: str, names: tuple) -> dict:
        if not self.plugin_defaults:
            return raw
        defaults = self._defaults_for(type_string, names)
        if not defaults:
            return raw
        result = raw
        for default in defaults:
            values = {k: v for k, v in default["values"].items() if k not in ("id", "type")}
            if default["forced"]:
                result = _merge(result, values)
            else:
                result = _merge(values, result)
        return result

    def _with_defaults_list(self, raw, _what):
        if not self.plugin_defaults or not isinstance(raw, list):
            return raw
        out = []
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("type"), str):
                item = self._apply_defaults(item, item["type"], (item["type"],))
            out.append(item)
        return out

    # -- tasks -------------------------------------------------------------------------
    def _task_list(self, raw, path: tuple, owner: str, required: bool = False) -> list[Task]:
        name = path[-1]
        if raw is None:
            if required:
                self.report(path[:-1], f"Missing required property `{name}` of {owner}")
            return []
        if not isinstance(raw, list):
            self.report(path, f"`{name}` of {owner} must be a list of tasks")
            return []
        if required and not raw:
            self.report(path, f"`{name}` of {owner} must not be empty")
        out = []
        for i, item in enumerate(raw):
            task = self._task(item, path + (i,))
            if task is not None:
                out.append(task)
        return out

    def _task(self, raw, path: tuple) -> Task | None:
        if not isinstance(raw, dict):
            self.report(path, "A task must be a mapping with at least `id` and `type`")
            return None
        task_id = raw.get("id")
        if task_id is None or task_id == "":
            self.report(path, "Missing required property `id` of task")
            task_id = None
        elif isinstance(task_id, (list, dict)):
            self.report(path + ("id",), "Invalid task id: expected a string")
            task_id = None
        else:
            task_id = _text(task_id)
            if not TASK_ID_RE.match(task_id):
                self.report(path + ("id",), f"Invalid task id `{task_id}`: must match "
                                            f"`{TASK_ID_RE.pattern}` (no dots)")
            self.task_ids.append((task_id, path + ("id",)))
        label = f"task `{task_id}`" if task_id else "task"
        type_string = raw.get("type")
        if type_string is None or type_string == "":
            self.report(path, f"Missing required property `type` of {label}")
            return None
        task_type = catalog.lookup(type_string)
        if task_type is None:
            suggestion = catalog.closest(type_string)
            message = f"Unknown task type `{_text(type_string)}`"
            if suggestion:
                message += f", did you mean `{suggestion}`?"
            self.report(path + ("type",), message)
            self._scan_unknown_children(raw, path)
            return None
        raw = self._apply_defaults(raw, type_string, task_type.names)
        label = f"{label} ({task_type.type})"
        task = Task(id=task_id or "", type=task_type.type, kind=task_type.kind, props={},
                    line=self.pos(path)[0])
        self._common(task, raw, path, label)
        self._properties(task, task_type, raw, path, label)
        if task_type.type in SUBFLOW_TYPES:
            ns, fid = raw.get("namespace"), raw.get("flowId")
            if ns is not None and fid is not None and ns == self.namespace and \
                    fid == self.flow_id:
                self.report(path, f"Recursive call to flow [{ns}.{fid}]")
        return task

    def _scan_unknown_children(self, raw: dict, path: tuple) -> None:
        """Unknown type: still look at obvious child lists (ids, nested problems)."""
        for key in ("tasks", "errors", "then", "else"):
            value = raw.get(key)
            if isinstance(value, list) and all(isinstance(v, dict) and "task" not in v
                                               for v in value):
                for i, item in enumerate(value):
                    self._task(item, path + (key, i))

    def _common(self, task: Task, raw: dict, path: tuple, label: str) -> None:
        if raw.get("description") is not None:
            task.description = _text(raw["description"])
        if raw.get("retry") is not None:
            task.retry = self._retry(raw["retry"], path + ("retry",), label)
        timeout = raw.get("timeout")
        if timeout is not None:
            if not _is_expression(timeout):
                try:
                    parse_duration(timeout)
                except ValueError as exc:
                    self.report(path + ("timeout",), f"Invalid `timeout` of {label}: {exc}")
            task.timeout = _text(timeout)
        for key, attr in (("disabled", "disabled"), ("allowFailure", "allow_failure"),
                          ("allowWarning", "allow_warning")):
            value = self._bool(raw, key, path + (key,), label)
            if value is not None:
                setattr(task, attr, value)
        self._bool(raw, "logToFile", path + ("logToFile",), label)
        run_if = raw.get("runIf")
        if run_if is not None:
            if isinstance(run_if, (list, dict)):
                self.report(path + ("runIf",), f"`runIf` of {label} must be a string")
            else:
                task.run_if = _text(run_if)
        level = raw.get("logLevel")
        if level is not None:
            if level not in LOG_LEVELS:
                self.report(path + ("logLevel",), f"Invalid `logLevel` of {label}: expected one "
                                                  f"of {', '.join(LOG_LEVELS)}, got "
                                                  f"`{_short(level)}`")
            else:
                task.log_level = level
        group = raw.get("workerGroup")
        if group is not None and not isinstance(group, dict):
            self.report(path + ("workerGroup",), f"`workerGroup` of {label} must be a mapping "
                                                 "with `key`")

    def _properties(self, task: Task, task_type: TaskType, raw: dict, path: tuple,
                    label: str) -> None:
        props = task_type.properties
        for key, value in raw.items():
            if key in COMMON_PROPERTIES:
                continue
            p = path + (key,)
            prop = props.get(key)
            if prop is None:
                if task_type.strict:
                    hint = difflib.get_close_matches(str(key), list(props) +
                                                     list(COMMON_PROPERTIES), n=1)
                    self.report(p, f"Unknown property `{key}` of {label}"
                                + (f", did you mean `{hint[0]}`?" if hint else ""), True)
                task.props[key] = value
                continue
            if value is None:
                continue
            kind = prop.kind
            if kind == "tasks":
                task.children[key] = self._task_list(value, p, label)
            elif kind == "cases":
                task.cases = self._cases(value, p, label)
            elif kind == "dag":
                task.children[key], task.depends_on = self._dag(value, p, label)
            elif kind == "inputs":
                parse_input_specs(value, p, report=self.report)
                task.props[key] = value
            else:
                self._check_kind(prop, value, p, label, key)
                task.props[key] = value
        for name, prop in props.items():
            value = raw.get(name)
            if prop.required and (value is None or (prop.kind in ("tasks", "dag") and
                                                    value == [])):
                if value is None:
                    self.report(path, f"Missing required property `{name}` of {label}")
                else:
                    self.report(path + (name,), f"`{name}` of {label} must not be empty")

    def _check_kind(self, prop: Prop, value, p: tuple, label: str, name: str) -> None:
        if _is_expression(value):
            if not prop.dynamic:
                self.report(p, f"Property `{name}` of {label} does not accept expressions")
            return
        kind = prop.kind
        expected = None
        if kind == "string":
            if isinstance(value, (list, dict)):
                expected = "a string"
        elif kind == "int":
            if not ((isinstance(value, int) and not isinstance(value, bool)) or
                    (isinstance(value, str) and re.fullmatch(r"[-+]?\d+", value.strip()))):
                expected = "an integer"
        elif kind == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if isinstance(value, str):
                try:
                    float(value)
                    ok = True
                except ValueError:
                    ok = False
            if not ok:
                expected = "a number"
        elif kind == "bool":
            if not (isinstance(value, bool) or
                    (isinstance(value, str) and value.lower() in ("true", "false"))):
                expected = "a boolean"
        elif kind == "duration":
            try:
                parse_duration(value)
            except ValueError as exc:
                self.report(p, f"Invalid `{name}` of {label}: {exc}")
                return
        elif kind == "list":
            if not isinstance(value, list):
                expected = "a list"
        elif kind == "map":
            if not isinstance(value, dict):
                expected = "a map"
        elif kind == "enum":
            if value not in prop.values:
                expected = "one of " + ", ".join(map(str, prop.values))
        elif kind == "strings":
            if isinstance(value, dict) or (isinstance(value, list) and
                                           any(isinstance(v, (list, dict)) for v in value)):
                expected = "a string or a list of strings"
        if expected:
            self.report(p, f"Invalid value for `{name}` of {label}: expected {expected}, got "
                           f"`{_short(value)}`")

    def _cases(self, raw, p: tuple, label: str) -> dict[str, list[Task]]:
        if not isinstance(raw, dict):
            self.report(p, f"`cases` of {label} must be a map of value -> list of tasks")
            return {}
        out: dict[str, list[Task]] = {}
        for key, value in raw.items():
            out[_text(key) if key is not None else "null"] = self._task_list(
                value, p + (key,), f"case `{_text(key)}` of {label}")
        return out

    def _dag(self, raw, p: tuple, label: str) -> tuple[list[Task], dict[str, list[str]]]:
        if not isinstance(raw, list):
            self.report(p, f"`tasks` of {label} must be a list of `task`/`dependsOn` mappings")
            return [], {}
        tasks: list[Task] = []
        depends: dict[str, list[str]] = {}
        dep_paths: dict[str, tuple] = {}
        for i, item in enumerate(raw):
            ip = p + (i,)
            if not isinstance(item, dict) or "task" not in item:
                self.report(ip, f"Dag entries of {label} must be mappings with `task` and an "
                                "optional `dependsOn`")
                continue
            for key in item:
                if key not in ("task", "dependsOn"):
                    self.report(ip + (key,), f"Unknown property `{key}` of a Dag entry", True)
            task = self._task(item["task"], ip + ("task",))
            deps = item.get("dependsOn") or []
            if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
                self.report(ip + ("dependsOn",), "`dependsOn` must be a list of task ids")
                deps = []
            if task is not None:
                tasks.append(task)
                depends[task.id] = list(deps)
                dep_paths[task.id] = ip + ("dependsOn",)
        ids = set(depends)
        for task_id, deps in depends.items():
            for j, dep in enumerate(deps):
                if dep not in ids:
                    self.report(dep_paths[task_id] + (j,),
                                f"dag: Not existing task id in dependency: {dep}")
        cyclic = _cyclic_nodes(depends)
        if cyclic:
            self.report(p, "dag: Cyclic dependency detected: " + ", ".join(cyclic))
        return tasks, depends

    def _retry(self, raw, p: tuple, label: str) -> dict | None:
        if not isinstance(raw, dict):
            self.report(p, f"`retry` of {label} must be a mapping")
            return None
        rtype = raw.get("type")
        if rtype is None:
            self.report(p, f"Missing required property `type` of retry of {label} (constant, "
                           "exponential or random)")
            return raw
        if rtype not in RETRY_TYPES:
            self.report(p + ("type",), f"Invalid retry type `{_short(rtype)}` of {label}: "
                                       "expected constant, exponential or random")
            return raw
        spec = RETRY_TYPES[rtype]
        allowed = RETRY_COMMON + spec["allowed"]
        for key in raw:
            if key not in allowed:
                self.report(p + (key,), f"Unknown property `{key}` of {rtype} retry of {label}",
                            True)
        for key in spec["required"]:
            if raw.get(key) is None:
                self.report(p, f"Missing required property `{key}` of {rtype} retry of "
                               f"{label}")
        for key in ("interval", "maxInterval", "minInterval", "maxDuration"):
            if raw.get(key) is not None and key in allowed:
                try:
                    parse_duration(raw[key])
                except ValueError as exc:
                    self.report(p + (key,), f"Invalid `{key}` of retry of {label}: {exc}")
        max_attempt = raw.get("maxAttempt")
        if max_attempt is not None and (isinstance(max_attempt, bool) or
                                        not isinstance(max_attempt, int) or max_attempt < 1):
            self.report(p + ("maxAttempt",), f"`maxAttempt` of retry of {label} must be an "
                                             "integer >= 1")
        factor = raw.get("delayFactor")
        if factor is not None and (isinstance(factor, bool) or
                                   not isinstance(factor, (int, float))):
            self.report(p + ("delayFactor",), f"`delayFactor` of retry of {label} must be a "
                                              "number")
        warning = raw.get("warningOnRetry")
        if warning is not None and not isinstance(warning, bool):
            self.report(p + ("warningOnRetry",), f"`warningOnRetry` of retry of {label} must "
                                                 "be a boolean")
        behavior = raw.get("behavior")
        if behavior is not None and behavior not in RETRY_BEHAVIORS:
            self.report(p + ("behavior",), f"Invalid retry behavior `{_short(behavior)}`: "
                                           "expected " + " or ".join(RETRY_BEHAVIORS))
        return raw

    def _listeners(self, raw) -> None:
        if raw is None:
            return
        if not isinstance(raw, list):
            self.report(("listeners",), "`listeners` must be a list")
            return
        for i, item in enumerate(raw):
            p = ("listeners", i)
            if not isinstance(item, dict):
                self.report(p, "A listener must be a mapping with `tasks`")
                continue
            for key in item:
                if key not in ("description", "conditions", "tasks"):
                    self.report(p + (key,), f"Unknown property `{key}` of listener", True)
            if item.get("conditions") is not None:
                parse_conditions(item["conditions"], p + ("conditions",), self.report)
            self._task_list(item.get("tasks"), p + ("tasks",), "listener", required=True)

    def _outputs(self, raw) -> list[dict]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.report(("outputs",), "`outputs` must be a list of `id`/`type`/`value` "
                                      "mappings")
            return []
        out, seen = [], set()
        for i, item in enumerate(raw):
            p = ("outputs", i)
            if not isinstance(item, dict):
                self.report(p, "An output must be a mapping with `id`, `type` and `value`")
                continue
            for key in item:
                if key not in OUTPUT_KEYS:
                    self.report(p + (key,), f"Unknown property `{key}` of output", True)
            output_id = item.get("id")
            if output_id is None:
                self.report(p, "Missing required property `id` of output")
            else:
                output_id = _text(output_id)
                if not INPUT_ID_RE.match(output_id):
                    self.report(p + ("id",), f"Invalid output id `{output_id}`: must match "
                                             f"`{INPUT_ID_RE.pattern}`")
                if output_id in seen:
                    self.report(p + ("id",), f"Duplicate output id with name [{output_id}]")
                seen.add(output_id)
            otype = item.get("type")
            if otype is None:
                self.report(p, f"Missing required property `type` of output `{output_id}`")
            elif otype not in INPUT_TYPES:
                self.report(p + ("type",), f"Invalid type `{_short(otype)}` of output "
                                           f"`{output_id}`: expected one of "
                                           + ", ".join(INPUT_TYPES))
            if item.get("value") is None:
                self.report(p, f"Missing required property `value` of output `{output_id}`")
            display = item.get("displayName")
            if display is not None and len(_text(display)) > 64:
                self.report(p + ("displayName",), "`displayName` must be at most 64 characters")
            out.append(dict(item))
        return out

    def _concurrency(self, raw) -> dict | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.report(("concurrency",), "`concurrency` must be a mapping with `limit` and "
                                          "`behavior`")
            return None
        for key in raw:
            if key not in ("limit", "behavior"):
                self.report(("concurrency", key), f"Unknown property `{key}` of concurrency",
                            True)
        limit = raw.get("limit")
        if limit is None:
            self.report(("concurrency",), "Missing required property `limit` of concurrency")
        elif isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            self.report(("concurrency", "limit"), "`limit` of concurrency must be an integer "
                                                  "greater than 0")
        behavior = raw.get("behavior") or "QUEUE"
        if behavior not in CONCURRENCY_BEHAVIORS:
            self.report(("concurrency", "behavior"), f"Invalid concurrency behavior "
                                                     f"`{_short(behavior)}`: expected one of "
                                                     + ", ".join(CONCURRENCY_BEHAVIORS))
        return {"limit": limit, "behavior": behavior}

    def _check_duplicate_task_ids(self) -> None:
        seen: set[str] = set()
        reported: set[str] = set()
        for task_id, path in self.task_ids:
            if task_id in seen and task_id not in reported:
                self.report(path, f"Duplicate task id with name [{task_id}]")
                reported.add(task_id)
            seen.add(task_id)


def _merge(base, override):
    """Deep merge of maps: `override` wins; lists and scalars are replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def _cyclic_nodes(graph: dict[str, list[str]]) -> list[str]:
    """Nodes lying on a dependency cycle, in declaration order."""
    out = []
    for start in graph:
        stack, seen = list(graph[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                out.append(start)
                break
            if node in seen or node not in graph:
                continue
            seen.add(node)
            stack.extend(graph[node])
    return out


# ---------------------------------------------------------------------------------------
# entry points

def _yaml_problem(exc: yaml.YAMLError, offset: int) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1 + offset, mark.column + 1) if mark else (1 + offset, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"Invalid YAML: {problem}" + (f" ({context})" if context else "")
    return Problem(line, col, message, "")


def _parse_document(text: str, filename: str, tenant: str, offset: int,
                    problems: list[Problem]) -> Flow | None:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(exc, offset))
        return None
    finally:
        loader.dispose()
    if node is None:
        problems.append(Problem(1 + offset, 1, "Empty flow: a flow needs at least `id`, "
                                               "`namespace` and `tasks`", ""))
        return None
    local: list[Problem] = []
    try:
        source = _Source(node, loader, offset, local)
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(exc, offset))
        return None
    parser = _FlowParser(source, text, filename, tenant, local)
    flow = parser.parse()
    problems.extend(local)
    return flow


def parse_flow(source: str, filename: str = "<flow>", *, tenant: str = "main") -> Flow:
    """Parse and validate one flow; raise InvalidFlow listing every problem (sorted)."""
    if not isinstance(source, str):
        raise InvalidFlow([Problem(1, 1, "A flow source must be text", "")])
    problems: list[Problem] = []
    flow = _parse_document(source, filename, tenant, 0, problems)
    if problems or flow is None:
        raise InvalidFlow(problems)
    return flow


_SEPARATOR = re.compile(r"^---[ \t]*(#.*)?$")


def parse_flows(source: str, filename: str = "<flows>", *, tenant: str = "main") -> list[Flow]:
    """Parse a multi-document YAML (`---` separated); raise InvalidFlow with every problem."""
    lines = source.splitlines(keepends=True)
    chunks: list[tuple[int, str]] = []
    start, current = 0, []
    for index, line in enumerate(lines):
        if _SEPARATOR.match(line.rstrip("\r\n")):
            chunks.append((start, "".join(current)))
            start, current = index + 1, []
        else:
            current.append(line)
    chunks.append((start, "".join(current)))
    problems: list[Problem] = []
    flows = []
    for offset, text in chunks:
        if not _has_content(text):
            continue
        flow = _parse_document(text, filename, tenant, offset, problems)
        if flow is not None:
            flows.append(flow)
    if problems:
        raise InvalidFlow(problems)
    return flows


def _has_content(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped != "...":
            return True
    return False
