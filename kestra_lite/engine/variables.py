"""The run variables of semantics 5.1: what an expression can see."""
from __future__ import annotations

from kestra_lite.model.execution import Execution, TaskRun
from kestra_lite.model.flow import Flow, Task
from kestra_lite.model.state import iso


class OutputsIndex:
    """Per-execution lookups computed once per executor pass (outputs map, ancestors)."""

    def __init__(self, execution: Execution):
        self.execution = execution
        self.by_id = {t.id: t for t in execution.task_runs}
        self._outputs: dict | None = None

    def ancestors(self, task_run: TaskRun) -> list[TaskRun]:
        """Closest first."""
        result = []
        parent_id = task_run.parent_task_run_id
        while parent_id is not None:
            parent = self.by_id.get(parent_id)
            if parent is None:
                break
            result.append(parent)
            parent_id = parent.parent_task_run_id
        return result

    def outputs(self) -> dict:
        if self._outputs is None:
            self._outputs = {}
            for task_run in self.execution.task_runs:
                if task_run.outputs is not None:
                    self._merge(task_run)
        return self._outputs

    def invalidate(self) -> None:
        self._outputs = None
        self.by_id = {t.id: t for t in self.execution.task_runs}

    def _merge(self, task_run: TaskRun) -> None:
        path = [a.value for a in reversed(self.ancestors(task_run)) if a.value is not None]
        if task_run.value is not None:
            path.append(task_run.value)
        if not path:
            self._outputs[task_run.task_id] = task_run.outputs
            return
        node = self._outputs.setdefault(task_run.task_id, {})
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = task_run.outputs


def execution_variables(flow: Flow, execution: Execution, index: OutputsIndex,
                        envs: dict | None = None, globals_: dict | None = None) -> dict:
    """Variables that do not depend on a task run."""
    variables = {
        "flow": {"id": flow.id, "namespace": flow.namespace, "revision": flow.revision,
                 "tenantId": execution.tenant},
        "execution": {"id": execution.id, "startDate": iso(execution.state.start_date),
                      "originalId": execution.original_id or execution.id},
        "inputs": with_input_defaults(flow, execution.inputs),
        "outputs": index.outputs(),
        "vars": flow.variables or {},
        # flat keys; the expression engine resolves `labels.system.correlationId` on them
        "labels": {label["key"]: label["value"] for label in execution.labels},
        "trigger": (execution.trigger or {}).get("variables") or {},
        "envs": envs or {},
        "globals": globals_ or {},
        "tasks": _task_states(execution, index),
    }
    if not flow.inputs and not execution.inputs:
        del variables["inputs"]     # as in Kestra: a flow without inputs has no `inputs`
    return variables


def task_variables(base: dict, task: Task, task_run: TaskRun, index: OutputsIndex) -> dict:
    """Add `task`, `taskrun`, `parent`, `parents` to execution variables."""
    variables = dict(base)
    variables["task"] = {"id": task.id, "type": task.type}
    taskrun = {"id": task_run.id, "startDate": iso(task_run.state.start_date),
               # previous attempts: the one running now does not count (semantics 6.8)
               "attemptsCount": sum(1 for a in task_run.attempts
                                    if a.state.current.is_terminated)}
    if task_run.parent_task_run_id:
        taskrun["parentId"] = task_run.parent_task_run_id
    if task_run.value is not None:
        taskrun["value"] = task_run.value
    if task_run.iteration is not None:
        taskrun["iteration"] = task_run.iteration
    variables["taskrun"] = taskrun
    parents = []
    for ancestor in index.ancestors(task_run):
        if ancestor.value is None and not ancestor.outputs:
            continue
        entry_taskrun = {"value": ancestor.value} if ancestor.value is not None else {}
        parents.append({"taskrun": entry_taskrun, "outputs": ancestor.outputs or {}})
    if parents:
        variables["parents"] = parents
        variables["parent"] = parents[0]
    return variables


def with_input_defaults(flow: Flow, inputs: dict | None) -> dict:
    """Inputs with a `defaults` that are absent from the execution are injected (semantics 2.2)."""
    result = dict(inputs or {})
    for spec in flow.inputs:
        if spec.defaults is not None and "." not in spec.id and spec.id not in result:
            result[spec.id] = spec.defaults
    return result


def _task_states(execution: Execution, index: OutputsIndex) -> dict:
    states: dict = {}
    for task_run in execution.task_runs:
        if task_run.value is None:
            states[task_run.task_id] = {"state": task_run.current.value}
        else:
            states.setdefault(task_run.task_id, {})[task_run.value] = {
                "state": task_run.current.value}
    return states
