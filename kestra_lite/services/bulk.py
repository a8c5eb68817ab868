"""Actions on many executions at once (Kestra's /executions/.../by-ids and /by-query).

Every id is checked first; when any is refused (unknown, or in a state the action does not
apply to), nothing is done and every refusal is reported (Kestra's BulkErrorResponse).
Otherwise the action runs on each execution in turn; one that changed meanwhile is reported
as a failure while the others go on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from kestra_lite.errors import KestraLiteError
from kestra_lite.model.execution import Execution
from kestra_lite.model.state import State
from kestra_lite.services import deletion
from kestra_lite.services import executions as service
from kestra_lite.services.runtime import Runtime
from kestra_lite.store import executions as store


@dataclass(frozen=True)
class Refusal:
    execution_id: str
    message: str

    def to_dict(self) -> dict:
        return {"message": self.message, "invalidValue": self.execution_id,
                "path": "execution"}


class BulkRefused(KestraLiteError):
    """Nothing was done: `refusals` says why, per execution."""

    def __init__(self, action: str, refusals: list[Refusal]):
        self.action = action
        self.refusals = refusals
        super().__init__(f"invalid bulk {action}")


@dataclass
class BulkResult:
    count: int = 0
    failures: list[Refusal] = field(default_factory=list)


def _check_kill(execution: Execution, options: dict) -> str | None:
    return "execution already finished" if execution.current.is_terminated else None


def _check_restart(execution: Execution, options: dict) -> str | None:
    return None if execution.current.is_failed else "execution not in state FAILED"


def _check_resume(execution: Execution, options: dict) -> str | None:
    return None if execution.current.is_paused else "execution not in state PAUSED"


def _check_pause(execution: Execution, options: dict) -> str | None:
    return None if execution.current.is_running else "execution not in state RUNNING"


def _check_terminated(execution: Execution, options: dict) -> str | None:
    return None if execution.current.is_terminated else "execution is not terminated"


def _check_delete(execution: Execution, options: dict) -> str | None:
    if execution.current.is_terminated or options.get("include_non_terminated"):
        return None
    return ("execution is not terminated (kill it first, or ask includeNonTerminated=true)")


def _any(execution: Execution, options: dict) -> str | None:
    return None


def _delete(runtime, tenant, execution_id, options):
    deletion.delete_execution(runtime, tenant, execution_id,
                              delete_logs=options.get("delete_logs", True),
                              delete_storage=options.get("delete_storage", True))


def _labels(runtime, tenant, execution_id, options):
    service.set_labels(runtime, tenant, execution_id, options["labels"])


def _change_status(runtime, tenant, execution_id, options):
    service.change_status(runtime, tenant, execution_id, State(options["state"]))


ACTIONS: dict[str, tuple[Callable, Callable]] = {
    "delete": (_check_delete, _delete),
    "kill": (_check_kill, lambda rt, t, i, o: service.kill(rt, t, i)),
    "restart": (_check_restart, lambda rt, t, i, o: service.restart(rt, t, i)),
    "resume": (_check_resume, lambda rt, t, i, o: service.resume(rt, t, i, None)),
    "pause": (_check_pause, lambda rt, t, i, o: service.pause(rt, t, i)),
    "replay": (_any, lambda rt, t, i, o: service.replay(rt, t, i)),
    "labels": (_check_terminated, _labels),
    "change-status": (_check_terminated, _change_status),
}


def run(runtime: Runtime, tenant: str, action: str, execution_ids: list[str], *,
        all_or_nothing: bool = True, **options) -> BulkResult:
    """Check every execution, then apply `action` to each. all_or_nothing (Kestra's API):
    one refused execution raises BulkRefused and nothing is done; otherwise (the UI) the
    refused ones are skipped and reported in the result's failures. Options: delete_logs,
    delete_storage, include_non_terminated (delete); labels (labels); state
    (change-status)."""
    check, apply = ACTIONS[action]
    ids = list(dict.fromkeys(execution_ids))
    refusals = []
    for execution_id in ids:
        execution = store.find_execution(tenant, execution_id)
        if execution is None:
            refusals.append(Refusal(execution_id, "execution not found"))
            continue
        message = check(execution, options)
        if message:
            refusals.append(Refusal(execution_id, message))
    if refusals and all_or_nothing:
        raise BulkRefused(action, refusals)
    result = BulkResult(failures=list(refusals))
    refused = {refusal.execution_id for refusal in refusals}
    for execution_id in (i for i in ids if i not in refused):
        try:
            apply(runtime, tenant, execution_id, options)
        except KestraLiteError as error:
            result.failures.append(Refusal(execution_id, str(error)))
        else:
            result.count += 1
    return result
