"""Execution use cases: create, advance, merge worker results, and the user actions
(kill, pause, resume, restart, replay, change status, mark a task run, set labels).

Every change follows one pattern (`_update`): load, mutate, run the executor pass, save with
compare-and-set, retry on conflict; side effects (jobs, child executions, logs) are carried
out only after a successful save.
"""
from __future__ import annotations

import copy
import logging
from contextlib import nullcontext
from datetime import datetime
from typing import Callable

from kestra_lite.engine.executor import Decision, step
from kestra_lite.engine.flowables import WAIT_FOR
from kestra_lite.engine.results import apply_result
from kestra_lite.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from kestra_lite.model.execution import Execution, label_list, log_record, new_id
from kestra_lite.model.flow import Flow, task_index
from kestra_lite.model.inputs import parse_input_specs, resolve_inputs
from kestra_lite.model.state import State, utcnow
from kestra_lite.services import flow_triggers
from kestra_lite.services.creation import build_execution, store_input_file
from kestra_lite.services.runtime import EngineEnv, Runtime
from kestra_lite.storage.internal import execution_prefix
from kestra_lite.store import db
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store

MAX_CONFLICTS = 50
log = logging.getLogger(__name__)


# -- creation --------------------------------------------------------------------------------

def create_execution(runtime: Runtime, flow: Flow, *, inputs: dict | None = None,
                     labels=None, trigger: dict | None = None, parsed: bool = True,
                     schedule_date: datetime | None = None, local_files: bool = False,
                     now: datetime | None = None) -> Execution:
    """Create and start an execution (the API's POST /executions). Raises InvalidInput."""
    if flow.disabled:
        raise Conflict(f"Cannot execute the disabled flow `{flow.namespace}`.`{flow.id}`")
    now = now or utcnow()
    execution = build_execution(runtime, flow, inputs=inputs, labels=labels, trigger=trigger,
                                now=now, parsed=parsed, local_files=local_files)
    execution.schedule_date = schedule_date
    store.insert_execution(execution.tenant, execution)
    _update(runtime, execution.tenant, execution.id, loaded=copy.deepcopy(execution))
    return execution


# -- the CAS loop -------------------------------------------------------------------------------

def _update(runtime: Runtime, tenant: str, execution_id: str,
            mutate: Callable[[Flow, Execution, datetime], bool] | None = None,
            loaded: Execution | None = None, keep: list | None = None,
            logs: list[dict] | None = None, at: datetime | None = None) -> Decision | None:
    """Load, mutate (return None to give up), step, save with CAS; apply effects.

    `loaded`: an unmodified copy the caller already read, used for the first try (the CAS
    tells whether it is still current). `keep`: see `_after_save`. `logs`: task log lines
    written in the same transaction as the change (or alone when nothing changes). `at`:
    the time of the pass (default: the clock; the scheduler's tick passes its own)."""
    env = EngineEnv(runtime)
    for _ in range(MAX_CONFLICTS):
        execution = loaded or store.load_execution(tenant, execution_id)
        loaded = None
        flow = runtime.load_flow(tenant, execution.namespace, execution.flow_id,
                                 execution.flow_revision)
        if flow is None:
            _append_logs(tenant, logs)
            return _fail_without_flow(runtime, execution)
        with _concurrency_slot(runtime, flow, execution):
            now = at or utcnow()
            mutated = mutate(flow, execution, now) if mutate else False
            if mutated is None:
                _append_logs(tenant, logs)
                return None
            decision = step(flow, execution, now, env)
            moved = _wake_at_moved(execution, decision)
            if not (mutated or decision.changed or moved):
                _append_logs(tenant, logs)
                return decision
            saved = _save(runtime, execution, decision, logs)
        if saved:
            _after_save(runtime, execution, decision, keep)
            return decision
    raise Conflict(f"Execution {execution_id} is changing too fast; try again")


def _concurrency_slot(runtime: Runtime, flow: Flow, execution: Execution):
    """While an execution of a flow with a concurrency limit counts the running ones and
    takes a slot, no other execution of that flow may do the same (a Redis lock)."""
    if not flow.concurrency or execution.current not in (State.CREATED, State.QUEUED):
        return nullcontext()
    key = runtime.key("concurrency", execution.tenant, flow.namespace, flow.id)
    return runtime.redis.lock(key, timeout=30, blocking_timeout=30)


def _wake_at_moved(execution: Execution, decision: Decision) -> bool:
    """The execution remembers the wake date it was saved with, so a new one is saved."""
    wake_at = decision.wake_at.isoformat() if decision.wake_at else None
    if execution.meta.get("wakeAt") == wake_at:
        return False
    execution.meta["wakeAt"] = wake_at
    return True


def _save(runtime: Runtime, execution: Execution, decision: Decision,
          logs: list[dict] | None = None) -> bool:
    """Write the execution (compare-and-set), its new children and log lines, and the
    state change event Flow triggers listen to, in one transaction."""
    before = store.stored_state(execution)
    with db.write_transaction():
        if not store.save_execution(execution.tenant, execution, wake_at=decision.wake_at):
            return False
        for child in decision.executions:
            store.insert_execution(child.tenant, child)
        log_store.append_logs(execution.tenant, (logs or []) + decision.logs)
        decision.trigger_event = flow_triggers.note_state_change(execution, before, utcnow())
    _written(logs)
    return True


def _append_logs(tenant: str, logs: list[dict] | None) -> None:
    if logs:
        log_store.append_logs(tenant, logs)
        _written(logs)


def _written(logs: list[dict] | None) -> None:
    """Empty the caller's list of log lines once they are stored: a caller that retries
    the whole unit (a worker saving a result through a database outage) cannot store them
    twice."""
    if logs:
        logs.clear()


def _after_save(runtime: Runtime, execution: Execution, decision: Decision,
                keep: list | None = None) -> None:
    """Carry out the effects. With a `keep` list, the first task run to start is not
    enqueued but handed back as (execution, task run id, attempt): the calling worker runs
    it at once, saving a queue round trip. The change is committed: the effects that read
    or write the database ride out an outage here, rather than failing into a caller that
    would retry a change already made."""
    from kestra_lite import jobs
    runtime.kill_task_runs(decision.kill_task_runs)
    runs = list(decision.run)
    if keep is not None and runs:
        keep.append((execution,) + runs.pop(0))
    for task_run_id, attempt in runs:
        jobs.enqueue_task(runtime, execution.tenant, execution.id, task_run_id, attempt)
    for child in decision.executions:
        jobs.enqueue_advance(runtime, child.tenant, child.id)
    for child_id in decision.kill_executions:
        db.retrying(lambda: _kill_child(runtime, execution.tenant, child_id),
                    what=f"kill of subflow execution {child_id}")
    if decision.terminated:
        db.retrying(lambda: _on_terminated(runtime, execution),
                    what=f"follow-up of the end of execution {execution.id}")
    if decision.trigger_event is not None:
        _evaluate_triggers(runtime, decision.trigger_event, execution)


def _kill_child(runtime: Runtime, tenant: str, child_id: str) -> None:
    try:
        kill(runtime, tenant, child_id)
    except (NotFound, IllegalTransition):
        pass                                    # gone, or ended meanwhile


def _evaluate_triggers(runtime: Runtime, event, execution: Execution) -> None:
    """Flow triggers react now, on the execution just saved with the event; if this fails,
    the scheduler's sweep retries the event."""
    try:
        flow_triggers.process_event(runtime, event, upstream=execution)
    except Exception:   # noqa: BLE001 - the upstream execution is saved; the event stays
        log.exception("flow trigger evaluation failed: event=%s (retried by the scheduler)",
                      event.id)


def _on_terminated(runtime: Runtime, execution: Execution) -> None:
    from kestra_lite import jobs
    parent_id = (execution.trigger or {}).get("variables", {}).get("executionId")
    if parent_id and (execution.trigger or {}).get("type", "").endswith(".Subflow"):
        jobs.enqueue_advance(runtime, execution.tenant, parent_id)
    flow = runtime.load_flow(execution.tenant, execution.namespace, execution.flow_id,
                             execution.flow_revision)
    if flow is not None and flow.concurrency:
        # a slot is free: the queued executions try again, oldest first, under the flow lock
        queued = store.search_executions(execution.tenant, execution.namespace, execution.flow_id,
                                         [State.QUEUED], limit=int(flow.concurrency["limit"]) + 1,
                                         with_task_runs=False, oldest_first=True)
        for waiting in queued:
            jobs.enqueue_advance(runtime, waiting.tenant, waiting.id)


def _fail_without_flow(runtime: Runtime, execution: Execution) -> Decision | None:
    """The flow revision vanished: the execution cannot continue."""
    if execution.current.is_terminated:
        return None
    now = utcnow()
    execution.state.set(State.FAILED, now)
    decision = Decision(terminated=True, changed=True, logs=[log_record(
        execution, "ERROR", f"Flow {execution.namespace}.{execution.flow_id} revision "
                            f"{execution.flow_revision} can no longer be loaded (deleted, or no "
                            f"longer valid in this installation)", now, thread="executor")])
    if _save(runtime, execution, decision):
        _after_save(runtime, execution, decision)
    return decision


# -- engine entry points (called by jobs) -----------------------------------------------------

def advance(runtime: Runtime, tenant: str, execution_id: str,
            now: datetime | None = None) -> Decision | None:
    """One executor pass (at `now`, default the clock)."""
    return _update(runtime, tenant, execution_id, at=now)


def record_result(runtime: Runtime, tenant: str, execution_id: str, task_run_id: str,
                  attempt: int, state: State, outputs: dict | None,
                  loaded: Execution | None = None, keep: list | None = None,
                  logs: list[dict] | None = None) -> Decision | None:
    """A worker finished an attempt: merge it (and its last log lines) and advance, in one
    transaction. A stale attempt (already ended, killed) changes nothing but its logs."""
    def mutate(flow, execution, now):
        if not apply_result(flow, execution, task_run_id, attempt, state, outputs, now):
            return None
        return True
    return _update(runtime, tenant, execution_id, mutate, loaded, keep, logs)


# -- user actions -------------------------------------------------------------------------------

def kill(runtime: Runtime, tenant: str, execution_id: str) -> Decision | None:
    def mutate(flow, execution, now):
        if execution.current.is_terminated:
            raise IllegalTransition(f"Execution '{execution_id}' is already terminated")
        execution.state.set(State.KILLING, now)
        return True
    return _update(runtime, tenant, execution_id, mutate)


def pause(runtime: Runtime, tenant: str, execution_id: str) -> Decision | None:
    """Manual pause of a RUNNING execution (semantics 10.2)."""
    def mutate(flow, execution, now):
        if execution.current not in (State.RUNNING, State.KILLING):
            raise IllegalTransition(f"Execution '{execution_id}' is not in state RUNNING, "
                                    f"it is {execution.current.value}")
        execution.state.set(State.PAUSED, now)
        execution.meta["manualPause"] = True
        return True
    return _update(runtime, tenant, execution_id, mutate)


def resume(runtime: Runtime, tenant: str, execution_id: str, inputs: dict | None = None) -> Decision | None:
    """Resume a PAUSED execution, with the onResume inputs of its Pause task (semantics 10.1, 10.3)."""
    def mutate(flow, execution, now):
        if execution.current is not State.PAUSED:
            raise IllegalTransition(f"Execution '{execution_id}' is not paused, can't resume it")
        paused = [t for t in execution.task_runs if t.current is State.PAUSED]
        if not paused:
            execution.meta.pop("manualPause", None)
            execution.state.set(State.RUNNING, now)
            return True
        task_run = paused[0]
        task = task_index(flow)[task_run.task_id]
        if task.type == WAIT_FOR:         # waiting between iterations: the next one, now
            task_run.meta["resumeAt"] = now.isoformat()
            return True
        on_resume = task.props.get("onResume")
        if on_resume:
            task_run.outputs = {"onResume": _resume_inputs(runtime, execution, task_run,
                                                           on_resume, inputs or {})}
        task_run.meta.pop("resumeAt", None)
        task_run.meta.pop("timeoutAt", None)
        task_run.state.set(State.RUNNING, now)
        if not [t for t in task.child_list("tasks") if not t.disabled]:
            task_run.state.set(State.SUCCESS, now)
        execution.meta.pop("manualPause", None)
        if not any(t.current is State.PAUSED for t in execution.task_runs):
            execution.state.set(State.RESTARTED, now)
        return True
    return _update_without_step(runtime, tenant, execution_id, mutate)


def _resume_inputs(runtime, execution: Execution, task_run, on_resume: list, inputs: dict) -> dict:
    specs = parse_input_specs(on_resume, "onResume")
    folder = execution_prefix(execution.namespace, execution.flow_id, execution.id)

    def store_file(input_id, value):
        return store_input_file(runtime, execution.tenant,
                                f"{folder}/{task_run.task_id}/onResume/{input_id}", value)
    return resolve_inputs(specs, inputs, store_file=store_file,
                          encrypt=runtime.encryption.encrypt)


def _update_without_step(runtime: Runtime, tenant: str, execution_id: str, mutate) -> Decision | None:
    """Save the mutation alone (the new state, e.g. RESTARTED, is visible), then advance."""
    for _ in range(MAX_CONFLICTS):
        execution = store.load_execution(tenant, execution_id)
        if mutate(_flow_of(runtime, execution), execution, utcnow()) is None:
            return None
        # due now: if the advance job below is lost, the scheduler's tick still wakes it
        decision = Decision(changed=True, wake_at=utcnow())
        execution.meta["wakeAt"] = decision.wake_at.isoformat()
        if _save(runtime, execution, decision):
            from kestra_lite import jobs
            jobs.enqueue_advance(runtime, tenant, execution_id)
            if decision.trigger_event is not None:
                _evaluate_triggers(runtime, decision.trigger_event, execution)
            return decision
    raise Conflict(f"Execution {execution_id} is changing too fast; try again")


def _flow_of(runtime: Runtime, execution: Execution) -> Flow:
    flow = runtime.load_flow(execution.tenant, execution.namespace, execution.flow_id,
                             execution.flow_revision)
    if flow is None:
        raise NotFound(f"Flow {execution.namespace}.{execution.flow_id} revision "
                       f"{execution.flow_revision} not found")
    return flow


def mark_task_run(runtime: Runtime, tenant: str, execution_id: str, task_run_id: str,
                  state: State) -> Decision | None:
    """Set one task run's state (API POST /executions/{id}/state); a paused Pause marked
    RUNNING resumes the execution."""
    def mutate(flow, execution, now):
        try:
            task_run = execution.task_run(task_run_id)
        except KeyError:
            raise NotFound(f"Task run '{task_run_id}' not found in execution '{execution_id}'")
        task = task_index(flow)[task_run.task_id]
        task_run.meta.pop("resumeAt", None)
        task_run.meta.pop("timeoutAt", None)
        task_run.state.set(state, now)
        if (state is State.RUNNING and task.kind == "flowable"
                and not [t for t in task.child_list("tasks") if not t.disabled]
                and task_run.state.count(State.PAUSED)):
            task_run.state.set(State.SUCCESS, now)
        _reopen_ancestors(execution, task_run, now)
        execution.state.set(State.RESTARTED, now)
        return True
    return _update_without_step(runtime, tenant, execution_id, mutate)


def _reopen_ancestors(execution: Execution, task_run, now) -> None:
    by_id = {t.id: t for t in execution.task_runs}
    parent_id = task_run.parent_task_run_id
    while parent_id:
        parent = by_id[parent_id]
        if parent.current.is_terminated or parent.current is State.PAUSED:
            parent.state.set(State.RUNNING, now)
        parent_id = parent.parent_task_run_id


def restart(runtime: Runtime, tenant: str, execution_id: str) -> Decision | None:
    """Restart a terminated or PAUSED execution: failed task runs and their parents run again."""
    def mutate(flow, execution, now):
        if not (execution.current.is_terminated or execution.current is State.PAUSED):
            raise IllegalTransition(f"Execution '{execution_id}' must be terminated or paused "
                                    f"to be restarted, it is {execution.current.value}")
        _restart_task_runs(flow, execution, now)
        execution.attempt_number += 1
        execution.outputs = None
        execution.state.set(State.RESTARTED, now)
        return True
    return _update_without_step(runtime, tenant, execution_id, mutate)


def _restart_task_runs(flow: Flow, execution: Execution, now) -> None:
    error_ids = {t.id for task in flow.walk() for t in task.child_list("errors")}
    error_ids |= {t.id for t in flow.errors}
    by_id = {t.id: t for t in execution.task_runs}
    removed = {t.id for t in execution.task_runs if t.task_id in error_ids}
    changed = True
    while changed:
        changed = False
        for task_run in execution.task_runs:
            if task_run.id not in removed and task_run.parent_task_run_id in removed:
                removed.add(task_run.id)
                changed = True
    execution.task_runs = [t for t in execution.task_runs if t.id not in removed]
    restart_ids = set()
    for task_run in execution.task_runs:
        if task_run.current in (State.FAILED, State.PAUSED):
            current = task_run
            while current is not None:
                restart_ids.add(current.id)
                current = by_id.get(current.parent_task_run_id) if current.parent_task_run_id else None
    for task_run in execution.task_runs:
        if task_run.id in restart_ids:
            task_run.state.set(State.RESTARTED, now)
            task_run.meta.pop("retryAt", None)


def replay(runtime: Runtime, tenant: str, execution_id: str,
           task_run_id: str | None = None) -> Execution:
    """A new execution that re-runs from `task_run_id` (or from the start) (semantics 6.9)."""
    original = store.load_execution(tenant, execution_id)
    flow = _flow_of(runtime, original)
    now = utcnow()
    copy = build_execution(runtime, flow, inputs=original.inputs, labels=original.labels,
                           trigger=original.trigger, now=now, parsed=False)
    copy.parent_id = original.id
    copy.original_id = original.original_id or original.id
    copy.attempt_number = original.attempt_number + 1
    if task_run_id:
        copy.task_runs = _replayed_task_runs(flow, original, copy, task_run_id, now)
        copy.state.set(State.RESTARTED, now)
    store.insert_execution(tenant, copy)
    from kestra_lite import jobs
    jobs.enqueue_advance(runtime, tenant, copy.id)
    return copy


def _replayed_task_runs(flow: Flow, original: Execution, copy: Execution, task_run_id: str, now):
    """Copies (with new ids) of the task runs before `task_run_id`; its ancestors run again."""
    import copy as copying
    try:
        target = original.task_run(task_run_id)
    except KeyError:
        raise NotFound(f"Task run '{task_run_id}' not found in execution '{original.id}'")
    by_id = {t.id: t for t in original.task_runs}
    ancestors, current = set(), target
    while current.parent_task_run_id:
        ancestors.add(current.parent_task_run_id)
        current = by_id[current.parent_task_run_id]
    position = original.task_runs.index(target)
    kept, new_ids = [], {}
    for index, task_run in enumerate(original.task_runs):
        if task_run.id in ancestors:
            clone = copying.deepcopy(task_run)
            clone.state.set(State.RUNNING, now)
        elif index < position and not _descends(task_run, target.id, by_id):
            clone = copying.deepcopy(task_run)
        else:
            continue
        new_ids[task_run.id] = clone.id = new_id()
        clone.execution_id = copy.id
        kept.append(clone)
    for clone in kept:
        clone.parent_task_run_id = new_ids.get(clone.parent_task_run_id)
    return kept


def _descends(task_run, ancestor_id: str, by_id) -> bool:
    parent_id = task_run.parent_task_run_id
    while parent_id:
        if parent_id == ancestor_id:
            return True
        parent_id = by_id[parent_id].parent_task_run_id
    return False


def change_status(runtime: Runtime, tenant: str, execution_id: str, state: State) -> Decision | None:
    """A terminated execution takes another terminal state (API change-status)."""
    def mutate(flow, execution, now):
        if not execution.current.is_terminated:
            raise IllegalTransition(f"Execution '{execution_id}' is not terminated, "
                                    "only a terminated execution can change status")
        if not state.is_terminated:
            raise IllegalTransition(f"Status {state.value} is not a terminal state")
        execution.state.set(state, now)
        return True
    return _update(runtime, tenant, execution_id, mutate)


def set_labels(runtime: Runtime, tenant: str, execution_id: str, labels) -> Decision | None:
    """Merge labels into a terminated execution (API POST /executions/{id}/labels)."""
    given = label_list(labels)

    def mutate(flow, execution, now):
        if not execution.current.is_terminated:
            raise IllegalTransition(f"Execution '{execution_id}' is not terminated")
        for label in given:
            if label["key"].startswith("system.") and execution.label(label["key"]) != label["value"]:
                raise InvalidInput("System labels can only be set by Kestra itself, offending "
                                   f"label: {label['key']}={label['value']}")
            execution.set_label(label["key"], label["value"])
        return True
    return _update(runtime, tenant, execution_id, mutate)


def remove_labels(runtime: Runtime, tenant: str, execution_id: str,
                  keys: list[str]) -> Decision | None:
    """Remove labels from a terminated execution; system labels cannot be removed."""
    system = [key for key in keys if key.startswith("system.")]
    if system:
        raise InvalidInput(f"System labels are read-only (set by Kestra itself): {system[0]}")

    def mutate(flow, execution, now):
        if not execution.current.is_terminated:
            raise IllegalTransition(f"Execution '{execution_id}' is not terminated")
        before = len(execution.labels)
        execution.labels = [label for label in execution.labels if label["key"] not in keys]
        return True if len(execution.labels) != before else None
    return _update(runtime, tenant, execution_id, mutate)
