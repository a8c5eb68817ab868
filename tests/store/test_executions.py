from datetime import datetime, timedelta, timezone

import pytest

from kestra_lite.errors import NotFound
from kestra_lite.model.execution import Attempt, Execution, TaskRun, new_id
from kestra_lite.model.state import State, StateInfo
from kestra_lite.store import executions as store
from kestra_lite.store.executions import TaskRunRow

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def make_execution(namespace="company.team", flow_id="hello", state=State.CREATED,
                   start=NOW, trigger=None) -> Execution:
    return Execution(id=new_id(), namespace=namespace, flow_id=flow_id, flow_revision=1,
                     state=StateInfo.new(state, start), trigger=trigger,
                     labels=[{"key": "system.correlationId", "value": "x"}],
                     inputs={"name": "world"})


def without_durations(value):
    """REST dicts minus `duration`, which a running state computes from the clock."""
    if isinstance(value, dict):
        return {k: without_durations(v) for k, v in value.items() if k != "duration"}
    if isinstance(value, list):
        return [without_durations(v) for v in value]
    return value


def add_task_run(execution: Execution, task_id: str) -> TaskRun:
    task_run = TaskRun(id=new_id(), execution_id=execution.id, namespace=execution.namespace,
                       flow_id=execution.flow_id, task_id=task_id,
                       state=StateInfo.new(State.CREATED, NOW))
    execution.task_runs.append(task_run)
    return task_run


def test_an_inserted_execution_loads_back_equal_with_version_one(db):
    execution = make_execution()
    first = add_task_run(execution, "first")
    first.meta["retry_at"] = "2024-05-01T12:00:05Z"
    add_task_run(execution, "second")
    store.insert_execution("main", execution)
    assert execution.version == 1

    loaded = store.load_execution("main", execution.id)
    assert loaded.version == 1
    assert without_durations(loaded.to_dict()) == without_durations(execution.to_dict())
    assert [t.task_id for t in loaded.task_runs] == ["first", "second"]
    assert loaded.task_runs[0].meta == {"retry_at": "2024-05-01T12:00:05Z"}


def test_loading_a_missing_execution_raises_not_found(db):
    with pytest.raises(NotFound):
        store.load_execution("main", "nope")
    assert store.find_execution("main", "nope") is None


def test_executions_are_invisible_from_another_tenant(db):
    execution = make_execution()
    store.insert_execution("main", execution)
    with pytest.raises(NotFound):
        store.load_execution("other", execution.id)
    assert store.search_executions("other") == []


def test_a_save_with_a_stale_version_returns_false_and_writes_nothing(db):
    execution = make_execution()
    add_task_run(execution, "first")
    store.insert_execution("main", execution)
    mine = store.load_execution("main", execution.id)
    theirs = store.load_execution("main", execution.id)

    theirs.state.set(State.RUNNING, NOW + timedelta(seconds=1))
    assert store.save_execution("main", theirs, wake_at=None) is True
    assert theirs.version == 2

    mine.state.set(State.FAILED, NOW + timedelta(seconds=2))
    mine.task_runs[0].state.set(State.FAILED, NOW + timedelta(seconds=2))
    add_task_run(mine, "second")
    assert store.save_execution("main", mine, wake_at=NOW) is False
    assert mine.version == 1

    stored = store.load_execution("main", execution.id)
    assert stored.version == 2
    assert stored.current is State.RUNNING
    assert [t.task_id for t in stored.task_runs] == ["first"]
    assert stored.task_runs[0].current is State.CREATED
    assert store.due_executions(NOW + timedelta(days=1)) == []


def test_a_save_rewrites_only_the_task_runs_that_changed(db):
    execution = make_execution()
    first = add_task_run(execution, "first")
    first.state.set(State.RUNNING, NOW)   # running: its duration moves with the clock
    first.attempts.append(Attempt(StateInfo.new(State.RUNNING, NOW)))
    second = add_task_run(execution, "second")
    store.insert_execution("main", execution)
    # Mark the stored rows: a row the save rewrites loses its mark.
    TaskRunRow.update(task_id="untouched-marker").where(TaskRunRow.id == first.id).execute()
    TaskRunRow.update(task_id="changed-marker").where(TaskRunRow.id == second.id).execute()

    loaded = store.load_execution("main", execution.id)
    loaded.task_run(second.id).state.set(State.RUNNING, NOW)
    third = add_task_run(loaded, "third")
    assert store.save_execution("main", loaded, wake_at=None)

    rows = {row.id: row for row in TaskRunRow.select()}
    assert rows[first.id].task_id == "untouched-marker"
    assert rows[second.id].task_id == "second"
    assert rows[second.id].state == "RUNNING"
    assert rows[third.id].position == 2


def test_a_task_run_removed_from_the_list_is_deleted(db):
    execution = make_execution()
    add_task_run(execution, "first")
    add_task_run(execution, "second")
    store.insert_execution("main", execution)
    loaded = store.load_execution("main", execution.id)
    del loaded.task_runs[0]
    assert store.save_execution("main", loaded, wake_at=None)
    assert [t.task_id for t in store.load_execution("main", execution.id).task_runs] == [
        "second"]


def test_successive_saves_of_the_same_object_keep_working(db):
    execution = make_execution()
    store.insert_execution("main", execution)
    for step in range(3):
        add_task_run(execution, f"task{step}")
        execution.meta["step"] = step
        assert store.save_execution("main", execution, wake_at=None)
    loaded = store.load_execution("main", execution.id)
    assert loaded.version == 4
    assert loaded.meta == {"step": 2}
    assert [t.task_id for t in loaded.task_runs] == ["task0", "task1", "task2"]


def test_an_execution_loaded_without_task_runs_cannot_be_saved(db):
    execution = make_execution()
    add_task_run(execution, "first")
    store.insert_execution("main", execution)
    [partial] = store.search_executions("main", with_task_runs=False)
    assert partial.task_runs == []
    with pytest.raises(ValueError):
        store.save_execution("main", partial, wake_at=None)


def test_due_executions_are_those_whose_wake_at_has_come(db):
    early, late, never = make_execution(), make_execution(), make_execution()
    store.insert_execution("main", early, wake_at=NOW)
    store.insert_execution("other", late)
    late_loaded = store.load_execution("other", late.id)
    assert store.save_execution("other", late_loaded, wake_at=NOW + timedelta(minutes=5))
    store.insert_execution("main", never)
    assert store.due_executions(NOW) == [("main", early.id)]
    assert store.due_executions(NOW + timedelta(minutes=5)) == [("main", early.id),
                                                                ("other", late.id)]
    assert store.due_executions(NOW + timedelta(minutes=5), limit=1) == [("main", early.id)]


def test_search_count_and_oldest_filter_by_flow_and_state(db):
    a = make_execution(state=State.QUEUED, start=NOW + timedelta(seconds=2))
    b = make_execution(state=State.QUEUED, start=NOW + timedelta(seconds=1))
    c = make_execution(state=State.RUNNING, start=NOW + timedelta(seconds=3))
    d = make_execution(flow_id="other", state=State.RUNNING)
    for execution in (a, b, c, d):
        store.insert_execution("main", execution)

    found = store.search_executions("main", "company.team", "hello")
    assert [e.id for e in found] == [c.id, a.id, b.id]
    assert [e.id for e in store.search_executions("main", states=[State.RUNNING])] == [
        c.id, d.id]
    assert store.count_executions("main", "company.team", "hello",
                                  [State.RUNNING, State.QUEUED]) == 3
    assert store.count_executions("main", "company.team", "hello", ["RUNNING"]) == 1
    assert store.oldest_execution("main", "company.team", "hello", State.QUEUED).id == b.id
    assert store.oldest_execution("main", "company.team", "hello", State.PAUSED) is None


def test_children_are_found_through_the_trigger_execution_id(db):
    parent = make_execution()
    store.insert_execution("main", parent)
    child = make_execution(flow_id="child", trigger={
        "id": "subflow", "type": "io.kestra.plugin.core.flow.Subflow",
        "variables": {"executionId": parent.id, "namespace": "company.team",
                      "flowId": "hello", "flowRevision": 1}})
    store.insert_execution("main", child)
    store.insert_execution("main", make_execution())
    assert [e.id for e in store.children_of("main", parent.id)] == [child.id]
    assert store.children_of("main", child.id) == []


def test_deleting_an_execution_removes_its_task_runs(db):
    execution = make_execution()
    add_task_run(execution, "first")
    store.insert_execution("main", execution)
    assert store.delete_execution("main", execution.id) is True
    assert store.delete_execution("main", execution.id) is False
    assert TaskRunRow.select().count() == 0
