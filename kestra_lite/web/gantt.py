"""The execution detail's task-run tree and Gantt chart, computed once per request.

`task_run_rows(execution, now)` orders the task runs depth first (children right under
their parent flowable, in creation order) and gives each its depth, its bar (start offset
and width as percentages of the execution's duration) and its attempts; the templates only
lay them out. Pure functions of the execution: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..model.durations import format_minutes_and_more
from ..model.execution import Execution, TaskRun
from ..model.state import State, StateInfo

MIN_BAR = 0.4    # percent: an instant task run still shows a sliver


@dataclass
class AttemptRow:
    number: int
    state: State
    duration: timedelta


@dataclass
class TaskRunRow:
    task_run: TaskRun
    depth: int
    left: float          # percent of the execution's duration
    width: float         # percent
    duration: timedelta
    attempts: list[AttemptRow]
    has_children: bool

    @property
    def state(self) -> State:
        return self.task_run.current


def format_duration(delta: timedelta | None) -> str:
    """1.234s, 12.3s, 4m 05s, 2h 03m: short and readable."""
    if delta is None:
        return ""
    seconds = max(delta.total_seconds(), 0.0)
    if seconds < 10:
        return f"{seconds:.3f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    return format_minutes_and_more(seconds)


def _end(state: StateInfo, now: datetime) -> datetime:
    """Where a bar stops: the end date, else the last change of a waiting state, else now."""
    if state.end_date is not None:
        return state.end_date
    return now if state.current in (State.RUNNING, State.KILLING) else max(
        state.histories[-1].date, state.start_date)


def ordered(execution: Execution) -> list[tuple[TaskRun, int, bool]]:
    """(task run, depth, has children) depth first, siblings in creation order."""
    children: dict[str | None, list[TaskRun]] = {}
    known = {t.id for t in execution.task_runs}
    for task_run in execution.task_runs:
        parent = task_run.parent_task_run_id if task_run.parent_task_run_id in known else None
        children.setdefault(parent, []).append(task_run)
    result: list[tuple[TaskRun, int, bool]] = []
    stack = [(t, 0) for t in reversed(children.get(None, []))]
    while stack:
        task_run, depth = stack.pop()
        kids = children.get(task_run.id, [])
        result.append((task_run, depth, bool(kids)))
        stack.extend((kid, depth + 1) for kid in reversed(kids))
    return result


def task_run_rows(execution: Execution, now: datetime,
                  window: slice | None = None) -> list[TaskRunRow]:
    """The rows of the tree/Gantt (only those of `window` when given: paging)."""
    start = execution.state.start_date
    total = (_end(execution.state, now) - start).total_seconds()
    rows = []
    items = ordered(execution)
    for task_run, depth, has_children in items[window] if window else items:
        end = _end(task_run.state, now)
        begin = task_run.state.start_date
        if total > 0:
            left = min(max((begin - start).total_seconds() / total * 100, 0.0), 100.0)
            width = max((end - begin).total_seconds() / total * 100, MIN_BAR)
            width = min(width, 100.0 - left) if left < 100.0 - MIN_BAR else MIN_BAR
        else:
            left, width = 0.0, 100.0
        attempts = [AttemptRow(number, attempt.state.current,
                               _end(attempt.state, now) - attempt.state.start_date)
                    for number, attempt in enumerate(task_run.attempts, start=1)]
        rows.append(TaskRunRow(task_run, depth, round(left, 3), round(max(width, MIN_BAR), 3),
                               end - begin, attempts, has_children))
    return rows
