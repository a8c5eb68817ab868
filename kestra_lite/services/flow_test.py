"""`kestra-lite flow test`: run one flow to its end through Redis and an RQ worker.

Everything a run needs is its own: a throwaway SQLite file and storage folder (unless
DATABASE_URL is set) and a queue name nobody else listens to, so a running `kestra-lite
local` on the same Redis cannot steal its jobs.
"""
from __future__ import annotations

import dataclasses
import secrets
import sys
import tempfile
import time
from pathlib import Path

from kestra_lite.config import Settings
from kestra_lite.errors import InvalidFlow
from kestra_lite.model.state import utcnow
from kestra_lite.services import flows as flow_service
from kestra_lite.services import runtime as runtimes
from kestra_lite.services.executions import create_execution
from kestra_lite.store import executions as execution_store
from kestra_lite.store import logs as log_store
from kestra_lite import scheduler
from kestra_lite.worker import build_worker

MAX_IDLE_WAIT = 3600.0


def run_flow_test(settings: Settings, file: str, flows_dir: str | None, inputs: dict,
                  labels: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="kestra-lite-test-") as scratch:
        runtime = runtimes.Runtime(isolated_settings(settings, Path(scratch)), migrate=True)
        runtimes.install(runtime)
        try:
            return _run(runtime, file, flows_dir, inputs, labels)
        finally:
            runtime.queue.empty()
            runtimes.install(None)


def isolated_settings(settings: Settings, scratch: Path) -> Settings:
    """Settings of one scenario: own queue, own SQLite DB and storage (unless DATABASE_URL is
    set), an encryption key (SECRET inputs)."""
    changes: dict = {"queue": f"isolated-{secrets.token_hex(6)}"}
    if not settings.database_url_from_env:
        changes["database_url"] = f"sqlite:///{scratch / 'kestra-lite.db'}"
        changes["storage_dir"] = scratch / "storage"
    if not settings.encryption_key:
        changes["encryption_key"] = secrets.token_urlsafe(32)
    return dataclasses.replace(settings, **changes)


def _run(runtime: runtimes.Runtime, file: str, flows_dir: str | None, inputs: dict,
         labels: dict) -> dict:
    tenant = "main"
    if flows_dir:
        for path in sorted(Path(flows_dir).iterdir()):
            if path.suffix in (".yml", ".yaml") and path.resolve() != Path(file).resolve():
                try:
                    flow_service.deploy(runtime, tenant, path.read_text(), str(path))
                except InvalidFlow as error:
                    print(f"{path}: skipped, invalid flow: {error}".replace("\n", "; "),
                          file=sys.stderr)
    flow = flow_service.deploy(runtime, tenant, Path(file).read_text(), file)
    execution = create_execution(runtime, flow, inputs=inputs, labels=labels or None,
                                 local_files=True)
    run_until_settled(runtime, tenant, execution.id)
    final = execution_store.load_execution(tenant, execution.id)
    result = final.to_dict()
    result["logs"] = [{"taskId": log["taskId"], "taskRunId": log["taskRunId"],
                       "level": log["level"], "message": log["message"],
                       "timestamp": log["timestamp"]}
                      for log in log_store.execution_logs(tenant, execution.id)]
    return result


def run_until_settled(runtime: runtimes.Runtime, tenant: str, execution_id: str,
                      max_seconds: float | None = None) -> None:
    """Work the queue and the scheduler until the execution is terminated, or nothing is left
    to do (PAUSED with nothing scheduled)."""
    worker = build_worker(runtime)
    started = time.monotonic()
    while True:
        worker.work(burst=True, logging_level="WARNING")
        execution = execution_store.load_execution(tenant, execution_id)
        if execution.current.is_terminated and not _others_pending(runtime):
            return
        wake_at = execution_store.next_wake_at()
        if wake_at is None:
            if len(runtime.queue) == 0:
                return
            continue
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            return
        delay = (wake_at - utcnow()).total_seconds()
        if delay > 0:
            time.sleep(min(delay, MAX_IDLE_WAIT))
        scheduler.tick(runtime, utcnow())


def _others_pending(runtime: runtimes.Runtime) -> bool:
    return len(runtime.queue) > 0
