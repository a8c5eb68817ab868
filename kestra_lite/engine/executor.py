"""The executor pass: `step(flow, execution, now, env)` decides what happens next.

It mutates the execution it is given (the caller loaded a private copy) and returns a
`Decision` listing the side effects for the service layer to carry out after a successful
compare-and-set save: task runs to send to workers, executions to create or kill, logs, and
the next date the scheduler must wake this execution. No database, Redis or clock access
here: reads go through `env` (see `Environment`), time is `now`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kestra_lite.engine import flowables as fl
from kestra_lite.engine.expressions import ExpressionError, Hooks, is_truthy, render, render_value
from kestra_lite.engine.labels import rendered_labels
from kestra_lite.engine.masking import mask
from kestra_lite.engine.results import retry_policy, schedule_retry
from kestra_lite.engine.sla import evaluate_slas
from kestra_lite.engine.variables import OutputsIndex, execution_variables, task_variables
from kestra_lite.errors import InvalidInput
from kestra_lite.model.durations import parse_duration
from kestra_lite.model.execution import (Attempt, Execution, TaskRun, label_list, log_record,
                                         new_id)
from kestra_lite.model.flow import Flow, Task, task_index
from kestra_lite.model.inputs import parse_typed_value
from kestra_lite.model.state import State, StateInfo, worst

SUBFLOW_TYPES = ("io.kestra.plugin.core.flow.Subflow",)
LABELS_TYPE = "io.kestra.plugin.core.execution.Labels"


class Environment(Protocol):
    """Read-only access the executor needs; implemented by services.runtime."""
    envs: dict
    globals: dict

    def hooks(self, flow: Flow, execution: Execution) -> Hooks: ...
    def reveal_secret_inputs(self, flow: Flow, inputs: dict) -> tuple[dict, list[str]]: ...
    def load_flow(self, tenant: str, namespace: str, flow_id: str,
                  revision: int | None = None) -> Flow | None: ...
    def load_execution(self, tenant: str, execution_id: str) -> Execution | None: ...
    def count_running(self, tenant: str, namespace: str, flow_id: str) -> int: ...
    def new_execution(self, flow: Flow, *, inputs: dict, labels: list[dict], trigger: dict | None,
                      now: datetime, parsed: bool = True) -> Execution: ...


@dataclass
class Decision:
    run: list[tuple[str, int]] = field(default_factory=list)   # (task run id, attempt number)
    executions: list[Execution] = field(default_factory=list)  # to create, then advance
    kill_executions: list[str] = field(default_factory=list)
    kill_task_runs: list[str] = field(default_factory=list)   # "<task run id>:<attempt>"
    logs: list[dict] = field(default_factory=list)
    wake_at: datetime | None = None
    terminated: bool = False
    changed: bool = False
    trigger_event: object = None    # set by the service: the store.triggers.TriggerEvent saved


def step(flow: Flow, execution: Execution, now: datetime, env: Environment) -> Decision:
    return Pass(flow, execution, now, env).run()


class Pass:
    def __init__(self, flow: Flow, execution: Execution, now: datetime, env: Environment):
        self.flow, self.ex, self.now, self.env = flow, execution, now, env
        self.decision = Decision()
        self.index = OutputsIndex(execution)
        self._base: dict | None = None
        self._hooks: Hooks | None = None
        self._secrets: list[str] = []

    # -- entry -------------------------------------------------------------------------
    def run(self) -> Decision:
        state = self.ex.current
        if state.is_terminated:
            self._retry_as_new_execution()
            return self.decision
        if state is State.CREATED and not self._start():
            return self.decision
        if state is State.QUEUED and not self._unqueue():
            return self.decision
        self._check_slas()
        if self.ex.current is State.KILLING:
            self._kill()
            return self.decision
        if self.ex.current.is_terminated:
            return self.decision
        if self.ex.current is State.PAUSED:
            self._wake_paused_task_runs()
            if self.ex.current is State.PAUSED:
                return self.decision
        if self.ex.current is State.RESTARTED:
            self._set_execution(State.RUNNING)
        self._wake_retrying_task_runs()
        self._advance()
        return self.decision

    def _retry_as_new_execution(self) -> None:
        """CREATE_NEW_EXECUTION retry: the RETRIED execution is replayed as a new one."""
        at = _date(self.ex.meta.pop("retryNewExecutionAt", None))
        if at is None:
            return
        self.decision.changed = True
        retry = self.env.new_execution(self.flow, inputs=self.ex.inputs,
                                       labels=[dict(l) for l in self.ex.labels],
                                       trigger=self.ex.trigger, now=self.now, parsed=False)
        retry.parent_id = self.ex.id
        retry.original_id = self.ex.original_id or self.ex.id
        retry.attempt_number = self.ex.attempt_number + 1
        retry.schedule_date = at
        self.ex.meta["retriedBy"] = retry.id
        self.decision.executions.append(retry)
        self.decision.terminated = True

    # -- start, concurrency --------------------------------------------------------------
    def _start(self) -> bool:
        schedule = self.ex.schedule_date
        if schedule is not None and schedule > self.now:
            self.decision.wake_at = schedule
            return False
        if self._concurrency_exceeded():
            return False
        return True

    def _concurrency_exceeded(self) -> bool:
        concurrency = self.flow.concurrency
        if not concurrency:
            return False
        running = self.env.count_running(self.ex.tenant, self.flow.namespace, self.flow.id)
        if running < int(concurrency["limit"]):
            return False
        behavior = concurrency.get("behavior") or "QUEUE"
        if self.ex.current is State.QUEUED:
            return True
        if behavior == "QUEUE":
            self._set_execution(State.QUEUED)
            self._log("INFO", f"Flow is queued due to concurrency limit exceeded, {running} running(s)")
        elif behavior == "CANCEL":
            self._log("INFO", "Flow is CANCELLED due to concurrency limit exceeded")
            self._end_execution(State.CANCELLED, render_outputs=False)
        else:
            self._log("ERROR", "Flow is FAILED due to concurrency limit exceeded")
            self._end_execution(State.FAILED, render_outputs=False)
        return True

    def _unqueue(self) -> bool:
        if self._concurrency_exceeded():
            return False
        self._set_execution(State.RUNNING)
        return True

    # -- SLA -----------------------------------------------------------------------------
    def _check_slas(self) -> None:
        if not self.flow.sla:
            return
        outcome = evaluate_slas(self.flow.sla, self.ex, self.now, self._render_execution)
        for message in outcome.logs:
            self._log(*message)
        if outcome.wake_at:
            self._wake(outcome.wake_at)
        if outcome.labels:
            for label in outcome.labels:
                self.ex.set_label(label["key"], label["value"])
            self.decision.changed = True
        if outcome.meta_changed:
            self.decision.changed = True
        if outcome.state is not None:
            self._abort(outcome.state)

    def _abort(self, state: State) -> None:
        """SLA FAIL/CANCEL: the last task run takes the state, running ones are killed."""
        pending = [t for t in self.ex.task_runs if not t.current.is_terminated]
        for task_run in pending:
            self._interrupt(task_run)
            self._set(task_run, state if task_run is self.ex.task_runs[-1] else State.KILLED)
        self._end_execution(state, render_outputs=False)

    # -- kill ----------------------------------------------------------------------------
    def _kill(self) -> None:
        for task_run in self.ex.task_runs:
            if not task_run.current.is_terminated:
                self._interrupt(task_run)
                self._set(task_run, State.KILLED)
        self._end_execution(State.KILLED, render_outputs=False)

    def _interrupt(self, task_run: TaskRun) -> None:
        if task_run.current is State.RUNNING and task_run.attempts:
            attempt = task_run.attempts[-1]
            if not attempt.state.current.is_terminated:
                attempt.state.set(State.KILLED, self.now)
            self.decision.kill_task_runs.append(f"{task_run.id}:{len(task_run.attempts)}")
        child = task_run.meta.get("childExecutionId")
        if child and task_run.current is State.RUNNING:
            self.decision.kill_executions.append(child)

    # -- pause and retry timers -------------------------------------------------------------
    def _wake_paused_task_runs(self) -> None:
        for task_run in list(self.ex.task_runs):
            if task_run.current is not State.PAUSED:
                continue
            resume_at = _date(task_run.meta.get("resumeAt"))
            timeout_at = _date(task_run.meta.get("timeoutAt"))
            if resume_at and resume_at <= self.now:
                self._resume_paused(task_run)
            elif timeout_at and timeout_at <= self.now:
                self._set(task_run, State.FAILED)
                self._log("WARN", f"Pause timed out for task `{task_run.task_id}`", task_run)
            else:
                self._wake(resume_at)
                self._wake(timeout_at)
        if not any(t.current is State.PAUSED for t in self.ex.task_runs):
            if self.ex.meta.get("manualPause"):
                return
            self._set_execution(State.RESTARTED)
            self._set_execution(State.RUNNING)

    def _resume_paused(self, task_run: TaskRun) -> None:
        task = self._task(task_run)
        task_run.meta.pop("resumeAt", None)
        task_run.meta.pop("timeoutAt", None)
        if task.type == fl.WAIT_FOR:
            self._next_wait_for_iteration(task_run, task)
            return
        self._set(task_run, State.RUNNING)
        if not fl.enabled(task.child_list("tasks")):
            self._set(task_run, State.SUCCESS)

    def _wake_retrying_task_runs(self) -> None:
        for task_run in self.ex.task_runs:
            if task_run.current is not State.RETRYING:
                continue
            retry_at = _date(task_run.meta.get("retryAt"))
            if retry_at and retry_at <= self.now:
                task_run.meta.pop("retryAt", None)
                self._set(task_run, State.CREATED)
            else:
                self._wake(retry_at)
        if self.ex.current is State.RETRYING and not any(
                t.current is State.RETRYING for t in self.ex.task_runs):
            self._set_execution(State.RUNNING)

    # -- the main loop -----------------------------------------------------------------------
    def _advance(self) -> None:
        # children created during this pass are not stored yet: one look per pass is enough
        for task_run in list(self.ex.task_runs):
            if task_run.current is State.RUNNING and task_run.meta.get("childExecutionId"):
                self._check_subflow(task_run)
        while True:
            progressed = self._resolve_children(None, self.flow.tasks, self.flow.errors)
            for task_run in list(self.ex.task_runs):
                if task_run.current is State.RUNNING and self._task(task_run).kind == "flowable":
                    progressed |= self._resolve_flowable(task_run)
            for task_run in list(self.ex.task_runs):
                if task_run.current in (State.CREATED, State.RESTARTED):
                    self._dispatch(task_run)
                    progressed = True
            if self.ex.current.is_terminated or not progressed:
                break
        if self.ex.current.is_terminated:
            return
        if any(t.current is State.PAUSED for t in self.ex.task_runs):
            self._set_execution(State.PAUSED)
        elif any(t.current is State.RETRYING for t in self.ex.task_runs):
            self._set_execution(State.RETRYING)

    def _resolve_children(self, parent: TaskRun | None, tasks: list[Task], errors: list[Task]) -> bool:
        """Top level: create what comes next, or end the execution."""
        plan = fl.Plan([[(t, None) for t in fl.enabled(tasks)]], fl.enabled(errors))
        outcome = self._apply_plan(parent, plan)
        if outcome.final is not None:
            self._end_execution(outcome.final)
        return outcome.progressed

    def _resolve_flowable(self, task_run: TaskRun) -> bool:
        task = self._task(task_run)
        outcome = self._apply_plan(task_run, fl.plan_for(task, task_run))
        if outcome.final is None:
            return outcome.progressed
        if task.type == fl.WAIT_FOR and outcome.final is State.SUCCESS and not outcome.handled_errors:
            return self._end_wait_for_iteration(task_run, task) or True
        self._end_task_run(task_run, task, outcome.final)
        return True

    def _apply_plan(self, parent: TaskRun | None, plan: fl.Plan) -> "_Outcome":
        parent_id = parent.id if parent else None
        children = [t for t in self.ex.task_runs if t.parent_task_run_id == parent_id]
        error_ids = {t.id for t in plan.errors}
        normal = [c for c in children if c.task_id not in error_ids]
        error_runs = [c for c in children if c.task_id in error_ids]
        failed = any(c.current is State.FAILED for c in normal)
        if failed or error_runs:
            if not plan.errors:
                return _Outcome(False, worst(c.current for c in normal))
            created, done = self._advance_group([(t, None) for t in plan.errors],
                                                {(c.task_id, c.value): c for c in error_runs}, parent)
            final = worst(c.current for c in normal) if done else None
            return _Outcome(created, final, handled_errors=True)
        by_key = {(c.task_id, c.value): c for c in normal}
        progressed, all_done, in_flight = False, True, 0
        terminated = {c.task_id for c in normal if c.current.is_terminated}
        for group in plan.groups:
            started = any(key_of(e) in by_key for e in group)
            if not started and plan.limit and in_flight >= plan.limit:
                all_done = False
                continue
            if not started and plan.depends_on:
                deps = plan.depends_on.get(group[0][0].id) or []
                if not all(d in terminated for d in deps):
                    all_done = False
                    continue
            created, done = self._advance_group(group, by_key, parent)
            progressed |= created
            if not done:
                all_done = False
                in_flight += 1
        if all_done:
            return _Outcome(progressed, worst(c.current for c in normal))
        return _Outcome(progressed, None)

    def _advance_group(self, group, by_key, parent) -> tuple[bool, bool]:
        """(created a task run, group finished)."""
        for task, value in group:
            task_run = by_key.get((task.id, value))
            if task_run is None:
                by_key[(task.id, value)] = self._create(task, parent, value)
                return True, False
            if not task_run.current.is_terminated:
                return False, False
            if task_run.current is State.FAILED:
                return False, True
        return False, True

    # -- dispatch ----------------------------------------------------------------------------
    def _dispatch(self, task_run: TaskRun) -> None:
        task = self._task(task_run)
        restarted = task_run.current is State.RESTARTED
        if task.kind == "executable":
            self._start_subflow(task_run, task)
            return
        if task.kind == "updating":
            self._apply_labels(task_run, task)
            return
        if task.run_if is not None and not restarted and not self._run_if(task_run, task):
            return
        if task.kind == "flowable":
            self._set(task_run, State.RUNNING)
            if not restarted:
                self._start_flowable(task_run, task)
            return
        self._set(task_run, State.RUNNING)
        task_run.attempts.append(Attempt(StateInfo.new(State.RUNNING, self.now)))
        self.decision.run.append((task_run.id, len(task_run.attempts)))

    def _run_if(self, task_run: TaskRun, task: Task) -> bool:
        try:
            value = self._render(task.run_if, task_run, task)
        except ExpressionError as error:
            self._log("ERROR", f"Unable to evaluate the runIf condition for task {task.id}: {error}",
                      task_run)
            self._set(task_run, State.FAILED)
            return False
        if is_truthy(value):
            return True
        self._set(task_run, State.SKIPPED)
        return False

    def _start_flowable(self, task_run: TaskRun, task: Task) -> None:
        try:
            if task.type == fl.IF:
                condition = self._render(task.props.get("condition"), task_run, task)
                task_run.outputs = {"evaluationResult": is_truthy(condition)}
            elif task.type == fl.SWITCH:
                value = self._render(task.props.get("value"), task_run, task)
                matched = value in task.cases
                task_run.outputs = {"value": value, "defaults": not matched}
                if not matched and not task.child_list("defaults"):
                    raise fl.FlowableError(f"Switch task `{task.id}` has no case for value `{value}` "
                                           "and no defaults")
            elif task.type in fl.EACH_TYPES:
                raw = task.props.get("values", task.props.get("value"))
                task_run.meta["values"] = fl.each_values(
                    raw, lambda text: self._render(text, task_run, task))
            elif task.type == fl.PAUSE:
                self._pause(task_run, task)
            elif task.type == fl.WAIT_FOR:
                task_run.iteration = task_run.iteration or 1
                task_run.outputs = {"iterationCount": task_run.iteration}
                task_run.meta["waitStart"] = self.now.isoformat()
        except (ExpressionError, fl.FlowableError, ValueError) as error:
            self._log("ERROR", str(error), task_run)
            self._end_task_run(task_run, task, State.FAILED)

    def _pause(self, task_run: TaskRun, task: Task) -> None:
        if task_run.state.count(State.PAUSED):
            return
        delay = task.props.get("delay")
        timeout = task.timeout       # a common task property, read here as the pause timeout
        self._set(task_run, State.PAUSED)
        if delay:
            at = self.now + parse_duration(self._render(delay, task_run, task))
            task_run.meta["resumeAt"] = at.isoformat()
            self._wake(at)
        elif timeout:
            at = self.now + parse_duration(self._render(timeout, task_run, task))
            task_run.meta["timeoutAt"] = at.isoformat()
            self._wake(at)

    # -- WaitFor -----------------------------------------------------------------------------
    def _end_wait_for_iteration(self, task_run: TaskRun, task: Task) -> bool:
        try:
            condition = self._render(task.props.get("condition"), task_run, task)
        except ExpressionError as error:
            self._log("ERROR", str(error), task_run)
            self._end_task_run(task_run, task, State.FAILED)
            return True
        if is_truthy(condition):
            self._end_task_run(task_run, task, State.SUCCESS)
            return True
        check = task.props.get("checkFrequency") or {}
        max_iterations = int(check.get("maxIterations", 100))
        max_duration = parse_duration(check.get("maxDuration", "PT1H"))
        interval = parse_duration(check.get("interval", "PT1S"))
        started = _date(task_run.meta.get("waitStart")) or task_run.state.start_date
        if (task_run.iteration or 1) >= max_iterations or self.now + interval - started > max_duration:
            failed = task.props.get("failOnMaxReached")
            self._end_task_run(task_run, task, State.FAILED if failed else State.SUCCESS)
            return True
        self._set(task_run, State.PAUSED)
        at = self.now + interval
        task_run.meta["resumeAt"] = at.isoformat()
        self._wake(at)
        return True

    def _next_wait_for_iteration(self, task_run: TaskRun, task: Task) -> None:
        doomed = {t.id for t in self.ex.task_runs if task_run.id in
                  {a.id for a in self.index.ancestors(t)}}
        self.ex.task_runs = [t for t in self.ex.task_runs if t.id not in doomed]
        self.index.invalidate()
        task_run.iteration = (task_run.iteration or 1) + 1
        task_run.outputs = {"iterationCount": task_run.iteration}
        self._set(task_run, State.RUNNING)

    # -- Subflow ---------------------------------------------------------------------------
    def _start_subflow(self, task_run: TaskRun, task: Task) -> None:
        task_run.attempts.append(Attempt(StateInfo.new(State.RUNNING, self.now)))
        self._set(task_run, State.RUNNING)
        if task.type not in SUBFLOW_TYPES:
            self._fail_task(task_run, task, f"Task type `{task.type}` is not supported yet")
            return
        try:
            child = self._child_execution(task_run, task)
        except (ExpressionError, InvalidInput, LookupError, ValueError) as error:
            self._fail_task(task_run, task, str(error))
            return
        self.decision.executions.append(child)
        task_run.meta["childExecutionId"] = child.id
        task_run.outputs = {"executionId": child.id}
        if not _bool(task.props.get("wait"), True):
            self._end_task_run(task_run, task, State.SUCCESS)

    def _child_execution(self, task_run: TaskRun, task: Task) -> Execution:
        # the deprecated `outputs` map is rendered later, against the child execution
        props = render_value({k: v for k, v in task.props.items() if k != "outputs"},
                             self._variables(task_run, task), self._hooks_())
        namespace, flow_id = props.get("namespace"), props.get("flowId")
        revision = props.get("revision")
        child_flow = self.env.load_flow(self.ex.tenant, namespace, flow_id,
                                        int(revision) if revision else None)
        if child_flow is None:
            raise LookupError(f"Unable to find flow `{namespace}`.`{flow_id}`")
        if child_flow.disabled:
            raise LookupError(f"Cannot execute the disabled flow `{namespace}`.`{flow_id}`")
        inherit = _bool(props.get("inheritLabels"), False)
        labels = [dict(l) for l in self.ex.labels if inherit or l["key"].startswith("system.")]
        for label in label_list(props.get("labels")):
            if label["key"].startswith("system."):
                raise ValueError("System labels can only be set by Kestra itself, offending label: "
                                 f"{label['key']}={label['value']}")
            labels.append(label)
        trigger = {"id": task.id, "type": task.type, "variables": {
            "executionId": self.ex.id, "namespace": self.ex.namespace,
            "flowId": self.ex.flow_id, "flowRevision": self.ex.flow_revision}}
        return self.env.new_execution(child_flow, inputs=props.get("inputs") or {}, labels=labels,
                                      trigger=trigger, now=self.now)

    def _check_subflow(self, task_run: TaskRun) -> bool:
        task = self._task(task_run)
        child = self.env.load_execution(self.ex.tenant, task_run.meta["childExecutionId"])
        if child is not None and child.current is State.RETRIED and child.meta.get("retriedBy"):
            task_run.meta["childExecutionId"] = child.meta["retriedBy"]   # follow the retry
            self.decision.changed = True
            return False
        if child is None or not child.current.is_terminated:
            return False
        outputs: dict[str, Any] = {"executionId": child.id, "state": child.current.value}
        try:
            outputs["outputs"] = self._subflow_outputs(task, child)
        except ExpressionError as error:
            task_run.outputs = outputs
            self._fail_task(task_run, task, f"Failed to extract outputs from the subflow: {error}")
            return True
        task_run.outputs = outputs
        state = State.SUCCESS
        if _bool(task.props.get("transmitFailed"), True) and child.current in (
                State.FAILED, State.KILLED, State.WARNING, State.PAUSED):
            state = child.current
        if state is State.FAILED and self._retry(task_run):
            return True
        self._end_task_run(task_run, task, state)
        return True

    def _retry(self, task_run: TaskRun) -> bool:
        """A failed Subflow task run retries like a runnable (semantics 6.8)."""
        policy = retry_policy(self.flow, self.ex, task_run)
        if not policy:
            return False
        task_run.attempts[-1].state.set(State.FAILED, self.now)
        if not schedule_retry(policy, self.ex, task_run, self.now):
            return False
        self.decision.changed = True
        task_run.meta.pop("childExecutionId", None)
        if self.ex.current is State.RETRIED:      # CREATE_NEW_EXECUTION
            self._retry_as_new_execution()
        else:
            self._wake(_date(task_run.meta.get("retryAt")))
        return True

    def _subflow_outputs(self, task: Task, child: Execution):
        child_flow = self.env.load_flow(child.tenant, child.namespace, child.flow_id, child.flow_revision)
        if child_flow is not None and child_flow.outputs:
            return child.outputs
        raw = task.props.get("outputs")
        if not raw or child_flow is None:
            return child.outputs
        variables = execution_variables(child_flow, child, OutputsIndex(child),
                                        self.env.envs, self.env.globals)
        return render_value(raw, variables, self.env.hooks(child_flow, child))

    # -- Labels ------------------------------------------------------------------------------
    def _apply_labels(self, task_run: TaskRun, task: Task) -> None:
        task_run.attempts.append(Attempt(StateInfo.new(State.RUNNING, self.now)))
        self._set(task_run, State.RUNNING)
        try:
            labels = rendered_labels(task.props.get("labels"), self._variables(task_run, task),
                                     self._hooks_())
        except (ExpressionError, ValueError) as error:
            self._fail_task(task_run, task, str(error))
            return
        for label in labels:
            self.ex.set_label(label["key"], label["value"])
        self._end_task_run(task_run, task, State.SUCCESS)

    # -- endings -------------------------------------------------------------------------------
    def _fail_task(self, task_run: TaskRun, task: Task, message: str) -> None:
        self._log("ERROR", message, task_run)
        self._end_task_run(task_run, task, State.FAILED)

    def _end_task_run(self, task_run: TaskRun, task: Task, state: State) -> None:
        if state is State.FAILED and (task.allow_failure or task.type == fl.ALLOW_FAILURE):
            state = State.WARNING
        if state is State.WARNING and task.allow_warning:
            state = State.SUCCESS
        if task_run.attempts and not task_run.attempts[-1].state.current.is_terminated:
            task_run.attempts[-1].state.set(state, self.now)
        self._set(task_run, state)

    def _end_execution(self, state: State, render_outputs: bool = True) -> None:
        if render_outputs and self.flow.outputs:
            state = self._render_flow_outputs(state)
        self._set_execution(state)
        duration = self.ex.state.duration(self.now).total_seconds()
        self._log("INFO", f"Flow completed with state {state.value} in {duration:.3f}s")
        self.decision.terminated = True
        self.decision.wake_at = None    # an ended execution has nothing left to wake for

    def _render_flow_outputs(self, state: State) -> State:
        variables = self._execution_variables()
        outputs: dict = {}
        try:
            for spec in self.flow.outputs:
                value = render_value(spec.get("value"), variables, self._hooks_())
                outputs[spec["id"]] = parse_typed_value(spec.get("type", "STRING"), value, spec["id"])
        except (ExpressionError, InvalidInput, ValueError) as error:
            self._log("ERROR", f"Failed to render output values: {error}")
            self.ex.outputs = None
            return State.FAILED
        self.ex.outputs = outputs
        return state

    # -- small helpers ---------------------------------------------------------------------------
    def _create(self, task: Task, parent: TaskRun | None, value: str | None) -> TaskRun:
        task_run = TaskRun(id=new_id(), execution_id=self.ex.id, namespace=self.ex.namespace,
                           flow_id=self.ex.flow_id, task_id=task.id,
                           state=StateInfo.new(State.CREATED, self.now),
                           parent_task_run_id=parent.id if parent else None, value=value)
        self.ex.task_runs.append(task_run)
        self.index.invalidate()
        self._base = None
        self.decision.changed = True
        if self.ex.current is State.CREATED:
            self._set_execution(State.RUNNING)
        return task_run

    def _set(self, task_run: TaskRun, state: State) -> None:
        if task_run.state.set(state, self.now):
            self.decision.changed = True
            self._base = None

    def _set_execution(self, state: State) -> None:
        if self.ex.state.set(state, self.now):
            self.decision.changed = True

    def _wake(self, date: datetime | None) -> None:
        if date is not None and (self.decision.wake_at is None or date < self.decision.wake_at):
            self.decision.wake_at = date

    def _task(self, task_run: TaskRun) -> Task:
        return task_index(self.flow)[task_run.task_id]

    def _log(self, level: str, message: str, task_run: TaskRun | None = None) -> None:
        self.decision.logs.append(log_record(
            self.ex, level, mask(message, self._secrets + self._revealed()), self.now,
            task_run=task_run, thread="executor"))

    def _revealed(self) -> list[str]:
        return list(getattr(self._hooks, "revealed", None) or [])

    def _hooks_(self) -> Hooks:
        if self._hooks is None:
            self._hooks = self.env.hooks(self.flow, self.ex)
        return self._hooks

    def _execution_variables(self) -> dict:
        if self._base is None:
            self.index.invalidate()
            self._base = execution_variables(self.flow, self.ex, self.index, self.env.envs,
                                             self.env.globals)
            if "inputs" in self._base:
                self._base["inputs"], self._secrets = self.env.reveal_secret_inputs(
                    self.flow, self._base["inputs"])
        return self._base

    def _variables(self, task_run: TaskRun, task: Task) -> dict:
        return task_variables(self._execution_variables(), task, task_run, self.index)

    def _render(self, template, task_run: TaskRun, task: Task) -> str:
        if template is None:
            return ""
        if not isinstance(template, str):
            return str(template).lower() if isinstance(template, bool) else str(template)
        return render(template, self._variables(task_run, task), self._hooks_())

    def _render_execution(self, template: str) -> str:
        return render(template, self._execution_variables(), self._hooks_())


@dataclass
class _Outcome:
    progressed: bool
    final: State | None
    handled_errors: bool = False


def key_of(element) -> tuple:
    task, value = element
    return (task.id, value)


def _date(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _bool(value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
