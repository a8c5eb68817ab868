from datetime import datetime, timedelta, timezone

import pytest

from kestra_lite.store import logs

NOW = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def record(message, level="INFO", task_run_id="tr1", execution_id="ex1", seconds=0):
    return {"executionId": execution_id, "namespace": "ns", "flowId": "flow",
            "taskId": "task", "taskRunId": task_run_id, "attemptNumber": 1,
            "triggerId": None, "level": level, "message": message,
            "timestamp": NOW + timedelta(seconds=seconds)}


def test_logs_come_back_in_insertion_order_in_kestras_shape(db):
    logs.append_logs("main", [record("second", seconds=1), record("first")])
    logs.append_logs("main", [record("third", seconds=-5)])
    logs.append_logs("main", [record("elsewhere", execution_id="ex2")])
    found = logs.execution_logs("main", "ex1")
    assert [entry["message"] for entry in found] == ["second", "first", "third"]
    assert found[1] == {"namespace": "ns", "flowId": "flow", "taskId": "task",
                        "executionId": "ex1", "taskRunId": "tr1", "attemptNumber": 1,
                        "triggerId": None, "timestamp": "2024-05-01T12:00:00.123456Z",
                        "level": "INFO", "thread": None, "message": "first"}


def test_min_level_keeps_that_level_and_above(db):
    logs.append_logs("main", [record(level, level=level)
                              for level in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")])
    assert [e["level"] for e in logs.execution_logs("main", "ex1", min_level="WARN")] == [
        "WARN", "ERROR"]
    assert len(logs.execution_logs("main", "ex1", min_level="TRACE")) == 5
    with pytest.raises(ValueError):
        logs.execution_logs("main", "ex1", min_level="LOUD")


def test_logs_filter_by_task_run_and_tenant(db):
    logs.append_logs("main", [record("a", task_run_id="tr1"), record("b", task_run_id="tr2")])
    logs.append_logs("other", [record("c")])
    assert [e["message"] for e in logs.execution_logs("main", "ex1", task_run_id="tr2")] == [
        "b"]
    assert [e["message"] for e in logs.execution_logs("other", "ex1")] == ["c"]
    assert logs.delete_logs("main", "ex1") == 2
    assert logs.execution_logs("main", "ex1") == []


def test_appending_nothing_is_a_no_op(db):
    logs.append_logs("main", [])
    assert logs.execution_logs("main", "ex1") == []


def test_many_lines_at_once_are_stored_in_batches():
    """A script can print tens of thousands of lines between two flushes: SQLite caps the
    variables of one statement, so the insert is split."""
    logs.append_logs("main", [record(f"line {i}") for i in range(3000)])
    stored = logs.execution_logs("main", "ex1")
    assert len(stored) == 3000 and stored[-1]["message"] == "line 2999"
