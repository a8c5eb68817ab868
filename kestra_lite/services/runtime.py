"""The runtime: one per process. Holds the connections (database, Redis, queue, storage) and
the parsed-flow cache, and gives the engine and the tasks their read/write ports."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from redis import Redis, RedisError
from rq import Queue

from kestra_lite.config import Settings
from kestra_lite.engine.expressions import ExpressionError, Hooks
from kestra_lite.errors import InvalidFlow
from kestra_lite.model.execution import Execution
from kestra_lite.model.flow import Flow
from kestra_lite.model.flow_parser import parse_flow
from kestra_lite.model.state import State, utcnow
from kestra_lite.storage.encryption import Encryption
from kestra_lite.storage.internal import LocalStorage, check_scope, readable_scopes
from kestra_lite.storage.secrets import EnvironmentSecrets
from kestra_lite.store import db
from kestra_lite.store import executions as execution_store
from kestra_lite.store import flows as flow_store
from kestra_lite.store import kv as kv_store
from kestra_lite.store import logs as log_store

KEY_PREFIX = "kestra-lite"
RUNNING_STATES = (State.RUNNING, State.PAUSED, State.RETRYING, State.KILLING, State.RESTARTED)
_current: "Runtime | None" = None
_lock = threading.Lock()


class Runtime:
    def __init__(self, settings: Settings, *, migrate: bool = False):
        self.settings = settings
        db.connect(settings.database_url)
        if migrate:
            db.migrate()
        self.redis = Redis.from_url(settings.redis_url)
        self.queue = Queue(settings.queue, connection=self.redis, default_timeout=-1)
        self.storage = LocalStorage(settings.storage_dir)
        self.encryption = Encryption(settings.encryption_key)
        self.secrets = EnvironmentSecrets(settings.secrets, settings.secret_encoding)
        self.envs = dict(settings.envs)
        self.globals: dict = {}
        self._flows: dict[tuple, Flow] = {}

    # -- flows -------------------------------------------------------------------------
    def load_flow(self, tenant: str, namespace: str, flow_id: str,
                  revision: int | None = None) -> Flow | None:
        if revision is not None and (tenant, namespace, flow_id, revision) in self._flows:
            return self._flows[(tenant, namespace, flow_id, revision)]
        record = flow_store.get_flow(tenant, namespace, flow_id, revision)
        if record is None:
            return None
        key = (tenant, namespace, flow_id, record.revision)
        flow = self._flows.get(key)
        if flow is None:
            try:
                flow = parse_flow(record.source, f"{namespace}.{flow_id}", tenant=tenant)
            except InvalidFlow:
                return None
            flow.revision = record.revision
            self._flows[key] = flow
        return flow

    # -- redis keys ----------------------------------------------------------------------
    def key(self, *parts: str) -> str:
        return ":".join((KEY_PREFIX, self.settings.queue) + parts)

    def kill_task_runs(self, attempts: list[str]) -> None:
        """Ask workers to interrupt these attempts (`<task run id>:<attempt number>`)."""
        if attempts:
            pipe = self.redis.pipeline()
            for attempt in attempts:
                pipe.set(self.key("kill", attempt), 1, ex=3600)
            pipe.execute()

    def is_killed(self, attempt: str) -> bool:
        return bool(self.redis.exists(self.key("kill", attempt)))

    @property
    def heartbeat_ttl(self) -> float:
        """Seconds after which a worker that stopped beating is taken for dead."""
        return 3 * self.settings.heartbeat_seconds

    @contextmanager
    def heartbeat(self, attempt: str):
        """While the block runs, a Redis key says a worker holds this attempt (the scheduler's
        watchdog resubmits attempts whose key expired). A failed beat (Redis restarting) is
        retried at the next one."""
        key = self.key("heartbeat", attempt)
        ttl_ms = int(self.heartbeat_ttl * 1000)
        stop = threading.Event()

        def beat():
            while not stop.wait(self.settings.heartbeat_seconds):
                try:
                    self.redis.set(key, 1, px=ttl_ms)
                except RedisError:
                    continue

        self.redis.set(key, 1, px=ttl_ms)
        thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat-{attempt}")
        thread.start()
        try:
            yield
        finally:
            stop.set()
            self.redis.delete(key)

    def has_heartbeat(self, attempt: str) -> bool:
        return bool(self.redis.exists(self.key("heartbeat", attempt)))


def current() -> Runtime:
    """The process runtime, built from the environment on first use (RQ jobs use it)."""
    global _current
    with _lock:
        if _current is None:
            _current = Runtime(Settings.from_env())
        return _current


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


class EngineEnv:
    """The executor's read-only port (engine.executor.Environment)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.envs = runtime.envs
        self.globals = runtime.globals

    def hooks(self, flow: Flow, execution: Execution) -> Hooks:
        return RuntimeHooks(self.runtime, flow, execution)

    def reveal_secret_inputs(self, flow: Flow, inputs: dict) -> tuple[dict, list[str]]:
        return reveal_secret_inputs(self.runtime, flow, inputs)

    def load_flow(self, tenant, namespace, flow_id, revision=None):
        return self.runtime.load_flow(tenant, namespace, flow_id, revision)

    def load_execution(self, tenant, execution_id):
        return execution_store.find_execution(tenant, execution_id)

    def count_running(self, tenant, namespace, flow_id):
        """Executions holding a concurrency slot (a CREATED or QUEUED one holds none)."""
        return execution_store.count_executions(tenant, namespace, flow_id, RUNNING_STATES)

    def new_execution(self, flow, *, inputs, labels, trigger, now, parsed=True):
        from kestra_lite.services.creation import build_execution
        return build_execution(self.runtime, flow, inputs=inputs, labels=labels, trigger=trigger,
                               now=now, parsed=parsed)


def reveal_secret_inputs(runtime: Runtime, flow: Flow, inputs: dict) -> tuple[dict, list[str]]:
    """SECRET inputs are stored encrypted; they are decrypted for rendering and their values
    masked in logs (semantics 2.2). Returns (inputs with plaintexts, the plaintexts)."""
    revealed, plaintexts = dict(inputs), []
    for spec in flow.inputs:
        if spec.type == "SECRET" and isinstance(revealed.get(spec.id), str):
            try:
                plain = runtime.encryption.decrypt(revealed[spec.id])
            except Exception:       # not encrypted (raw inputs) or another key: keep as is
                continue
            revealed[spec.id] = plain
            plaintexts.append(plain)
    return revealed, plaintexts


class RuntimeHooks(Hooks):
    """Expression functions that reach the outside world (secret, kv, read...)."""

    def __init__(self, runtime: Runtime, flow: Flow, execution: Execution, *, worker: bool = False):
        self.runtime, self.flow, self.execution, self.worker = runtime, flow, execution, worker
        self.revealed: list[str] = []

    def secret(self, key):
        value = self.runtime.secrets.get(key)
        if value is not None:
            self.revealed.append(value)
        return value

    def kv(self, namespace, key, error_on_missing):
        found, value = kv_store.kv_get(self.execution.tenant, namespace, key, utcnow())
        if not found and error_on_missing:
            raise ExpressionError(f"The key '{key}' does not exist in the namespace '{namespace}'.")
        return value if found else None

    def _stored(self, path: str, read):
        """`read(tenant, storage path)` for a kestra:// URI this execution may read; every
        refusal is an expression error that names the URI (never a server path)."""
        try:
            return read(self.execution.tenant, check_scope(path, readable_scopes(self.execution)))
        except PermissionError as error:
            raise ExpressionError(str(error))
        except ValueError as error:
            raise ExpressionError(f"Unable to read `{path}`: {error}")
        except FileNotFoundError:
            raise ExpressionError(f"Unable to read `{path}`: the file does not exist")

    def read(self, path):
        return self._stored(path, self.runtime.storage.get).decode()

    def file_uri(self, path):
        return path

    def file_size(self, path):
        return self._stored(path, self.runtime.storage.size)

    def error_logs(self):
        if not self.worker:
            return super().error_logs()
        logs = log_store.execution_logs(self.execution.tenant, self.execution.id, min_level="ERROR")
        return [log for log in logs if log["level"] == "ERROR"][:25]
