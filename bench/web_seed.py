"""Seed a database for the web benchmark with direct bulk INSERTs (bench/web.py uses it).

    seed(database_url, executions=100_000) -> Seeded

100,000 executions over 30 days: 50 namespaces (one of them `system`), 500 flows, every
state (mostly SUCCESS), labels env/team plus system.correlationId, one in ten started by
another execution (trigger.variables.executionId); plus one big execution with 1,000 task
runs and 100,000 log lines. Rows are written as the store writes them (the store's own
column builder), so the pages read them exactly as they read the engine's.
"""
from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kestra_lite.model.execution import Attempt, Execution, TaskRun  # noqa: E402
from kestra_lite.model.state import State, StateInfo  # noqa: E402
from kestra_lite.store import db as store_db  # noqa: E402
from kestra_lite.store import executions as store  # noqa: E402
from kestra_lite.store import flows as flow_store  # noqa: E402
from kestra_lite.store import logs as log_store  # noqa: E402

TENANT = "main"
STATE_WEIGHTS = [
    (State.SUCCESS, 70), (State.FAILED, 8), (State.WARNING, 5), (State.KILLED, 2),
    (State.RUNNING, 3), (State.CREATED, 2), (State.QUEUED, 2), (State.PAUSED, 2),
    (State.CANCELLED, 2), (State.RETRYING, 1), (State.SKIPPED, 1), (State.RESTARTED, 1),
    (State.KILLING, 1),
]
ENVS = ("prod", "staging", "dev")
TEAMS = tuple(f"team{i}" for i in range(10))
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Seeded:
    namespaces: list[str]
    flows: list[tuple[str, str]]
    big_execution: tuple[str, str, str]      # namespace, flow id, execution id
    now: datetime
    seconds: float


def namespaces() -> list[str]:
    names = ["system"]
    for company in ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne"):
        for team in ("data", "ops", "web", "ml", "finance", "sales", "hr"):
            names.append(f"{company}.{team}")
    return names[:50]


def flow_source(namespace: str, flow_id: str) -> str:
    return (f"id: {flow_id}\nnamespace: {namespace}\nlabels:\n  env: prod\ntasks:\n"
            f"  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n")


def _insert(model, rows: list[dict]) -> None:
    """Rows as the model would write them (each field's db_value), in one executemany: the
    bulk INSERT without peewee's per-value SQL building."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.fields[name] for name in names]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    values = [tuple(field.db_value(row[name]) for field, name in zip(fields, names))
              for row in rows]
    table = model._meta.table_name
    cursor = store_db.database.cursor()
    if store_db.is_sqlite():
        marks = ", ".join("?" * len(names))
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)
    else:
        from psycopg2.extras import execute_values
        execute_values(cursor, f'INSERT INTO "{table}" ({columns}) VALUES %s', values,
                       page_size=1000)


def _id(rng: random.Random) -> str:
    return "".join(rng.choices(ALPHABET, k=22))


def _execution(rng: random.Random, namespace: str, flow_id: str, start: datetime,
               state: State, parent: str | None) -> Execution:
    execution_id = _id(rng)
    info = StateInfo.new(State.CREATED, start)
    if state is not State.CREATED:
        info.set(State.RUNNING, start + timedelta(milliseconds=rng.randint(5, 200)))
        if state is not State.RUNNING:
            info.set(state, start + timedelta(seconds=rng.uniform(0.5, 300)))
    labels = [{"key": "env", "value": rng.choice(ENVS)},
              {"key": "team", "value": rng.choice(TEAMS)},
              {"key": "system.correlationId", "value": parent or execution_id}]
    trigger = ({"id": "subflow", "type": "io.kestra.plugin.core.flow.Subflow",
                "variables": {"executionId": parent, "namespace": namespace,
                              "flowId": flow_id, "flowRevision": 1}}
               if parent else None)
    return Execution(id=execution_id, namespace=namespace, flow_id=flow_id, flow_revision=1,
                     state=info, tenant=TENANT, labels=labels, trigger=trigger,
                     inputs={"name": "world", "count": rng.randint(1, 100)})


def _row(execution: Execution) -> tuple[dict, list[dict]]:
    columns, task_runs = store._execution_columns(execution, None)
    row = {"tenant": TENANT, "id": execution.id, "version": 1, **columns}
    text = store.label_text(execution.labels)
    labels = [{"tenant": TENANT, "execution_id": execution.id, "key": label["key"],
               "value": label["value"], "start_date": execution.state.start_date,
               "label_text": text}
              for label in execution.labels]
    return row, labels


def seed(database_url: str, executions: int = 100_000, *, log_lines: int = 100_000,
         task_runs: int = 1_000, seed_value: int = 7, progress=None) -> Seeded:
    """Fill an empty, migrated database (see module doc)."""
    began = time.monotonic()
    rng = random.Random(seed_value)
    store_db.connect(database_url)
    store_db.migrate()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    names = namespaces()
    flows = [(namespace, f"flow_{i:02d}") for namespace in names for i in range(10)]
    with store_db.database.atomic():
        for namespace, flow_id in flows:
            flow_store.FlowRow.create(tenant=TENANT, namespace=namespace, flow_id=flow_id,
                                      revision=1, source=flow_source(namespace, flow_id),
                                      labels={"env": "prod"}, created=now)
    states = [state for state, _ in STATE_WEIGHTS]
    weights = [weight for _, weight in STATE_WEIGHTS]
    span = 30 * 86400
    recent: list[str] = []
    rows: list[dict] = []
    labels: list[dict] = []
    for index in range(executions):
        namespace, flow_id = flows[int(rng.paretovariate(1.2) * 7) % len(flows)]
        start = now - timedelta(seconds=rng.uniform(0, span))
        parent = rng.choice(recent) if recent and rng.random() < 0.1 else None
        execution = _execution(rng, namespace, flow_id, start, rng.choices(states, weights)[0],
                               parent)
        recent.append(execution.id)
        if len(recent) > 200:
            recent.pop(0)
        row, label_rows = _row(execution)
        rows.append(row)
        labels.extend(label_rows)
        if len(rows) >= 5000 or index == executions - 1:
            with store_db.database.atomic():
                _insert(store.ExecutionRow, rows)
                _insert(store.ExecutionLabelRow, labels)
            rows, labels = [], []
            if progress:
                progress(index + 1)
    with store_db.database.atomic():
        store.backfill_flows()
    big = _big_execution(rng, now, task_runs, log_lines)
    if not store_db.is_sqlite():     # what autovacuum does after a bulk load
        store_db.database.execute_sql("VACUUM ANALYZE")
    store_db.close()
    return Seeded(namespaces=names, flows=flows, big_execution=big, now=now,
                  seconds=time.monotonic() - began)


def _big_execution(rng: random.Random, now: datetime, count: int,
                   log_lines: int) -> tuple[str, str, str]:
    """An execution of 1,000 task runs (a ForEach-like list of Log tasks) with 100,000
    log lines, ended SUCCESS an hour ago."""
    namespace, flow_id = "acme.data", "big"
    start = now - timedelta(hours=1)
    tasks = "".join(f"  - id: t{i}\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                    for i in range(count))
    flow_store.FlowRow.create(tenant=TENANT, namespace=namespace, flow_id=flow_id, revision=1,
                              source=f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n{tasks}",
                              labels=None, created=now)
    execution = _execution(rng, namespace, flow_id, start, State.SUCCESS, None)
    execution.state = StateInfo.new(State.CREATED, start)
    execution.state.set(State.RUNNING, start + timedelta(milliseconds=20))
    for i in range(count):
        begin = start + timedelta(seconds=i * 2)
        info = StateInfo.new(State.CREATED, begin)
        info.set(State.RUNNING, begin + timedelta(milliseconds=5))
        info.set(State.SUCCESS, begin + timedelta(seconds=1))
        attempt = StateInfo.new(State.RUNNING, begin + timedelta(milliseconds=5))
        attempt.set(State.SUCCESS, begin + timedelta(seconds=1))
        execution.task_runs.append(TaskRun(
            id=_id(rng), execution_id=execution.id, namespace=namespace, flow_id=flow_id,
            task_id=f"t{i}", state=info, attempts=[Attempt(attempt)],
            outputs={"value": i}))
    execution.state.set(State.SUCCESS, start + timedelta(seconds=count * 2 + 1))
    store.insert_execution(TENANT, execution)
    per_task = max(1, log_lines // count)
    levels = ["INFO"] * 8 + ["DEBUG", "WARN"]
    records = []
    origin = log_store._micros(start)
    for i in range(log_lines):
        task_run = execution.task_runs[min(i // per_task, count - 1)]
        level = rng.choice(levels)
        records.append({"tenant": TENANT, "execution_id": execution.id,
                        "namespace": namespace, "flow_id": flow_id,
                        "task_id": task_run.task_id, "task_run_id": task_run.id,
                        "attempt_number": 1, "trigger_id": None, "level": level,
                        "level_rank": log_store.level_rank(level),
                        "message": f"line {i} of {task_run.task_id}: processed "
                                   f"{rng.randint(1, 10**6)} rows",
                        "timestamp": origin + i * 20_000, "thread": None})
        if len(records) >= 10_000:
            with store_db.database.atomic():
                _insert(log_store.LogRow, records)
            records = []
    if records:
        with store_db.database.atomic():
            _insert(log_store.LogRow, records)
    return namespace, flow_id, execution.id
