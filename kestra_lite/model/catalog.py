"""The task type catalog: every known task type, its kind, aliases and properties.

One place for the parser (validation), the engine (kind) and the worker (impl).
Plugins call `register()` at import time to add their types.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

# Property kinds:
#   string | int | number | bool | duration | list | map | any | enum (see `values`)
#   strings  a string or a list of strings
#   tasks    a list of child tasks (goes to Task.children)
#   cases    Switch cases: map of key -> list of tasks (goes to Task.cases)
#   dag      Dag tasks: list of {task, dependsOn} (goes to Task.children + Task.depends_on)
#   inputs   a list of input declarations (Pause onResume), validated like flow inputs
KINDS = frozenset({"string", "int", "number", "bool", "duration", "list", "map", "any",
                   "enum", "strings", "tasks", "cases", "dag", "inputs"})

# Properties every task accepts (mapped onto Task fields by the parser).
COMMON_PROPERTIES = ("id", "type", "description", "retry", "timeout", "disabled",
                     "allowFailure", "allowWarning", "runIf", "logLevel", "logToFile",
                     "workerGroup")

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


@dataclass(frozen=True)
class Prop:
    kind: str
    required: bool = False
    values: tuple = ()
    dynamic: bool = True

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown property kind {self.kind!r}")


@dataclass(frozen=True)
class TaskType:
    type: str
    kind: str                              # runnable | flowable | executable | updating
    aliases: tuple[str, ...] = ()
    properties: dict[str, Prop] = field(default_factory=dict)
    impl: str | None = None                # "module:Class" for runnables
    strict: bool = True                    # False: unknown properties are tolerated

    @property
    def names(self) -> tuple[str, ...]:
        return (self.type,) + tuple(self.aliases)

    @property
    def child_properties(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.properties.items() if p.kind in ("tasks", "cases", "dag"))


_TYPES: dict[str, TaskType] = {}      # canonical type -> TaskType
_LOOKUP: dict[str, TaskType] = {}     # canonical or alias -> TaskType


def register(task_type: TaskType) -> None:
    """Add (or replace) a task type; its aliases resolve to it."""
    if task_type.kind not in ("runnable", "flowable", "executable", "updating"):
        raise ValueError(f"unknown task kind {task_type.kind!r}")
    old = _TYPES.get(task_type.type)
    if old is not None:
        for name in old.names:
            _LOOKUP.pop(name, None)
    _TYPES[task_type.type] = task_type
    for name in task_type.names:
        _LOOKUP[name] = task_type


def lookup(type_string) -> TaskType | None:
    if not isinstance(type_string, str):
        return None
    return _LOOKUP.get(type_string)


def closest(type_string) -> str | None:
    """The closest known (canonical) type, for `did you mean` messages."""
    if not isinstance(type_string, str) or not type_string:
        return None
    names = list(_LOOKUP)
    match = difflib.get_close_matches(type_string, names, n=1, cutoff=0.6)
    if not match:
        # compare the last segment only (`Lgo` vs `Log`) within the same package
        short = type_string.rsplit(".", 1)[-1]
        by_short = {}
        for name in names:
            by_short.setdefault(name.rsplit(".", 1)[-1], name)
        found = difflib.get_close_matches(short, list(by_short), n=1, cutoff=0.6)
        if not found:
            return None
        match = [by_short[found[0]]]
    return _LOOKUP[match[0]].type


def all_types() -> list[TaskType]:
    return list(_TYPES.values())


# ---------------------------------------------------------------------------------------
# core types

_CORE = "io.kestra.plugin.core."
_LEGACY = "io.kestra.core.tasks."

S = Prop("string")
S_REQ = Prop("string", required=True)
BOOL = Prop("bool")
INT = Prop("int")
MAP = Prop("map")
TASKS = Prop("tasks")
TASKS_REQ = Prop("tasks", required=True)
LEVEL = Prop("enum", values=LOG_LEVELS)


def _core(short: str, kind: str, props: dict, impl: str | None = None,
          legacy: tuple[str, ...] = (), extra_aliases: tuple[str, ...] = ()) -> None:
    aliases = tuple(_LEGACY + name for name in legacy) + extra_aliases
    register(TaskType(_CORE + short, kind, aliases, props, impl))


# Runnable
_core("log.Log", "runnable", {"message": Prop("strings", required=True), "level": LEVEL},
      "kestra_lite.tasks.core.log:Log", ("log.Log",))
_core("debug.Return", "runnable", {"format": S}, "kestra_lite.tasks.core.debug:Return",
      ("debugs.Return",))
_core("debug.Echo", "runnable", {"format": S_REQ, "level": LEVEL},
      "kestra_lite.tasks.core.debug:Echo", ("debugs.Echo",))
_core("output.OutputValues", "runnable", {"values": MAP},
      "kestra_lite.tasks.core.output:OutputValues", ("outputs.OutputValues",))
_core("execution.Fail", "runnable", {"condition": S, "errorMessage": S},
      "kestra_lite.tasks.core.fail:Fail", ("executions.Fail",))
_core("flow.Sleep", "runnable", {"duration": Prop("duration", required=True, dynamic=False)},
      "kestra_lite.tasks.core.sleep:Sleep")
register(TaskType("io.kestra.core.tasks.test.Sleep", "runnable", (),
                  {"duration": Prop("int", required=True, dynamic=False)},
                  "kestra_lite.tasks.core.sleep:TestSleep"))
_KV_TYPES = ("STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON")
_core("kv.Set", "runnable", {"key": S_REQ, "value": Prop("any", required=True),
                             "namespace": S, "overwrite": BOOL, "ttl": Prop("duration"),
                             "kvType": Prop("enum", values=_KV_TYPES)},
      "kestra_lite.tasks.core.kv:KvSet")
_core("kv.Get", "runnable", {"key": S_REQ, "namespace": S, "errorOnMissing": BOOL},
      "kestra_lite.tasks.core.kv:KvGet")
_core("kv.Delete", "runnable", {"key": S_REQ, "namespace": S, "errorOnMissing": BOOL},
      "kestra_lite.tasks.core.kv:KvDelete")
_core("kv.GetKeys", "runnable", {"prefix": S, "namespace": S},
      "kestra_lite.tasks.core.kv:KvGetKeys")
_core("execution.Resume", "runnable", {"executionId": S, "namespace": S, "flowId": S,
                                       "inputs": MAP},
      "kestra_lite.tasks.core.resume:Resume")
_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
_HTTP = {"uri": S_REQ, "method": Prop("enum", values=_HTTP_METHODS), "headers": MAP,
         "body": S, "formData": MAP, "contentType": S, "options": MAP, "sslOptions": MAP}
_core("http.Request", "runnable", {**_HTTP, "allowFailed": BOOL, "encryptBody": BOOL},
      "kestra_lite.tasks.core.http:Request", extra_aliases=("io.kestra.plugin.fs.http.Request",))
_core("http.Download", "runnable", {**_HTTP, "failOnEmptyResponse": BOOL},
      "kestra_lite.tasks.core.http:Download",
      extra_aliases=("io.kestra.plugin.fs.http.Download",))

# Flowable
_core("flow.Sequential", "flowable", {"tasks": TASKS_REQ, "errors": TASKS},
      legacy=("flows.Sequential",))
_core("flow.Parallel", "flowable", {"tasks": TASKS_REQ, "errors": TASKS, "concurrent": INT},
      legacy=("flows.Parallel",))
_core("flow.If", "flowable", {"condition": Prop("string", required=True),
                              "then": TASKS_REQ, "else": TASKS, "errors": TASKS},
      legacy=("flows.If",))
_core("flow.Switch", "flowable", {"value": S_REQ, "cases": Prop("cases"),
                                  "defaults": TASKS, "errors": TASKS},
      legacy=("flows.Switch",))
_core("flow.ForEach", "flowable", {"values": Prop("any", required=True),
                                   "concurrencyLimit": INT, "tasks": TASKS_REQ,
                                   "errors": TASKS},
      legacy=("flows.ForEach",))
_core("flow.EachSequential", "flowable", {"value": Prop("any", required=True),
                                          "tasks": TASKS_REQ, "errors": TASKS},
      legacy=("flows.EachSequential",))
_core("flow.EachParallel", "flowable", {"value": Prop("any", required=True),
                                        "concurrent": INT, "tasks": TASKS_REQ,
                                        "errors": TASKS},
      legacy=("flows.EachParallel",))
_core("flow.AllowFailure", "flowable", {"tasks": TASKS_REQ, "errors": TASKS},
      legacy=("flows.AllowFailure",))
_core("flow.Dag", "flowable", {"tasks": Prop("dag", required=True), "concurrent": INT,
                               "errors": TASKS},
      legacy=("flows.Dag",))
_core("flow.Pause", "flowable", {"delay": Prop("duration"), "onResume": Prop("inputs"),
                                 "tasks": TASKS, "errors": TASKS},
      legacy=("flows.Pause",))
_core("flow.WaitFor", "flowable", {"tasks": TASKS_REQ, "condition": Prop("string", required=True),
                                   "checkFrequency": MAP, "failOnMaxReached": BOOL,
                                   "errors": TASKS})
_core("flow.WorkingDirectory", "flowable", {"tasks": TASKS_REQ, "errors": TASKS,
                                            "cache": MAP, "inputFiles": Prop("any"),
                                            "outputFiles": Prop("list"),
                                            "namespaceFiles": MAP},
      legacy=("flows.WorkingDirectory",))

# Executable
_SUBFLOW_PROPS = {"namespace": S_REQ, "flowId": S_REQ, "revision": INT, "inputs": MAP,
                  "labels": Prop("any"), "wait": BOOL, "transmitFailed": BOOL,
                  "inheritLabels": BOOL, "scheduleDate": S}
_core("flow.Subflow", "executable", {**_SUBFLOW_PROPS, "outputs": MAP},
      legacy=("flows.Subflow", "flows.Flow"), extra_aliases=(_CORE + "flow.Flow",))
_core("flow.ForEachItem", "executable", {**_SUBFLOW_PROPS, "items": S_REQ, "batch": MAP,
                                         "errors": TASKS},
      legacy=("flows.ForEachItem",))

# Execution-updating
_core("execution.Labels", "updating", {"labels": Prop("any", required=True)},
      legacy=("executions.Labels",))

# Script tasks (plugin-scripts): lenient on properties, implemented in kestra_lite.tasks.scripts
_SCRIPT_COMMON = {"beforeCommands": Prop("list"), "env": MAP, "interpreter": Prop("list"),
                  "taskRunner": MAP, "containerImage": S, "inputFiles": Prop("any"),
                  "outputFiles": Prop("list"), "namespaceFiles": MAP,
                  "warningOnStdErr": BOOL, "failFast": BOOL, "docker": MAP,
                  "runner": S, "targetOS": S, "outputDirectory": BOOL}
for _lang in ("shell", "python", "node"):
    _module = "kestra_lite.tasks.scripts." + _lang
    register(TaskType(f"io.kestra.plugin.scripts.{_lang}.Commands", "runnable", (),
                      {**_SCRIPT_COMMON, "commands": Prop("any", required=True)},
                      f"{_module}:Commands", strict=False))
    register(TaskType(f"io.kestra.plugin.scripts.{_lang}.Script", "runnable", (),
                      {**_SCRIPT_COMMON, "script": S_REQ},
                      f"{_module}:Script", strict=False))
