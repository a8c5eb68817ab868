"""Flow triggers (semantics 9.3): start a flow when executions of other flows change state.

Every state change that a trigger may care about is written as an event in the same
transaction as the execution (`note_state_change`), so none is lost. The process that saved
it evaluates the event right after its commit (`process_event`, no queue hop: the latency
from an upstream's end to the downstream's creation is a few milliseconds); the scheduler's
`sweep` evaluates the events a dying process left behind. The listeners' conditions are
judged first, without a transaction (`_judge_event`: reads and expressions); the event is
then claimed (deleted) in the transaction that writes what the verdicts imply (`_apply`), so
it takes effect exactly once and no condition expression runs while SQLite's write lock
is held (a firing listener's `inputs` and `labels` are still rendered inside).

For each enabled Flow trigger of the tenant (never against its own flow): the upstream state
must be in `states` (default: the terminal states), every legacy condition must match, and
every windowed condition set (`preconditions`, legacy MultipleCondition) must be satisfied
by the results accumulated in its window (stored, so they survive restarts). Then a
CREATED execution of the trigger's flow is inserted with the trigger variables, the rendered
inputs and labels, and the upstream's correlation id.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kestra_lite.engine import preconditions
from kestra_lite.engine.conditions import ConditionContext, ConditionError, all_conditions_match
from kestra_lite.engine.expressions import ExpressionError, render, render_value
from kestra_lite.engine.variables import OutputsIndex, execution_variables
from kestra_lite.errors import InvalidInput
from kestra_lite.model.execution import Execution, label_list
from kestra_lite.model.state import TERMINATED, State, iso, utcnow
from kestra_lite.model.triggers import FLOW
from kestra_lite.services import triggers as trigger_service
from kestra_lite.services.creation import CORRELATION_ID, build_execution
from kestra_lite.services.runtime import Runtime, RuntimeHooks
from kestra_lite.store import db
from kestra_lite.store import executions as execution_store
from kestra_lite.store import triggers as store
from kestra_lite.store.triggers import Listener, Trigger

log = logging.getLogger(__name__)
DEFAULT_STATES = tuple(sorted(state.value for state in TERMINATED))
STALE_AFTER = timedelta(seconds=2)     # an event still there after this was left behind


# -- writing events (inside the execution's transaction) ---------------------------------------

def note_state_change(execution: Execution, before: State | None,
                      now: datetime) -> store.TriggerEvent | None:
    """Record the execution's new state for the triggers, if one may care: an enabled Flow
    trigger of another flow listens to this state, or a trigger created this execution and
    it just ended (its lock and `stopAfter`)."""
    state = execution.current
    if state is before or state is State.CREATED:
        return None
    ended_trigger_run = state.is_terminated and trigger_service.created_by_trigger(execution)
    if not ended_trigger_run and not _listeners_of(execution, state):
        return None
    return store.add_event(execution.tenant, execution.id, state.value, now)


def _listeners_of(execution: Execution, state: State) -> list[Listener]:
    """The enabled Flow triggers that listen to `state` of this execution: in their
    `states` (default: the terminal ones), never on the execution's own flow."""
    own = (execution.namespace, execution.flow_id)
    return [listener for listener in store.listeners(execution.tenant)
            if state.value in (listener.definition.get("states") or DEFAULT_STATES)
            and (listener.namespace, listener.flow_id) != own]


# -- evaluating events ---------------------------------------------------------------------------

def process_event(runtime: Runtime, event: store.TriggerEvent, now: datetime | None = None,
                  upstream: Execution | None = None) -> list[Execution]:
    """Evaluate one event; enqueue what it created. The listeners' conditions are judged
    first, outside any transaction (reads and expressions only: on SQLite no write lock is
    held meanwhile); the event is then claimed and the windows and fires written in one
    transaction. `upstream`: the execution as it was saved with the event, if the caller
    holds it (else it is read). Returns the executions created (none when another process
    had claimed the event)."""
    from kestra_lite import jobs
    now = now or utcnow()
    judged, verdicts = _judge_event(runtime, event, upstream)
    with db.write_transaction():
        if not store.claim_event(event.id):
            return []
        created = _apply(runtime, judged, verdicts, event.created, now)
    for execution in created:
        jobs.enqueue_advance(runtime, execution.tenant, execution.id)
    return created


def sweep(runtime: Runtime, now: datetime, limit: int = 100) -> int:
    """Evaluate the events whose process died before evaluating them (scheduler tick). An
    event that cannot be evaluated (a bug, not the database) is logged and dropped, so it
    does not block the ones behind it."""
    events = store.stale_events(now - STALE_AFTER, limit)
    for event in events:
        try:
            process_event(runtime, event, now)
        except Exception as error:   # noqa: BLE001
            if db.is_database_error(error):
                raise
            log.exception("trigger event %s of execution %s dropped", event.id,
                          event.execution_id)
            with db.write_transaction():
                store.claim_event(event.id)
    return len(events)


class _Upstream:
    """The upstream execution as conditions see it; variables built once, on first need."""

    def __init__(self, runtime: Runtime, execution: Execution, state: State):
        self.runtime, self.execution, self.state = runtime, execution, state
        self._variables: dict | None = None
        self._flow = None

    @property
    def flow(self):
        if self._flow is None:
            ex = self.execution
            self._flow = self.runtime.load_flow(ex.tenant, ex.namespace, ex.flow_id,
                                                ex.flow_revision)
        return self._flow

    def trigger_variables(self) -> dict:
        ex = self.execution
        return {"executionId": ex.id, "namespace": ex.namespace, "flowId": ex.flow_id,
                "flowRevision": ex.flow_revision, "state": self.state.value,
                "outputs": ex.outputs or {}}

    @property
    def variables(self) -> dict:
        if self._variables is None:
            ex = self.execution
            if self.flow is None:
                variables = {"flow": {"id": ex.flow_id, "namespace": ex.namespace},
                             "execution": {"id": ex.id}, "outputs": {},
                             "labels": {l["key"]: l["value"] for l in ex.labels}}
            else:
                variables = execution_variables(self.flow, ex, OutputsIndex(ex),
                                                self.runtime.envs, self.runtime.globals)
            variables["trigger"] = self.trigger_variables()
            self._variables = variables
        return self._variables

    @property
    def hooks(self) -> RuntimeHooks | None:
        """What expressions may call (kv(), read()...) as the upstream's flow."""
        return RuntimeHooks(self.runtime, self.flow, self.execution) if self.flow else None

    def render(self, template):
        return render(template, self.variables, self.hooks)

    def context(self) -> ConditionContext:
        return ConditionContext(variables=self.variables, render=self.render,
                                execution=self.execution, state=self.state)


@dataclass
class _Verdict:
    """What one listener makes of one event: each windowed condition set with this event's
    results, or the listener's own error. Only listeners whose legacy conditions match (or
    that failed) have one."""
    listener: Listener
    sets: list[tuple[preconditions.Preconditions, dict[str, bool]]] = field(default_factory=list)
    error: Exception | None = None


def _judge_event(runtime: Runtime, event: store.TriggerEvent,
                 execution: Execution | None) -> tuple[_Upstream | None, list[_Verdict]]:
    """The upstream and the verdicts of the listeners that care about this state. No
    upstream (the execution was deleted): the event is claimed and nothing else happens."""
    state = State(event.state)
    execution = execution or execution_store.find_execution(event.tenant, event.execution_id)
    if execution is None:
        return None, []
    upstream = _Upstream(runtime, execution, state)
    verdicts = [_judge(listener, upstream) for listener in _listeners_of(execution, state)]
    return upstream, [verdict for verdict in verdicts if verdict is not None]


def _judge(listener: Listener, upstream: _Upstream) -> _Verdict | None:
    """None when the event cannot move the listener: its legacy conditions do not match,
    or it matches no part of its windowed sets (nothing to add to a window, so nothing to
    fire). A listener that fails gets a verdict with the error and no results: nothing of
    this event reaches its windows."""
    try:
        context = upstream.context()
        if not all_conditions_match(listener.definition.get("conditions") or [], context):
            return None
        sets = [(pre, preconditions.evaluate_parts(pre, context))
                for pre in preconditions.from_trigger(listener.definition)]
        if sets and not any(any(results.values()) for _, results in sets):
            return None
        return _Verdict(listener, sets)
    except Exception as error:   # noqa: BLE001
        return _Verdict(listener, error=_listener_error(error))


def _listener_error(error: Exception) -> Exception:
    """`error` as the listener's own (a bad expression, a condition that cannot be
    evaluated), to be kept on the trigger while the other listeners go on. A database error
    is raised again instead (the event stays for the sweep)."""
    if db.is_database_error(error):
        raise error
    return error


def _apply(runtime: Runtime, upstream: _Upstream | None, verdicts: list[_Verdict],
           happened: datetime, now: datetime) -> list[Execution]:
    """In the transaction that claims the event: release the trigger that created the
    upstream (if it just ended), then each verdict's writes. Windows are placed at the
    event's own time (an event swept late still counts in the window it happened in)."""
    if upstream is None:
        return []
    if upstream.state.is_terminated:
        trigger_service.release(upstream.execution, upstream.state, now)
    created = []
    for verdict in verdicts:
        execution = _conclude(runtime, verdict, upstream, happened, now)
        if execution is not None:
            created.append(execution)
    return created


def _conclude(runtime: Runtime, verdict: _Verdict, upstream: _Upstream, happened: datetime,
              now: datetime) -> Execution | None:
    """The execution this verdict creates, if any; an error is kept on the trigger. The
    listener's row is read again and locked first (one evaluation of its windows at a time
    on PostgreSQL): a listener deleted or switched off since it was judged does nothing,
    one edited meanwhile is judged again on its new definition."""
    row = store.get_trigger(verdict.listener.tenant, *verdict.listener.key, for_update=True)
    if row is None or not row.enabled:
        return None
    if row.definition != verdict.listener.definition:
        verdict = _judge(Listener(row.tenant, *row.key, row.definition), upstream)
        if verdict is None:
            return None
    error = verdict.error
    if error is None:
        try:
            return _fire_when_met(runtime, verdict, row, upstream, happened, now)
        except Exception as failure:   # noqa: BLE001
            error = _listener_error(failure)
    _record_error(row, upstream.execution, error, now)
    return None


def _fire_when_met(runtime: Runtime, verdict: _Verdict, row: Trigger, upstream: _Upstream,
                   happened: datetime, now: datetime) -> Execution | None:
    windows = _accumulate(verdict, row, happened)
    if windows is None:
        return None
    execution = _fire(runtime, row, upstream, now)
    for pre, window in windows:
        if pre.reset_on_success:
            store.delete_window(window)
    return execution


def _accumulate(verdict: _Verdict, row: Trigger, happened: datetime) -> list[tuple] | None:
    """Add this event's results to each windowed condition set it matches part of. The sets
    and their windows when all are satisfied and this event counted in one of them (so with
    `resetOnSuccess: false` an unrelated event does not fire again), else None."""
    satisfied, counted = [], False
    for pre, results in verdict.sets:
        if any(results.values()):
            window = _window(row, pre, happened)
            if window is not None:          # None: outside a daily window, not evaluated
                window.results = preconditions.accumulate(window.results, results)
                store.put_window_results(window)
                counted = True
        else:
            window = store.current_window(row.tenant, row.namespace, row.flow_id, pre.id,
                                          happened)
        if window is not None and preconditions.is_satisfied(pre, window.results):
            satisfied.append((pre, window))
    if not verdict.sets:
        return []
    return satisfied if counted and len(satisfied) == len(verdict.sets) else None


def _window(row: Trigger, pre, happened: datetime) -> store.TriggerWindow | None:
    """The stored window of `pre` containing the event's date, created and locked."""
    current = store.current_window(row.tenant, row.namespace, row.flow_id, pre.id, happened)
    first_event = current.window_start if current is not None else None
    bounds = preconditions.window_at(pre, happened, first_event)
    if bounds is None:
        return None
    return store.lock_window(row.tenant, row.namespace, row.flow_id, pre.id,
                             window_start=bounds.start, window_end=bounds.end)


def _fire(runtime: Runtime, row: Trigger, upstream: _Upstream,
          now: datetime) -> Execution | None:
    """Create the listener's execution (its flow may have been disabled meanwhile). Its
    inputs and labels are rendered here, inside the transaction: only for a firing one."""
    flow = runtime.load_flow(row.tenant, row.namespace, row.flow_id)
    if flow is None or flow.disabled:
        return None
    definition, variables, hooks = row.definition, upstream.variables, upstream.hooks
    inputs = render_value(definition.get("inputs") or {}, variables, hooks)
    labels = label_list(render_value(definition.get("labels"), variables, hooks))
    correlation = upstream.execution.label(CORRELATION_ID)
    if correlation:
        labels.append({"key": CORRELATION_ID, "value": correlation})
    execution = build_execution(
        runtime, flow, inputs=inputs, labels=labels, now=now, parsed=False,
        trigger={"id": row.trigger_id, "type": FLOW,
                 "variables": upstream.trigger_variables()})   # its own copy
    trigger_service.insert_created(execution, now)
    _keep(row, now, lastFired={"date": iso(now), "executionId": execution.id,
                               "upstreamExecutionId": upstream.execution.id})
    return execution


def _record_error(row: Trigger, upstream: Execution, error: Exception,
                  now: datetime) -> None:
    """Log the listener's error on the trigger and keep it for the panel (an unexpected one,
    a bug rather than the user's expression, also goes to the process log)."""
    if not isinstance(error, (ConditionError, ExpressionError, InvalidInput)):
        log.error("flow trigger %s failed", ".".join(row.key), exc_info=error)
    message = str(error) or type(error).__name__
    text = f"Flow trigger '{row.trigger_id}' failed on execution {upstream.id}: {message}"
    trigger_service.log_trigger(row, "WARN", text, now)
    _keep(row, now, lastError={"date": iso(now), "message": text})


def _keep(row: Trigger, now: datetime, **data) -> None:
    """Store what the panel shows (last fire, last error) in the listener's row (locked by
    this transaction: the compare-and-set cannot miss)."""
    trigger_service.change(row, now, lambda trigger: trigger.data.update(data))
