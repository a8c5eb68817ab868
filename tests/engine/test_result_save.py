"""A worker saving a task's result when the database fails after the commit, while the
effects of the change run (enqueue the parent of a subflow, free a concurrency slot...).

The failure is injected: a real outage cannot be timed to land between the commit of the
result and the follow-up that reads the database (tests/faults covers real outages). The
follow-up fails once with SQLite's transient "database is locked", on both databases."""
from __future__ import annotations

import textwrap

import peewee

from kestra_lite.model.state import State
from kestra_lite.services import executions as service
from kestra_lite.services import flows as flow_service
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store

TENANT = "main"


def test_a_follow_up_failing_after_the_commit_is_retried_alone(runtime, monkeypatch):
    flow_service.deploy(runtime, TENANT, textwrap.dedent("""
        id: child
        namespace: company.team
        tasks:
          - id: first
            type: io.kestra.plugin.core.log.Log
            message: child first
          - id: last
            type: io.kestra.plugin.core.log.Log
            message: child last
    """))
    parent = flow_service.deploy(runtime, TENANT, textwrap.dedent("""
        id: parent
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: child
            wait: true
    """))
    real_follow_up = service._on_terminated
    failures = []

    def failing_once(runtime_, execution):
        if execution.flow_id == "child" and not failures:
            failures.append(execution.id)
            raise peewee.OperationalError("database is locked")
        return real_follow_up(runtime_, execution)

    monkeypatch.setattr(service, "_on_terminated", failing_once)
    execution = service.create_execution(runtime, parent)
    run_until_settled(runtime, TENANT, execution.id, max_seconds=30)

    assert failures, "the follow-up of the child's end was not reached"
    assert store.load_execution(TENANT, execution.id).current is State.SUCCESS
    child_logs = [log["message"] for log in log_store.execution_logs(TENANT, failures[0])]
    assert child_logs.count("child last") == 1
    assert child_logs.count("child first") == 1
