"""Flow and task specs: what a parsed flow YAML looks like to the engine.

Parsing and validation live in `model/flow_parser.py` (`parse_flow(source, filename)`).
The engine only reads these values; it never sees raw YAML.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass
class Task:
    id: str
    type: str                      # canonical type string (legacy aliases resolved)
    kind: str                      # "runnable" | "flowable" | "executable" | "updating"
    props: dict                    # every YAML key except the common ones and child lists
    description: str | None = None
    retry: dict | None = None      # raw retry map (engine/retry.py reads it)
    timeout: str | None = None     # ISO duration, possibly an expression
    disabled: bool = False
    allow_failure: bool = False
    allow_warning: bool = False
    run_if: str | None = None      # None = always
    log_level: str | None = None
    # child task lists of flowables, by property: "tasks", "errors", "then", "else",
    # "defaults" (Switch). Switch cases are in `cases`, Dag edges in `depends_on`.
    children: dict[str, list["Task"]] = field(default_factory=dict)
    cases: dict[str, list["Task"]] = field(default_factory=dict)
    depends_on: dict[str, list[str]] = field(default_factory=dict)
    line: int | None = None        # 1-based line of the task in the source

    def child_list(self, name: str) -> list["Task"]:
        return self.children.get(name) or []

    def walk(self) -> Iterator["Task"]:
        """This task and every nested task (all branches, errors included)."""
        yield self
        for tasks in list(self.children.values()) + list(self.cases.values()):
            for task in tasks:
                yield from task.walk()


@dataclass
class Flow:
    id: str
    namespace: str
    tasks: list[Task]
    revision: int = 1
    tenant: str = "main"
    source: str = ""
    description: str | None = None
    labels: list[dict] = field(default_factory=list)        # [{"key", "value"}]
    inputs: list[Any] = field(default_factory=list)         # list[model.inputs.Input]
    variables: dict = field(default_factory=dict)
    errors: list[Task] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)       # [{"id", "type", "value", ...}]
    triggers: list[dict] = field(default_factory=list)      # raw validated trigger maps
    sla: list[dict] = field(default_factory=list)           # raw validated SLA maps
    concurrency: dict | None = None                         # {"limit", "behavior"}
    retry: dict | None = None
    disabled: bool = False
    plugin_defaults: list[dict] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return f"{self.namespace}.{self.id}"

    def walk(self) -> Iterator[Task]:
        for task in self.tasks + self.errors:
            yield from task.walk()

    def find_task(self, task_id: str) -> Task:
        for task in self.walk():
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def label(self, key: str) -> str | None:
        for label in self.labels:
            if label["key"] == key:
                return label["value"]
        return None


def task_index(flow: Flow) -> dict[str, Task]:
    """Every task of the flow by id (errors and nested branches included), computed once."""
    index = getattr(flow, "_task_index", None)
    if index is None:
        index = {task.id: task for task in flow.walk()}
        flow._task_index = index  # flows are immutable once parsed
    return index
