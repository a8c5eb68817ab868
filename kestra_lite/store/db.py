"""The database: one module-level proxy, connected from DATABASE_URL, and the migrations.

`connect(url)` binds `database` (a peewee DatabaseProxy every table uses) to SQLite or
PostgreSQL. Connections are per thread (peewee's default) and opened lazily. After a fork,
the child drops the connection it inherited without closing it (closing would end the
parent's session), so forking workers are safe.

Migrations: `migrate()` keeps a `schema_version` table. A fresh database gets the current
tables at once and is stamped with the latest version; an existing one gets every pending
migration, in order, through playhouse.migrate, in one locked transaction (so web, worker
and scheduler may all call it at boot).
"""
from __future__ import annotations

import json
import logging
from contextlib import nullcontext
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, SqliteMigrator

database = peewee.DatabaseProxy()
log = logging.getLogger(__name__)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
}


def connect(database_url: str) -> peewee.Database:
    """Bind `database` to the database named by `database_url` and return it."""
    if database.obj is not None:
        close()
    db = _database_from_url(database_url)
    database.initialize(db)
    return db


def close() -> None:
    """Close this thread's connection (the proxy stays bound)."""
    if database.obj is not None and not database.is_closed():
        database.close()


def is_sqlite() -> bool:
    return isinstance(database.obj, peewee.SqliteDatabase)


def write_transaction():
    """A transaction that takes the write lock at once on SQLite (BEGIN IMMEDIATE), so a
    read-then-write never fails with SQLITE_BUSY half-way; a plain transaction elsewhere.
    Inside an open transaction it simply joins it (no savepoint: a failure rolls back the
    whole unit, and two round trips per nested write are saved)."""
    if database.in_transaction():
        return nullcontext()
    if is_sqlite():
        return database.atomic("IMMEDIATE")
    return database.atomic()


def _database_from_url(url: str) -> peewee.Database:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=5,
                                     check_same_thread=False)
    if scheme in ("postgresql", "postgres"):
        params: dict[str, Any] = dict(parse_qsl(parts.query))
        if parts.username:
            params["user"] = unquote(parts.username)
        if parts.password:
            params["password"] = unquote(parts.password)
        if parts.hostname:
            params["host"] = parts.hostname
        if parts.port:
            params["port"] = parts.port
        return peewee.PostgresqlDatabase(unquote(parts.path.lstrip("/")), **params)
    raise ValueError(f"unsupported DATABASE_URL scheme: {scheme!r}")


# -- outages -----------------------------------------------------------------------------
OUTAGE_SECONDS = 60.0        # how long `retrying` keeps trying before it gives up
_TRANSIENT_SQLITE = ("locked", "busy", "unable to open", "disk i/o")


def retrying(operation: Callable[[], Any], *, within: float = OUTAGE_SECONDS,
             what: str = "database operation") -> Any:
    """Run `operation`, retrying with backoff while the database is unreachable (a
    PostgreSQL restart, a network cut, a SQLite file locked by another process) for up to
    `within` seconds. Use it around a whole unit of work: each retry starts on a fresh
    connection. A nested call shares the outermost call's deadline (the outer one would
    otherwise run a unit again after the inner one gave up, past `within`). Inside an open
    transaction it runs `operation` once (the transaction is lost with the connection: the
    caller that opened it must retry)."""
    if database.in_transaction():
        return operation()
    outer = getattr(_retrying, "deadline", None)
    deadline = time.monotonic() + within
    if outer is not None:           # nested: the outermost unit's deadline holds for all
        deadline = min(deadline, outer)
    _retrying.deadline = deadline
    try:
        return _retry_until(operation, deadline, what)
    finally:
        _retrying.deadline = outer


_retrying = threading.local()


def _retry_until(operation: Callable[[], Any], deadline: float, what: str) -> Any:
    delay = 0.05
    while True:
        try:
            return operation()
        except (peewee.OperationalError, peewee.InterfaceError) as error:
            if getattr(error, "gave_up", False) or not is_transient(error):
                raise                   # not worth a retry, or a nested unit's last one
            if time.monotonic() + delay > deadline:
                error.gave_up = True
                raise
            log.warning("%s failed (%s); retrying in %.2fs", what, " ".join(str(error).split()), delay)
            drop_connection()
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def is_database_error(error: Exception) -> bool:
    """An error of the database driver (the transaction is likely unusable: let it roll
    back), as opposed to a bug or a bad value in the caller's own code."""
    return isinstance(error, (peewee.DatabaseError, peewee.InterfaceError))


def is_transient(error: Exception) -> bool:
    """A connection problem (worth retrying), not a bad statement."""
    if isinstance(error, peewee.InterfaceError) or not is_sqlite():
        return True
    return any(word in str(error).lower() for word in _TRANSIENT_SQLITE)


def drop_connection() -> None:
    """Forget this thread's connection, whatever state it is in (the next query reconnects)."""
    db = database.obj
    if db is None:
        return
    conn = db._state.conn
    db._state.reset()
    if conn is not None:
        try:
            conn.close()
        except Exception:       # already broken: nothing more to release
            pass


# -- fork safety -------------------------------------------------------------------------
_inherited: list[Any] = []   # connections a forked child must neither use nor close


def _drop_inherited_connection() -> None:
    db = database.obj
    if db is None:
        return
    state = db._state
    if state.conn is not None:
        _inherited.append(state.conn)
    state.reset()


os.register_at_fork(after_in_child=_drop_inherited_connection)


# -- columns ---------------------------------------------------------------------------
class JSONField(peewee.TextField):
    """JSON text (stdlib json; datetimes and other objects fall back to str)."""

    def db_value(self, value):
        return None if value is None else dumps(value)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class UTCDateTimeField(peewee.DateTimeField):
    """Stores naive UTC (so SQLite text compares in order), returns aware UTC datetimes."""

    def db_value(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)


class BaseModel(peewee.Model):
    tenant = peewee.CharField(max_length=64, default="main")

    class Meta:
        database = database
        legacy_table_names = False


# -- migrations ------------------------------------------------------------------------
class SchemaVersion(peewee.Model):
    version = peewee.IntegerField(primary_key=True)
    name = peewee.CharField()
    applied_at = UTCDateTimeField()

    class Meta:
        database = database
        table_name = "schema_version"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[SchemaMigrator], None]


def _initial(migrator: SchemaMigrator) -> None:
    """Version 1: the first schema. A fresh database gets `all_models()` directly."""
    database.create_tables(all_models())


# Append new migrations here: Migration(2, "add x to executions",
#     lambda m: migrate_ops(m.add_column("executions", "x", peewee.IntegerField(null=True))))
# and change the model to match. Never edit an applied migration.
def _accounts(migrator: SchemaMigrator) -> None:
    """Version 2: users, API tokens, bookmarks, announcements."""
    from . import accounts
    database.create_tables(accounts.MODELS)


def _search(migrator: SchemaMigrator) -> None:
    """Version 3: the executions lists' indexes (store.executions: label_text, the
    execution_labels and execution_flows tables, filled from the stored executions; the
    covering list indexes replacing two of version 1)."""
    from . import executions
    migrate_ops(migrator.add_column("executions", "label_text",
                                    executions.ExecutionRow.label_text))
    database.create_tables([executions.ExecutionLabelRow, executions.ExecutionFlowRow])
    executions.backfill_labels()
    executions.backfill_flows()
    for name in executions.REPLACED_INDEXES:
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    executions.ExecutionRow._schema.create_indexes(safe=True)


def _triggers(migrator: SchemaMigrator) -> None:
    """Version 4: one row per trigger (schedules, listeners, webhooks) replaces the unused
    trigger_state table; the outbox of state changes that Flow triggers listen to."""
    from . import triggers
    triggers.drop_legacy_table()
    database.create_tables([triggers.TriggerRow, triggers.TriggerEventRow])


def _flow_durations(migrator: SchemaMigrator) -> None:
    """Version 5: the by-flow list index also holds end_date, so a flow's recent durations
    (the forecast of store/forecast.py) are read from the index alone."""
    from . import executions
    database.execute_sql(f'DROP INDEX IF EXISTS "{executions.BY_FLOW}"')
    executions.ExecutionRow._schema.create_indexes(safe=True)


MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _initial),
    Migration(2, "accounts, bookmarks, announcements", _accounts),
    Migration(3, "execution labels, search indexes", _search),
    Migration(4, "triggers, trigger events", _triggers),
    Migration(5, "end_date in the by-flow executions index", _flow_durations),
]


def migrate_ops(*operations) -> None:
    """Run playhouse.migrate operations (inside migrate()'s transaction)."""
    for operation in operations:
        operation.run()


def all_models() -> list[type[peewee.Model]]:
    from . import accounts, executions, flows, kv, logs, triggers
    return [flows.FlowRow, executions.ExecutionRow, executions.TaskRunRow,
            executions.ExecutionLabelRow, executions.ExecutionFlowRow, logs.LogRow,
            kv.KVRow, *triggers.MODELS,
            *accounts.MODELS]


def schema_version() -> int:
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    return SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar() or 0


def migrate() -> int:
    """Bring the schema to the latest version; returns that version."""
    latest = MIGRATIONS[-1].version
    with write_transaction():
        if not is_sqlite():
            # one migrating process at a time (key: "kestra-lite migrate")
            database.execute_sql("SELECT pg_advisory_xact_lock(746173)")
        database.create_tables([SchemaVersion])
        current = schema_version()
        if current >= latest:
            return current
        now = datetime.now(timezone.utc)
        if current == 0:
            database.create_tables(all_models())
            SchemaVersion.create(version=latest, name="current schema", applied_at=now)
            return latest
        migrator = (SqliteMigrator(database.obj) if is_sqlite()
                    else PostgresqlMigrator(database.obj))
        for migration in MIGRATIONS:
            if migration.version > current:
                migration.apply(migrator)
                SchemaVersion.create(version=migration.version, name=migration.name,
                                     applied_at=now)
    return latest


def truncate_all() -> None:
    """Empty every table (tests)."""
    models = all_models()
    if is_sqlite():
        with database.atomic():
            for model in reversed(models):
                model.delete().execute()
    else:
        names = ", ".join(f'"{m._meta.table_name}"' for m in models)
        database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
