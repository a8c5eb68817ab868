"""The Kestra 0.20 conformance harness (`kestra-lite conformance DIR`).

DIR holds `expectations.yaml` and `flows/` (see its README.md): every flow of `flows/` is
deployed in tenant "main", then every scenario of `expectations.yaml` is run against the
engine through the service layer (a few API scenarios, webhooks among them, through the
in-process Flask app) and its `expect` block is checked.

- `load_corpus(dir)` reads the corpus; `deploy_corpus(runtime, corpus)` deploys its flows.
- `run_scenario(runtime, corpus, flow_file, scenario)` runs one scenario on an installed
  runtime and returns the list of failure messages (empty: the scenario passed).
- `SKIPS` names the scenarios this harness does not run, with the issue owning the feature.
- `main(settings, dir)` runs everything, each scenario on a runtime of its own, prints one
  `FAIL file::scenario: reason` / `SKIP file::scenario: reason` line per scenario concerned
  and a last line `N passed, M failed, K skipped`; returns 0 when nothing failed.

Structured `expect` keys are checked generically (CHECKS); scenarios whose `actions` or
expectations are free text have hand-written handlers (HANDLERS). Expected HTTP statuses of
API scenarios are checked as the domain error the REST layer maps to that status:
IllegalTransition -> 422 (409 for a conflicting state change), NotFound -> 404,
InvalidInput -> 422; a 2xx status is "the service call raised nothing".
"""
from __future__ import annotations

import dataclasses
import re
import secrets
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import yaml

TENANT = "main"
SETTLE_SECONDS = 60.0        # upper bound for one run_until_settled call
PAUSE_WAIT_SECONDS = 15.0    # upstream tests wait up to 15s for a state

# (file, scenario name) -> reason (naming the issue that owns the missing feature)
SKIPS: dict[tuple[str, str], str] = {}

# keys of `expect` that document rather than assert
IGNORED_KEYS = {"inferred_fields", "notes", "inferred"}


# -- the corpus ------------------------------------------------------------------------------

@dataclass
class Corpus:
    root: Path
    expectations: dict

    @property
    def flows_dir(self) -> Path:
        return self.root / "flows"

    @property
    def flows(self) -> dict:
        return self.expectations.get("flows") or {}

    def scenarios(self) -> list[tuple[str, dict]]:
        """(flow file, scenario) in file order."""
        return [(file, scenario) for file, entry in self.flows.items()
                for scenario in (entry or {}).get("scenarios") or []]

    def flow_ref(self, file: str) -> tuple[str, str]:
        namespace, _, flow_id = self.flows[file]["flow"].rpartition(".")
        return namespace, flow_id

    def entry(self, file: str) -> dict:
        return self.flows.get(file) or {}


def load_corpus(directory: str | Path) -> Corpus:
    root = Path(directory)
    path = root / "expectations.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no expectations.yaml in the conformance directory")
    with path.open(encoding="utf-8") as handle:
        return Corpus(root, yaml.safe_load(handle) or {})


def deploy_corpus(runtime, corpus: Corpus) -> dict[str, str]:
    """Deploy every flow of the corpus in tenant "main"; returns {file: error} for the
    flows that were refused."""
    from kestra_lite.errors import InvalidFlow
    from kestra_lite.services import flows as flow_service
    refused: dict[str, str] = {}
    for path in sorted(corpus.flows_dir.iterdir()):
        if path.suffix not in (".yml", ".yaml"):
            continue
        try:
            flow_service.deploy(runtime, TENANT, path.read_text(encoding="utf-8"), path.name)
        except InvalidFlow as error:
            refused[path.name] = str(error).replace("\n", "; ")
    return refused


# -- checking values -------------------------------------------------------------------------

class Subject:
    """An execution being checked, with what its placeholders stand for."""

    def __init__(self, execution, *, root_id: str | None = None, parent_id: str | None = None):
        self.execution = execution
        self.root_id = root_id or execution.id
        self.parent_id = parent_id
        self._children = None

    def children(self) -> list:
        if self._children is None:
            from kestra_lite.store import executions as store
            self._children = store.children_of(TENANT, self.execution.id)
        return self._children

    def resolve(self, text: str) -> str:
        if "<" not in text:
            return text

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in ("execution id", "execId"):
                return self.execution.id
            if name == "parent execution id":
                return self.root_id
            if name == "parent id":
                return self.parent_id or "<no parent>"
            if name == "child execution id":
                children = self.children()
                return children[0].id if children else "<no child execution>"
            task = re.fullmatch(r"task run id of (.+)", name)
            if task:
                task_run = first_task_run(self.execution, task.group(1))
                return task_run.id if task_run else f"<no task run of {task.group(1)}>"
            return match.group(0)
        return re.sub(r"<([^<>]+)>", replace, text)


def first_task_run(execution, task_id: str):
    for task_run in execution.task_runs:
        if task_run.task_id == task_id:
            return task_run
    return None


def value_chain(execution, task_run) -> list:
    """Parent values then own value (ForEach / EachSequential nesting)."""
    by_id = {t.id: t for t in execution.task_runs}
    chain = []
    current = task_run
    while current is not None:
        if current.value is not None:
            chain.append(current.value)
        current = by_id.get(current.parent_task_run_id) if current.parent_task_run_id else None
    return list(reversed(chain))


def lookup(container: Any, key: str) -> tuple[bool, Any]:
    """`key` in a map, or a dotted path (`values.output1`, `outputs.extracted`)."""
    if isinstance(container, dict):
        if key in container:
            return True, container[key]
        if "." in key:
            node = container
            for part in key.split("."):
                if not isinstance(node, dict) or part not in node:
                    return False, None
                node = node[part]
            return True, node
    return False, None


def _parse_date(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def match(expected: Any, actual: Any, subject: Subject, path: str) -> list[str]:
    """Messages for every difference; maps are matched as subsets (extra keys allowed)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a map {expected!r}, got {actual!r}"]
        errors = []
        for key, value in expected.items():
            found, got = lookup(actual, str(key))
            if not found:
                errors.append(f"{path}.{key}: missing (keys: {sorted(map(str, actual))})")
            else:
                errors += match(value, got, subject, f"{path}.{key}")
        return errors
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        errors = []
        for index, (want, got) in enumerate(zip(expected, actual)):
            errors += match(want, got, subject, f"{path}[{index}]")
        return errors
    if isinstance(expected, str):
        return match_text(expected, actual, subject, path)
    if expected is None or isinstance(expected, bool):
        return [] if actual is expected else [f"{path}: expected {expected!r}, got {actual!r}"]
    if isinstance(expected, (int, float)):
        if isinstance(actual, (int, float)) and not isinstance(actual, bool) and actual == expected:
            return []
        return [f"{path}: expected {expected!r}, got {actual!r}"]
    return [] if actual == expected else [f"{path}: expected {expected!r}, got {actual!r}"]


def match_text(expected: str, actual: Any, subject: Subject, path: str) -> list[str]:
    """A string, or a free-text expectation of an obvious form."""
    expected = subject.resolve(expected)
    contains = re.fullmatch(r"contains '(.*)'", expected)
    if contains:
        if isinstance(actual, str) and contains.group(1) in actual:
            return []
        return [f"{path}: expected a text containing {contains.group(1)!r}, got {actual!r}"]
    starts = re.fullmatch(r"starts with (\S+)", expected)
    if starts:
        if isinstance(actual, str) and actual.startswith(starts.group(1)):
            return []
        return [f"{path}: expected a text starting with {starts.group(1)!r}, got {actual!r}"]
    one_of = re.fullmatch(r"one of (.+?)(?: \(.*\))?", expected)
    if one_of:
        options = [option.strip() for option in one_of.group(1).split(",")]
        if actual in options:
            return []
        return [f"{path}: expected one of {options}, got {actual!r}"]
    pattern = re.fullmatch(r"matches (.+)", expected)
    if pattern:
        if isinstance(actual, str) and re.fullmatch(pattern.group(1), actual):
            return []
        return [f"{path}: expected a text matching {pattern.group(1)!r}, got {actual!r}"]
    recent = re.match(r"ISO-8601 zoned datetime within (\d+)s of now", expected)
    if recent:
        date = _parse_date(actual)
        if date is None or date.tzinfo is None:
            return [f"{path}: expected an ISO-8601 zoned datetime, got {actual!r}"]
        gap = abs((datetime.now(timezone.utc) - date).total_seconds())
        if gap > int(recent.group(1)):
            return [f"{path}: {actual!r} is {gap:.1f}s away from now (limit "
                    f"{recent.group(1)}s)"]
        return []
    if actual == expected:
        return []
    return [f"{path}: expected {expected!r}, got {actual!r}"]


# -- the structured `expect` keys ------------------------------------------------------------

def _states(execution) -> list[str]:
    return [h.state.value for h in execution.state.histories]


def _check_state(s: Subject, want, key):
    got = s.execution.current.value
    return [] if got == want else [f"{key}: expected {want}, got {got} (history "
                                   f"{_states(s.execution)}){_task_run_summary(s.execution)}"]


def _task_run_summary(execution) -> str:
    return " [task runs: " + ", ".join(
        f"{t.task_id}{'(' + str(t.value) + ')' if t.value is not None else ''}="
        f"{t.current.value}" for t in execution.task_runs) + "]"


def _check_history_prefix(s, want, key):
    got = _states(s.execution)[:len(want)]
    return [] if got == list(want) else [f"{key}: expected {want}, got history "
                                         f"{_states(s.execution)}"]


def _check_history_length(s, want, key):
    got = len(s.execution.state.histories)
    return [] if got == want else [f"{key}: expected {want}, got {got} "
                                   f"({_states(s.execution)})"]


def _check_taskrun_count(s, want, key):
    got = len(s.execution.task_runs)
    return [] if got == want else [f"{key}: expected {want}, got {got}"
                                   f"{_task_run_summary(s.execution)}"]


def _check_taskruns(s, want, key):
    errors = []
    for task_id, state in want.items():
        task_run = first_task_run(s.execution, task_id)
        if task_run is None:
            errors.append(f"{key}.{task_id}: no task run (expected {state})"
                          f"{_task_run_summary(s.execution)}")
        elif task_run.current.value != state:
            errors.append(f"{key}.{task_id}: expected {state}, got {task_run.current.value}")
    return errors


def _by_position(s, key, position):
    task_runs = s.execution.task_runs
    index = int(position)
    if index >= len(task_runs):
        return None, [f"{key}.{position}: only {len(task_runs)} task runs"]
    return task_runs[index], []


def _check_taskruns_by_position(s, want, key):
    errors = []
    for position, state in want.items():
        task_run, missing = _by_position(s, key, position)
        if missing:
            errors += missing
        elif task_run.current.value != state:
            errors.append(f"{key}.{position} ({task_run.task_id}): expected {state}, "
                          f"got {task_run.current.value}")
    return errors


def _check_order_prefix(s, want, key):
    got = [t.task_id for t in s.execution.task_runs][:len(want)]
    return [] if got == list(want) else [
        f"{key}: expected {want}, got {[t.task_id for t in s.execution.task_runs]}"]


def _check_absent(s, want, key):
    present = {t.task_id for t in s.execution.task_runs}
    return [f"{key}: task {task_id} has a task run ({first_task_run(s.execution, task_id).current.value})"
            for task_id in want if task_id in present]


def _check_attempts(s, want, key):
    errors = []
    for task_id, count in want.items():
        task_run = first_task_run(s.execution, task_id)
        if task_run is None:
            errors.append(f"{key}.{task_id}: no task run")
        elif len(task_run.attempts) != count:
            errors.append(f"{key}.{task_id}: expected {count} attempts, got "
                          f"{len(task_run.attempts)} "
                          f"({[a.state.current.value for a in task_run.attempts]})")
    return errors


def _check_attempts_by_position(s, want, key):
    errors = []
    for position, count in want.items():
        task_run, missing = _by_position(s, key, position)
        if missing:
            errors += missing
        elif len(task_run.attempts) != count:
            errors.append(f"{key}.{position} ({task_run.task_id}): expected {count} attempts, "
                          f"got {len(task_run.attempts)} "
                          f"({[a.state.current.value for a in task_run.attempts]})")
    return errors


def _check_attempt_state(s, want, key):
    errors = []
    for task_id, state in want.items():
        task_run = first_task_run(s.execution, task_id)
        if task_run is None or not task_run.attempts:
            errors.append(f"{key}.{task_id}: no attempt (expected {state})")
        elif task_run.attempts[-1].state.current.value != state:
            errors.append(f"{key}.{task_id}: expected {state}, got "
                          f"{task_run.attempts[-1].state.current.value}")
    return errors


def _check_task_outputs(s, want, key):
    errors = []
    for task_id, outputs in want.items():
        task_run = first_task_run(s.execution, task_id)
        if task_run is None:
            errors.append(f"{key}.{task_id}: no task run{_task_run_summary(s.execution)}")
            continue
        errors += match(outputs, task_run.outputs or {}, s, f"{key}.{task_id}")
    return errors


def _task_run_by_values(s, task_id, values):
    for task_run in s.execution.task_runs:
        if task_run.task_id == task_id and value_chain(s.execution, task_run) == list(values):
            return task_run
    return None


def _check_task_outputs_by_values(s, want, key):
    errors = []
    for item in want:
        task_run = _task_run_by_values(s, item["task"], item["values"])
        if task_run is None:
            chains = [value_chain(s.execution, t) for t in s.execution.task_runs
                      if t.task_id == item["task"]]
            errors.append(f"{key}: no task run of {item['task']} for values {item['values']} "
                          f"(found values {chains})")
            continue
        errors += match(item["value"], (task_run.outputs or {}).get("value"), s,
                        f"{key}.{item['task']}{item['values']}.value")
    return errors


def _check_task_output_contains(s, want, key):
    errors = []
    for item in want:
        candidates = [t for t in s.execution.task_runs if t.task_id == item["task"]
                      and any(item["item"] in str(v) for v in value_chain(s.execution, t))]
        if not candidates:
            errors.append(f"{key}: no task run of {item['task']} for an item {item['item']!r}")
            continue
        value = (candidates[0].outputs or {}).get("value")
        if not (isinstance(value, str) and item["value_contains"] in value):
            errors.append(f"{key}.{item['task']}[{item['item']}]: expected a value containing "
                          f"{item['value_contains']!r}, got {value!r}")
    return errors


def _check_execution_outputs(s, want, key):
    got = s.execution.outputs
    if want is None:
        return [] if not got else [f"{key}: expected none, got {got!r}"]
    if got != want:
        return [f"{key}: expected {want!r}, got {got!r}"]
    return []


def _check_execution_outputs_map(s, want, key):
    from kestra_lite.engine.variables import OutputsIndex
    return match(want, OutputsIndex(s.execution).outputs(), s, key)


def _check_execution_outputs_size(s, want, key):
    got = len(s.execution.outputs or {})
    return [] if got == want else [f"{key}: expected {want}, got {got} "
                                   f"({s.execution.outputs!r})"]


def _check_execution_outputs_contains(s, want, key):
    return match(want, s.execution.outputs or {}, s, key)


def _logs(s):
    from kestra_lite.store import logs as log_store
    return log_store.execution_logs(TENANT, s.execution.id)


def _log_summary(logs, task=None) -> str:
    shown = [f"{l['taskId']}/{l['level']}: {l['message']!r}" for l in logs
             if task is None or l["taskId"] == task]
    return "; ".join(shown[:10]) or "no logs"


def _check_logs(s, want, key):
    logs = _logs(s)
    errors = []
    for item in want:
        if not any(l["taskId"] == item["task"] and l["level"] == item["level"]
                   and l["message"] == item["message"] for l in logs):
            errors.append(f"{key}: no {item['level']} log {item['message']!r} for task "
                          f"{item['task']} (got: {_log_summary(logs, item['task'])})")
    return errors


def _check_log_equals(s, want, key):
    logs = _logs(s)
    errors = []
    for item in want:
        if not any(l["taskId"] == item["task"] and l["message"] == item["message"]
                   for l in logs):
            errors.append(f"{key}: no log {item['message']!r} for task {item['task']} "
                          f"(got: {_log_summary(logs, item['task'])})")
    return errors


def _check_log_contains(s, want, key):
    logs = _logs(s)
    errors = []
    for item in want:
        task = item.get("task")
        if not any((task is None or l["taskId"] == task) and item["text"] in l["message"]
                   for l in logs):
            errors.append(f"{key}: no log containing {item['text']!r}"
                          f"{' for task ' + task if task else ''} (got: {_log_summary(logs, task)})")
    return errors


def _check_no_logs_for_task(s, want, key):
    logs = _logs(s)
    return [f"{key}: task {task} has logs ({_log_summary(logs, task)})"
            for task in want if any(l["taskId"] == task for l in logs)]


def _labels(s) -> list[tuple[str, str]]:
    return [(l["key"], l["value"]) for l in s.execution.labels]


def _check_labels_exactly(s, want, key):
    expected = sorted((str(k), s.resolve(str(v))) for k, v in want.items())
    got = sorted(_labels(s))
    if expected == got:
        return []
    missing = [l for l in expected if l not in got]
    extra = [l for l in got if l not in expected]
    return [f"{key}: missing {missing}, unexpected {extra}"]


def _check_labels_include(s, want, key):
    got = _labels(s)
    return [f"{key}: missing label {k}={s.resolve(str(v))!r} (labels: {got})"
            for k, v in want.items() if (str(k), s.resolve(str(v))) not in got]


def _check_labels_count(s, want, key):
    got = _labels(s)
    return [] if len(got) == want else [f"{key}: expected {want}, got {len(got)} ({got})"]


def _check_flow(s, want, key):
    got = f"{s.execution.namespace}.{s.execution.flow_id}"
    return [] if got == want else [f"{key}: expected {want}, got {got}"]


def _check_trigger(s, want, key):
    return match(want, s.execution.trigger or {}, s, key)


def _check_within(s, want, key):
    from kestra_lite.model.durations import parse_duration
    limit = parse_duration(want)
    end = s.execution.state.end_date
    if end is None:
        return [f"{key}: not terminated"]
    took = end - s.execution.state.start_date
    return [] if took <= limit else [f"{key}: took {took.total_seconds():.2f}s (limit {want})"]


def _check_pause_history_counts(s, want, key):
    task_run = first_task_run(s.execution, "pause")
    if task_run is None:
        return [f"{key}: no task run `pause`"]
    got = {state: task_run.state.count(_state(state)) for state in want}
    history = [h.state.value for h in task_run.state.histories]
    return [] if got == dict(want) else [f"{key}: expected {dict(want)}, got {got} "
                                         f"(history of `pause`: {history})"]


def _state(name: str):
    from kestra_lite.model.state import State
    return State(name)


def _check_child(s, want, key, level=1):
    children = s.children()
    if not children:
        return [f"{key}: no child execution (Subflow) of {s.execution.id}"]
    child = Subject(children[0], root_id=s.root_id, parent_id=s.execution.id)
    if level == 2:
        grand = child.children()
        if not grand:
            return [f"{key}: no grand-child execution of child {child.execution.id}"]
        child = Subject(grand[0], root_id=s.root_id, parent_id=child.execution.id)
    return check_expect(child, want, prefix=f"{key}.")


CHECKS: dict[str, Callable] = {
    "state": _check_state,
    "state_after_action": _check_state,
    "state_history_prefix": _check_history_prefix,
    "state_history_length": _check_history_length,
    "taskrun_count": _check_taskrun_count,
    "taskruns": _check_taskruns,
    "taskruns_by_position": _check_taskruns_by_position,
    "taskrun_order_prefix": _check_order_prefix,
    "absent_tasks": _check_absent,
    "attempts": _check_attempts,
    "attempts_by_position": _check_attempts_by_position,
    "attempt_state": _check_attempt_state,
    "task_outputs": _check_task_outputs,
    "task_outputs_by_values": _check_task_outputs_by_values,
    "task_output_contains": _check_task_output_contains,
    "execution_outputs": _check_execution_outputs,
    "execution_outputs_map": _check_execution_outputs_map,
    "execution_outputs_size": _check_execution_outputs_size,
    "execution_outputs_contains": _check_execution_outputs_contains,
    "logs": _check_logs,
    "log_equals": _check_log_equals,
    "log_contains": _check_log_contains,
    "no_logs_for_task": _check_no_logs_for_task,
    "labels_exactly": _check_labels_exactly,
    "labels_include": _check_labels_include,
    "labels_count": _check_labels_count,
    "child": _check_child,
    "grand_child": lambda s, want, key: _check_child(s, want, key, level=2),
    "flow": _check_flow,
    "trigger": _check_trigger,
    "within": _check_within,
    "pause_taskrun_history_counts": _check_pause_history_counts,
}


def check_expect(subject: Subject, expect: dict, *, prefix: str = "",
                 keys: set[str] | None = None) -> list[str]:
    """Check the structured keys of `expect` (all of CHECKS, or only `keys`)."""
    errors = []
    for key, want in (expect or {}).items():
        if key in IGNORED_KEYS or (keys is not None and key not in keys):
            continue
        checker = CHECKS.get(key)
        if checker is None:
            errors.append(f"{prefix}{key}: no automatic check for this key")
            continue
        errors += checker(subject, want, prefix + key)
    return errors


# -- running -----------------------------------------------------------------------------------

class ScenarioFailed(Exception):
    """Stop a scenario: a step could not happen (the message says which)."""


@dataclass
class Context:
    runtime: Any
    corpus: Corpus
    file: str
    scenario: dict
    failures: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)

    @property
    def expect(self) -> dict:
        return self.scenario.get("expect") or {}

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def flow(self, file: str | None = None):
        file = file or self.file
        namespace, flow_id = self.corpus.flow_ref(file)
        flow = self.runtime.load_flow(TENANT, namespace, flow_id)
        if flow is None:
            raise ScenarioFailed(f"flow {namespace}.{flow_id} ({file}) is not deployed")
        return flow

    def start(self, file: str | None = None, *, inputs=None, labels=None,
              mode: str | None = None):
        """Create an execution the way the scenario says (inputs_mode parsed/raw/none)."""
        from kestra_lite.services.executions import create_execution
        if file is None or file == self.file:
            inputs = self.scenario.get("inputs") if inputs is None else inputs
            labels = self.scenario.get("labels") if labels is None else labels
            mode = mode or self.scenario.get("inputs_mode")
        mode = mode or "parsed"
        if mode == "none":
            inputs, parsed = {}, False
        else:
            parsed = mode == "parsed"
        if inputs is not None and not isinstance(inputs, dict):
            raise ScenarioFailed(f"inputs {inputs!r} are not a map")
        execution = create_execution(self.runtime, self.flow(file), inputs=dict(inputs or {}),
                                     labels=labels or None, parsed=parsed, local_files=True)
        self.started.append(execution.id)
        return execution

    def load(self, execution_id: str):
        from kestra_lite.store import executions as store
        return store.load_execution(TENANT, execution_id)

    def settle(self, execution_id: str, max_seconds: float = SETTLE_SECONDS):
        """Work the queue until the execution is terminated (or PAUSED, nothing scheduled)."""
        from kestra_lite.services.flow_test import run_until_settled
        run_until_settled(self.runtime, TENANT, execution_id, max_seconds=max_seconds)
        return self.load(execution_id)

    def work(self, execution_id: str):
        """Work what is queued now, without waiting for a scheduled date."""
        from kestra_lite.services.flow_test import run_until_settled
        run_until_settled(self.runtime, TENANT, execution_id, max_seconds=0)
        return self.load(execution_id)

    def wait_until(self, execution_id: str, state: str, seconds: float = PAUSE_WAIT_SECONDS):
        """Work the queue (and the scheduler) until the execution is in `state`."""
        deadline = time.monotonic() + seconds
        while True:
            execution = self.work(execution_id)
            if execution.current.value == state:
                return execution
            if execution.current.is_terminated or time.monotonic() > deadline:
                raise ScenarioFailed(
                    f"execution never reached {state}: it is {execution.current.value} "
                    f"(history {_states(execution)}){_task_run_summary(execution)}")
            from kestra_lite import scheduler
            from kestra_lite.model.state import utcnow
            time.sleep(0.05)
            scheduler.tick(self.runtime, utcnow())

    def check(self, execution, expect: dict | None = None, *, prefix: str = "",
              keys: set[str] | None = None) -> None:
        self.failures += check_expect(Subject(execution), self.expect if expect is None
                                      else expect, prefix=prefix, keys=keys)

    def expect_error(self, what: str, error_types, call, contains: str | None = None):
        """`call()` must raise one of `error_types` (the API status it maps to is in `what`)."""
        try:
            call()
        except error_types as error:
            if contains and contains not in str(error):
                self.fail(f"{what}: error {type(error).__name__} {str(error)!r} does not "
                          f"contain {contains!r}")
            return error
        except Exception as error:   # noqa: BLE001 - reported as a failure
            self.fail(f"{what}: expected {_names(error_types)}, got "
                      f"{type(error).__name__}: {error}")
            return None
        self.fail(f"{what}: expected {_names(error_types)}, nothing raised")
        return None

    def expect_ok(self, what: str, call):
        """`call()` must not raise (a 2xx status in the API)."""
        try:
            return call()
        except Exception as error:   # noqa: BLE001
            raise ScenarioFailed(f"{what}: raised {type(error).__name__}: {error}")


def _names(error_types) -> str:
    if isinstance(error_types, tuple):
        return " or ".join(t.__name__ for t in error_types)
    return error_types.__name__


GENERIC_KEYS = set(CHECKS) | IGNORED_KEYS | {"at_pause"}


def run_generic(ctx: Context) -> None:
    """Create the execution, settle it, check every structured key (at_pause: first settle
    until PAUSED and check those keys there)."""
    execution = ctx.start()
    if "at_pause" in ctx.expect:
        paused = ctx.wait_until(execution.id, "PAUSED")
        ctx.check(paused, ctx.expect["at_pause"], prefix="at_pause.")
    final = ctx.settle(execution.id)
    ctx.check(final, {k: v for k, v in ctx.expect.items() if k != "at_pause"})


def run_scenario(runtime, corpus: Corpus, flow_file: str, scenario: dict) -> list[str]:
    """Run one scenario on `runtime` (installed, flows deployed or not); failure messages."""
    name = scenario.get("name")
    if (flow_file, name) in SKIPS:
        return []
    refused = deploy_corpus(runtime, corpus)
    needed = [flow_file] + list(corpus.entry(flow_file).get("requires_flows") or []) \
        + list(scenario.get("requires_flows") or [])
    if any(file in refused for file in needed):
        return [f"flow {file} refused at deploy: {refused[file]}" for file in needed
                if file in refused]
    ctx = Context(runtime, corpus, flow_file, scenario)
    handler = HANDLERS.get((flow_file, name))
    try:
        if handler is not None:
            handler(ctx)
        else:
            unknown = set(ctx.expect) - GENERIC_KEYS
            if scenario.get("actions") or scenario.get("setup") or unknown:
                return [f"no handler for this scenario (actions/setup or free-text keys: "
                        f"{sorted(unknown)})"]
            run_generic(ctx)
    except ScenarioFailed as error:
        ctx.fail(str(error))
    except Exception as error:   # noqa: BLE001 - an engine crash is a scenario failure
        ctx.fail(f"unexpected {type(error).__name__}: {error} at {_where(error)}")
    if ctx.failures:
        ctx.failures += _failed_jobs(runtime)
    return ctx.failures


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if "kestra_lite" in f.filename and "conformance" not in f.filename]
    frame = (own or frames)[-1] if (own or frames) else None
    if frame is None:
        return "?"
    return f"{Path(frame.filename).name}:{frame.lineno} ({frame.name})"


def _failed_jobs(runtime) -> list[str]:
    """Jobs that raised in the worker (an engine crash hidden behind a stuck execution)."""
    try:
        registry = runtime.queue.failed_job_registry
        messages = []
        for job_id in registry.get_job_ids()[:3]:
            job = runtime.queue.fetch_job(job_id)
            if job is None:
                continue
            info = (job.latest_result().exc_string if job.latest_result() else None) \
                or getattr(job, "exc_info", None) or ""
            lines = [l for l in str(info).strip().splitlines() if l.strip()]
            where = [l.strip() for l in lines if l.strip().startswith("File ") and "kestra_lite" in l]
            messages.append(f"worker job {job.func_name} failed: "
                            f"{lines[-1] if lines else '?'}"
                            f"{' at ' + where[-1] if where else ''}")
        return messages
    except Exception:   # noqa: BLE001 - diagnostics only
        return []


# -- hand-written scenarios --------------------------------------------------------------------

def _errors():
    from kestra_lite import errors
    return errors


def _services():
    from kestra_lite.services import executions
    return executions


def h_change_status(ctx: Context) -> None:
    service = _services()
    execution = ctx.settle(ctx.start().id)
    ctx.check(execution, {"state": "SUCCESS"}, prefix="before action: ")
    # POST /executions/{id}/change-status?status=WARNING -> service.change_status
    ctx.expect_ok("change-status", lambda: service.change_status(
        ctx.runtime, TENANT, execution.id, _state("WARNING")))
    ctx.check(ctx.load(execution.id))


def h_pause_finished(ctx: Context) -> None:
    service, errors = _services(), _errors()
    execution = ctx.settle(ctx.start().id)
    # http_status 422: the API maps IllegalTransition to 422 Unprocessable Entity
    ctx.expect_error("pause of a SUCCESS execution (http 422)", errors.IllegalTransition,
                     lambda: service.pause(ctx.runtime, TENANT, execution.id))


def h_restart_twice(ctx: Context) -> None:
    service = _services()
    execution = ctx.settle(ctx.start().id)
    ctx.check(execution, {"state": "FAILED"}, prefix="first run: ")
    for round_ in (1, 2):
        ctx.expect_ok(f"restart #{round_}",
                      lambda: service.restart(ctx.runtime, TENANT, execution.id))
        restarted = ctx.load(execution.id)
        ctx.check(restarted, {"state": "RESTARTED"}, prefix=f"right after restart #{round_}: ")
        final = ctx.settle(execution.id)
        ctx.check(final, prefix=f"after restart #{round_}: ")


def _pause_task_run(ctx: Context, execution):
    task_run = first_task_run(execution, "pause")
    if task_run is None:
        raise ScenarioFailed("no task run `pause`")
    return task_run


def h_pause_mark_running(ctx: Context) -> None:
    service = _services()
    execution = ctx.start()
    paused = ctx.wait_until(execution.id, "PAUSED")
    ctx.check(paused, ctx.expect["at_pause"], prefix="at_pause.")
    # ExecutionService.markAs(pause, RUNNING) == POST /executions/{id}/state
    ctx.expect_ok("mark task run `pause` RUNNING", lambda: service.mark_task_run(
        ctx.runtime, TENANT, execution.id, _pause_task_run(ctx, paused).id, _state("RUNNING")))
    final = ctx.settle(execution.id)
    ctx.check(final, {k: v for k, v in ctx.expect.items() if k != "at_pause"})


def h_resume_service(ctx: Context) -> None:
    service, errors = _services(), _errors()
    execution = ctx.start()
    ctx.wait_until(execution.id, "PAUSED")
    # ExecutionService.resume(execution, flow, RUNNING | KILLING): kestra-lite's resume has no
    # target-state parameter (the API always resumes to RUNNING); what is asserted upstream is
    # the execution right after the call, identical for both target states.
    ctx.expect_ok("resume", lambda: service.resume(ctx.runtime, TENANT, execution.id))
    ctx.check(ctx.load(execution.id), ctx.expect["after_resume"], prefix="after_resume.")
    if "resume_again_error" in ctx.expect:
        # IllegalArgumentException upstream; IllegalTransition here (API: 422/409)
        ctx.expect_error("resume again", errors.IllegalTransition,
                         lambda: service.resume(ctx.runtime, TENANT, execution.id))
    final = ctx.settle(execution.id)
    if not final.current.is_terminated:
        ctx.fail(f"after resume the execution did not end: {final.current.value} "
                 f"{_task_run_summary(final)}")


def h_resume_api(ctx: Context) -> None:
    service = _services()
    execution = ctx.start()
    ctx.wait_until(execution.id, "PAUSED")
    # POST /executions/{id}/resume without body: 204 == resume raises nothing
    ctx.expect_ok("resume", lambda: service.resume(ctx.runtime, TENANT, execution.id, {}))
    after = ctx.load(execution.id)
    if after.current.value == "PAUSED":
        ctx.fail("paused_after: the execution is still PAUSED after resume")
    ctx.settle(execution.id)


def _resume_other(ctx: Context, expect_resume: dict) -> None:
    paused = ctx.start("pause.yaml", inputs={}, labels=None, mode="parsed")
    ctx.wait_until(paused.id, "PAUSED")
    resumer = ctx.start("resume-execution.yaml", inputs={"executionId": paused.id},
                        labels=None, mode="raw")
    final = ctx.settle(resumer.id)
    ctx.check(final, expect_resume, prefix="resume-execution: ")
    other = ctx.settle(paused.id)
    if not other.current.is_terminated:
        ctx.fail(f"the paused execution is not terminated after the Resume task: "
                 f"{other.current.value} (history {_states(other)})")
    else:
        took = other.state.end_date - final.state.end_date
        if took > timedelta(seconds=5):
            ctx.fail(f"the paused execution ended {took.total_seconds():.1f}s after the "
                     f"Resume task (limit 5s)")


def h_resumed_by_resume_task(ctx: Context) -> None:
    _resume_other(ctx, {"state": ctx.expect["resume_execution_state"]})


def h_resumes_another_execution(ctx: Context) -> None:
    _resume_other(ctx, {"state": ctx.expect["state"]})


def _data_file_checks(ctx: Context, uri: Any, content: bytes | None, what: str) -> None:
    if not (isinstance(uri, str) and uri.startswith("kestra://")):
        ctx.fail(f"{what}: expected a kestra:// URI, got {uri!r}")
        return
    if content is None:
        return
    from kestra_lite.storage.internal import path_of
    try:
        data = ctx.runtime.storage.get(TENANT, path_of(uri))
    except Exception as error:   # noqa: BLE001
        ctx.fail(f"{what}: cannot read {uri}: {type(error).__name__}: {error}")
        return
    if data != content:
        ctx.fail(f"{what}: file content {data[:80]!r}, expected {content!r}")


def h_resume_with_inputs(ctx: Context) -> None:
    service = _services()
    execution = ctx.start()
    paused = ctx.wait_until(execution.id, "PAUSED")
    ctx.check(paused, ctx.expect["at_pause"], prefix="at_pause.")
    content = execution.id.encode()
    # multipart: asked=restarted + file part `files` named `data` -> {"data": (name, bytes)}
    ctx.expect_ok("resume with inputs", lambda: service.resume(
        ctx.runtime, TENANT, execution.id, {"asked": "restarted", "data": ("data", content)}))
    final = ctx.settle(execution.id)
    ctx.check(final, {"state": ctx.expect["state"]})
    last = first_task_run(final, "last")
    values = ((last.outputs or {}).get("values") or {}) if last else {}
    if values.get("asked") != "restarted":
        ctx.fail(f"task_outputs.last.values.asked: expected 'restarted', got "
                 f"{values.get('asked')!r} (outputs of last: {last.outputs if last else None})")
    _data_file_checks(ctx, values.get("data"), content, "task_outputs.last.values.data")


def h_resume_missing_input(ctx: Context) -> None:
    service, errors = _services(), _errors()
    execution = ctx.start()
    ctx.wait_until(execution.id, "PAUSED")
    # InvalidInput -> 422 in the API
    ctx.expect_error("resume without inputs", errors.InvalidInput,
                     lambda: service.resume(ctx.runtime, TENANT, execution.id, {}),
                     contains=ctx.expect["error_contains"])
    after = ctx.load(execution.id)
    if after.current.value != "PAUSED":
        ctx.fail(f"a refused resume changed the execution: {after.current.value}")


def h_resume_api_with_inputs(ctx: Context) -> None:
    # The HTTP part (multipart parsing, 204) belongs to the REST API (issue 4); the
    # service-level behaviour (onResume outputs, no longer paused) is checked here.
    service = _services()
    execution = ctx.start()
    ctx.wait_until(execution.id, "PAUSED")
    content = b"hello"
    ctx.expect_ok("resume with inputs", lambda: service.resume(
        ctx.runtime, TENANT, execution.id, {"asked": "myString", "data": ("data", content)}))
    if ctx.load(execution.id).current.value == "PAUSED":
        ctx.fail("paused_after: the execution is still PAUSED after resume")
    final = ctx.settle(execution.id)
    pause = first_task_run(final, "pause")
    outputs = (pause.outputs or {}) if pause else {}
    found, asked = lookup(outputs, "onResume.asked")
    if asked != "myString":
        ctx.fail(f"task_outputs.pause.onResume.asked: expected 'myString', got {asked!r} "
                 f"(outputs of pause: {outputs})")
    found, data = lookup(outputs, "onResume.data")
    _data_file_checks(ctx, data, content, "task_outputs.pause.onResume.data")


def h_resume_optional(ctx: Context) -> None:
    service = _services()
    execution = ctx.start()
    ctx.wait_until(execution.id, "PAUSED")
    ctx.expect_ok("resume without inputs",
                  lambda: service.resume(ctx.runtime, TENANT, execution.id))
    ctx.check(ctx.settle(execution.id))


def h_sleep_manual_pause(ctx: Context) -> None:
    service, errors = _services(), _errors()
    execution = ctx.start()
    current = ctx.load(execution.id)
    if current.current.value != "RUNNING":
        raise ScenarioFailed(f"the new execution is {current.current.value}, not RUNNING")
    # POST /executions/{id}/pause -> 200 == pause raises nothing (the Sleep task is queued or
    # running: the queue has not been worked yet)
    ctx.expect_ok("pause a RUNNING execution",
                  lambda: service.pause(ctx.runtime, TENANT, execution.id))
    paused = ctx.work(execution.id)
    if paused.current.value != "PAUSED":
        ctx.fail(f"after pause and working the queue: {paused.current.value}, expected PAUSED "
                 f"(history {_states(paused)})")
    # POST /executions/{id}/resume -> 204 == resume raises nothing
    ctx.expect_ok("resume the paused execution",
                  lambda: service.resume(ctx.runtime, TENANT, execution.id))
    final = ctx.settle(execution.id)
    if not final.current.is_terminated:
        ctx.fail(f"after resume the execution did not end: {final.current.value}"
                 f"{_task_run_summary(final)}")
    # POST /executions/notfound/pause -> 404 == NotFound
    ctx.expect_error("pause of an unknown execution (http 404)", errors.NotFound,
                     lambda: service.pause(ctx.runtime, TENANT, "notfound"))


def _api(ctx: Context, *, authenticated: bool = True):
    """`call(method, url, **kwargs)` on the REST API: the real Flask app, in-process, on the
    scenario's runtime, authenticated with a personal API token (or with no credentials
    at all, for the open webhook endpoints)."""
    from kestra_lite.services import accounts
    from kestra_lite.web import create_app
    app = create_app(ctx.runtime.settings)
    app.extensions["kestra_runtime"] = ctx.runtime
    user = (accounts.store.find_user("conformance@kestra-lite.local")
            or accounts.create_user("conformance@kestra-lite.local", secrets.token_urlsafe(16)))
    _, token = accounts.create_token(user.id, "conformance")
    client = app.test_client()

    def call(method: str, url: str, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if authenticated else {}
        return getattr(client, method)(url, headers=headers, **kwargs)
    return call


def _expect_count(ctx: Context, what: str, response, count: int) -> None:
    body = response.get_json(silent=True) or {}
    if response.status_code != 200 or body.get("count") != count:
        ctx.fail(f"{what}: expected 200 with count {count}, got {response.status_code} "
                 f"{response.get_data(as_text=True)[:300]}")


def h_resume_by_ids_api(ctx: Context) -> None:
    executions = [ctx.start(), ctx.start()]
    for execution in executions:
        ctx.wait_until(execution.id, "PAUSED")
    call = _api(ctx)
    ids = [execution.id for execution in executions]
    _expect_count(ctx, "POST /executions/resume/by-ids",
                  call("post", "/api/v1/executions/resume/by-ids", json=ids), 2)
    for execution_id in ids:
        if ctx.load(execution_id).current.value == "PAUSED":
            ctx.fail(f"paused_after: {execution_id} is still PAUSED after resume/by-ids")
    again = call("post", "/api/v1/executions/resume/by-ids", json=ids)
    if again.status_code != 400:
        ctx.fail(f"second resume/by-ids: expected 400 (not PAUSED any more), got "
                 f"{again.status_code} {again.get_data(as_text=True)[:300]}")
    for execution_id in ids:
        ctx.settle(execution_id)


def h_bulk_pause(ctx: Context) -> None:
    call = _api(ctx)
    by_ids = [ctx.start() for _ in range(3)]
    for execution in by_ids:
        if ctx.load(execution.id).current.value != "RUNNING":
            raise ScenarioFailed(f"{execution.id} is not RUNNING after creation")
    _expect_count(ctx, "POST /executions/pause/by-ids",
                  call("post", "/api/v1/executions/pause/by-ids",
                       json=[execution.id for execution in by_ids]), 3)
    for execution in by_ids:
        paused = ctx.work(execution.id)
        if paused.current.value != "PAUSED":
            ctx.fail(f"{execution.id} is {paused.current.value} after pause/by-ids")
        ctx.expect_ok("kill", lambda: _services().kill(ctx.runtime, TENANT, execution.id))
        ctx.settle(execution.id)
    by_query = [ctx.start() for _ in range(3)]
    _expect_count(ctx, "POST /executions/pause/by-query?namespace=io.kestra.tests&state=RUNNING",
                  call("post", "/api/v1/executions/pause/by-query"
                               "?namespace=io.kestra.tests&state=RUNNING"), 3)
    for execution in by_query:
        if ctx.work(execution.id).current.value != "PAUSED":
            ctx.fail(f"{execution.id} is not PAUSED after pause/by-query")


def h_kv_existing(ctx: Context) -> None:
    from kestra_lite.model.state import utcnow
    from kestra_lite.store import kv
    kv.kv_put(TENANT, "io.kestra.tests", "my-key", {"field": "value"}, now=utcnow())
    run_generic(ctx)


def h_kv_missing(ctx: Context) -> None:
    from kestra_lite.model.state import utcnow
    from kestra_lite.store import kv
    # setup "KV namespace io.kestra.tests is empty" (a shared DATABASE_URL may hold the key
    # of get-existing)
    for key in kv.kv_keys(TENANT, "io.kestra.tests", now=utcnow()):
        kv.kv_delete(TENANT, "io.kestra.tests", key)
    if kv.kv_keys(TENANT, "io.kestra.tests", now=utcnow()):
        raise ScenarioFailed("KV namespace io.kestra.tests is not empty")
    run_generic(ctx)


def _concurrency(ctx: Context) -> None:
    first = ctx.start()
    # "wait until RUNNING": it starts its 1s Pause right away
    first_now = ctx.work(first.id)
    if first_now.current.is_terminated:
        raise ScenarioFailed(f"execution 1 already ended ({first_now.current.value}) before "
                             "execution 2 was created")
    second = ctx.start()
    ctx.work(second.id)
    final_first = ctx.settle(first.id)
    final_second = ctx.settle(second.id)
    ctx.check(final_first, ctx.expect["execution_1"], prefix="execution_1.")
    ctx.check(final_second, ctx.expect["execution_2"], prefix="execution_2.")


def _inputs_base(ctx: Context) -> dict:
    base = dict(ctx.corpus.entry("inputs.yaml").get("base_inputs") or {})
    folder = Path(tempfile.mkdtemp(prefix="kestra-lite-conformance-"))
    file = folder / "application-test.yml"
    file.write_text("kestra:\n  conformance: true\n", encoding="utf-8")
    ctx.runtime.__dict__.setdefault("_conformance_tmp", []).append(folder)
    base["file"] = str(file)
    return base


def _typed(ctx: Context, want: Any, got: Any, subject: Subject, path: str) -> None:
    if isinstance(want, str):
        not_equal = re.fullmatch(r"NOT equal to '(.*)'.*", want)
        if not_equal:
            if got == not_equal.group(1) or got is None:
                ctx.fail(f"{path}: expected a value other than {not_equal.group(1)!r}, "
                         f"got {got!r}")
            return
        annotated = re.fullmatch(r"(\S+) \((instant|date|time|duration)[^)]*\)", want)
        if annotated:
            want = annotated.group(1)
    if isinstance(want, dict) and isinstance(got, dict):
        for key, value in want.items():
            if key not in got:
                ctx.fail(f"{path}.{key}: missing (keys {sorted(got)})")
            else:
                _typed(ctx, value, got[key], subject, f"{path}.{key}")
        return
    ctx.failures.extend(match(want, got, subject, path))


def h_inputs_typed(ctx: Context) -> None:
    execution = ctx.start(inputs=_inputs_base(ctx))
    subject = Subject(execution)
    stored = ctx.load(execution.id)
    for key, want in ctx.expect["typed_inputs"].items():
        if key not in stored.inputs:
            ctx.fail(f"typed_inputs.{key}: missing (inputs: {sorted(stored.inputs)})")
            continue
        _typed(ctx, want, stored.inputs[key], subject, f"typed_inputs.{key}")
    ctx.settle(execution.id)


def h_inputs_optional_missing(ctx: Context) -> None:
    base = _inputs_base(ctx)
    base.pop("bool")
    execution = ctx.start(inputs=base)
    stored = ctx.load(execution.id)
    key = ctx.expect["typed_inputs_has_key_with_null"]
    if key not in stored.inputs:
        ctx.fail(f"typed_inputs: no key {key!r} (inputs: {sorted(stored.inputs)})")
    elif stored.inputs[key] is not None:
        ctx.fail(f"typed_inputs.{key}: expected null, got {stored.inputs[key]!r}")
    ctx.settle(execution.id)


def h_inputs_run(ctx: Context) -> None:
    execution = ctx.start(inputs=_inputs_base(ctx))
    ctx.check(ctx.settle(execution.id))


def h_inputs_empty_json(ctx: Context) -> None:
    base = _inputs_base(ctx)
    base["json"] = "{}"
    execution = ctx.start(inputs=base)
    final = ctx.settle(execution.id)
    for key, want in ctx.expect["execution_inputs"].items():
        got = final.inputs.get(key, "<missing>")
        if got != want:
            ctx.fail(f"execution_inputs.{key}: expected {want!r}, got {got!r}")
    ctx.check(final, {k: v for k, v in ctx.expect.items() if k != "execution_inputs"})


def h_inputs_validation(ctx: Context) -> None:
    errors = _errors()
    base = _inputs_base(ctx)
    for override, message in ctx.expect["errors_by_override"].items():
        key, _, raw = override.partition("=")
        inputs = dict(base)
        if raw == "null":
            inputs.pop(key, None)
        else:
            inputs[key] = raw
        # InvalidInput -> 422 in the API (POST /executions/{namespace}/{id})
        try:
            execution = ctx.start(inputs=inputs)
        except errors.InvalidInput as error:
            text = str(error)
            variants = [message]
            if "`01:00`" in message:   # Java prints LocalTime 01:00:00 as 01:00
                variants.append(message.replace("`01:00`", "`01:00:00`"))
            if not any(v in text for v in variants):
                ctx.fail(f"{override}: expected an error containing {message!r}, got {text!r}")
            continue
        except Exception as error:   # noqa: BLE001
            ctx.fail(f"{override}: expected InvalidInput, got {type(error).__name__}: {error}")
            continue
        ctx.fail(f"{override}: accepted (execution {execution.id}), expected {message!r}")


def h_switch_as_subflow(ctx: Context) -> None:
    for value, want in ctx.expect["by_input"].items():
        parent = ctx.start("task-flow.yaml", inputs={"string": value}, labels=None, mode="raw")
        ctx.settle(parent.id)
        subject = Subject(ctx.load(parent.id))
        children = subject.children()
        if not children:
            ctx.fail(f"by_input.{value}: task-flow created no switch execution")
            continue
        child = ctx.settle(children[0].id)
        ctx.check(child, want, prefix=f"by_input.{value}.")


def _value_of(ctx: Context, execution, task_id: str, values: list) -> str | None:
    subject = Subject(execution)
    task_run = _task_run_by_values(subject, task_id, values)
    if task_run is None:
        ctx.fail(f"output_relations: no task run of {task_id} for values {values}")
        return None
    value = (task_run.outputs or {}).get("value")
    if not isinstance(value, str):
        ctx.fail(f"output_relations: {task_id}{values} has no string output value "
                 f"({task_run.outputs!r})")
        return None
    return value


def h_each_sequential_nested(ctx: Context) -> None:
    execution = ctx.start()
    final = ctx.settle(execution.id)
    ctx.check(final, {k: v for k, v in ctx.expect.items() if k != "output_relations"})
    v121 = _value_of(ctx, final, "1-2-1_return", ["s1", "a a"])
    v2 = _value_of(ctx, final, "2_return", [])
    v11 = _value_of(ctx, final, "1-1_return", ["s1"])
    v13 = _value_of(ctx, final, "1-3_return", ["s1"])
    v122 = _value_of(ctx, final, "1-2-2_return", ["s1", "a a"])
    if v121 is not None and v2 is not None and v121 not in v2:
        ctx.fail(f"output_relations[0]: 2_return {v2!r} does not contain 1-2-1_return[s1, a a] "
                 f"{v121!r}")
    if v11 is not None and v13 is not None and v11 not in v13:
        ctx.fail(f"output_relations[1]: 1-3_return[s1] {v13!r} does not contain "
                 f"1-1_return[s1] {v11!r}")
    if v121 is not None and v122 is not None and f"get {v121}" not in v122:
        ctx.fail(f"output_relations[2]: 1-2-2_return[s1, a a] {v122!r} does not contain "
                 f"{'get ' + v121!r}")


# -- webhooks, through HTTP ----------------------------------------------------------------------

# the requests of ExecutionControllerTest#webhook, by `expect` key
WEBHOOK_REQUESTS = {
    "post_json": ("post", "?name=john&age=12&age=13", {"json": {"a": 1, "b": True}}),
    "put_array": ("put", "", {"json": [{"a": 1, "b": True}]}),
    "post_text": ("post", "", {"data": "bla", "content_type": "text/plain"}),
    "get": ("get", "", {}),
}


def _webhook_url(ctx: Context) -> str:
    from kestra_lite.model.triggers import WEBHOOK
    namespace, flow_id = ctx.corpus.flow_ref(ctx.file)
    keys = [t["key"] for t in ctx.flow().triggers if t["type"] == WEBHOOK]
    if not keys:
        raise ScenarioFailed(f"flow {namespace}.{flow_id} has no Webhook trigger")
    return f"/api/v1/executions/webhook/{namespace}/{flow_id}/{keys[0]}"


def h_webhook_requests(ctx: Context) -> None:
    """Each request with no credentials; the answer is the created execution, whose trigger
    variables (and first labels) are checked, then it is run to its end."""
    call, url = _api(ctx, authenticated=False), _webhook_url(ctx)
    for key, want in ctx.expect.items():
        method, query, kwargs = WEBHOOK_REQUESTS[key]
        response = call(method, url + query, **kwargs)
        body = response.get_json(silent=True) or {}
        if response.status_code != 200 or "id" not in body:
            ctx.fail(f"{key}: {method.upper()} {url + query}: expected 200 with the execution, "
                     f"got {response.status_code} {response.get_data(as_text=True)[:300]}")
            continue
        ctx.started.append(body["id"])
        subject = Subject(ctx.load(body["id"]))
        variables = (body.get("trigger") or {}).get("variables") or {}
        ctx.failures += match(want.get("trigger_variables") or {}, variables, subject,
                              f"{key}.trigger_variables")
        if "labels_first_two" in want:
            got = [{label["key"]: label["value"]} for label in (body.get("labels") or [])[:2]]
            if got != want["labels_first_two"]:
                ctx.fail(f"{key}.labels_first_two: expected {want['labels_first_two']}, "
                         f"got {got}")
        ctx.settle(body["id"])


def h_webhook_unknown_flow(ctx: Context) -> None:
    call = _api(ctx, authenticated=False)
    url = "/api/v1/executions/webhook/not-found/webhook/not-found"
    for method in ("post", "put", "get"):
        response = call(method, url)
        what = f"{method.upper()} {url}"
        if response.status_code != ctx.expect["http_status"]:
            ctx.fail(f"{what}: expected {ctx.expect['http_status']}, got "
                     f"{response.status_code} {response.get_data(as_text=True)[:300]}")
        message = (response.get_json(silent=True) or {}).get("message")
        if not isinstance(message, str) or ctx.expect["message_contains"] not in message:
            ctx.fail(f"{what}: expected a message containing "
                     f"{ctx.expect['message_contains']!r}, got {message!r}")


# -- Flow triggers ---------------------------------------------------------------------------------

ACTION = re.compile(r"run (\S+)(?: again)? -> (\w+)(?:, (\d+) task runs?)?")
TRIGGERED_KEYS = {"count", "outputs_status_in_order", "trigger_variables"}


def _file_of(ctx: Context, flow_id: str) -> str:
    for file in [ctx.file] + list(ctx.corpus.entry(ctx.file).get("requires_flows") or []):
        if ctx.corpus.flow_ref(file)[1] == flow_id:
            return file
    raise ScenarioFailed(f"no flow {flow_id} among the scenario's flows")


def _run_upstream(ctx: Context, file: str, expect: dict):
    """Start an upstream execution, run it to its end, check `expect` on it."""
    execution = ctx.start(file, inputs={}, labels=None, mode="parsed")
    final = ctx.settle(execution.id)
    ctx.check(final, expect, prefix=f"{ctx.corpus.flow_ref(file)[1]} {execution.id}: ")
    return final


def _run_actions(ctx: Context) -> list:
    """The scenario's `run <flow> -> STATE[, N task run(s)]` actions, in order."""
    upstreams = []
    for action in ctx.scenario.get("actions") or []:
        found = ACTION.fullmatch(action.strip())
        if found is None:
            raise ScenarioFailed(f"action {action!r} is not `run <flow> -> STATE`")
        expect = {"state": found.group(2)}
        if found.group(3):
            expect["taskrun_count"] = int(found.group(3))
        upstreams.append(_run_upstream(ctx, _file_of(ctx, found.group(1)), expect))
    return upstreams


def _work_queue(ctx: Context) -> None:
    """Evaluate what is left (trigger events a process left behind) and run what is queued."""
    from kestra_lite import scheduler
    from kestra_lite.model.state import utcnow
    from kestra_lite.worker import build_worker
    scheduler.tick(ctx.runtime, utcnow())
    build_worker(ctx.runtime).work(burst=True, logging_level="WARNING")


def _triggered_executions(ctx: Context, wait: timedelta) -> dict[str, list]:
    """flow id -> the executions of each flow of `triggered` (oldest first), once they
    exist (`count`, else at least one) and have all ended; waits for them at most `wait`."""
    from kestra_lite.store import executions as store
    want = ctx.expect["triggered"]
    refs = {flow_id: ctx.corpus.flow_ref(_file_of(ctx, flow_id)) for flow_id in want}
    deadline = time.monotonic() + max(wait.total_seconds(), 0.5)
    give_up = time.monotonic() + SETTLE_SECONDS
    while True:
        found = {flow_id: store.search_executions(TENANT, *refs[flow_id], limit=1000,
                                                  oldest_first=True) for flow_id in want}
        pending = [e for runs in found.values() for e in runs if not e.current.is_terminated]
        for execution in pending:
            ctx.settle(execution.id)
        if pending and time.monotonic() < give_up:
            continue        # their ends may trigger more
        complete = all(len(found[f]) >= (want[f] or {}).get("count", 1) for f in want)
        if complete or time.monotonic() > deadline:
            return found
        _work_queue(ctx)
        time.sleep(0.05)


def _with_upstream_ids(value: Any, ids: dict[str, str]) -> Any:
    """`<trigger-flow execution id>` -> the id of the scenario's trigger-flow execution."""
    if isinstance(value, dict):
        return {key: _with_upstream_ids(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_upstream_ids(item, ids) for item in value]
    if isinstance(value, str):
        for flow_id, execution_id in ids.items():
            value = value.replace(f"<{flow_id} execution id>", execution_id)
    return value


def _check_triggered_flow(ctx: Context, flow_id: str, runs: list, want: dict) -> None:
    where = f"triggered.{flow_id}"
    if "count" in want and len(runs) != want["count"]:
        states = [((e.trigger or {}).get("variables") or {}).get("state") for e in runs]
        ctx.fail(f"{where}.count: expected {want['count']} executions, got {len(runs)} "
                 f"(upstream states {states})")
    elif not runs:
        ctx.fail(f"{where}: no execution was created by a Flow trigger")
    if "outputs_status_in_order" in want:
        got = [(e.outputs or {}).get("status") for e in runs]
        if got != list(want["outputs_status_in_order"]):
            ctx.fail(f"{where}.outputs_status_in_order: expected "
                     f"{want['outputs_status_in_order']}, got {got}")
    checked = {key: value for key, value in want.items() if key not in TRIGGERED_KEYS}
    for index, execution in enumerate(runs):
        subject = Subject(execution)
        prefix = f"{where}[{index}] {execution.id}."
        ctx.failures += check_expect(subject, checked, prefix=prefix)
        if "trigger_variables" in want:
            variables = (execution.trigger or {}).get("variables") or {}
            ctx.failures += match(want["trigger_variables"], variables, subject,
                                  prefix + "trigger_variables")


def _check_triggered(ctx: Context, upstreams: list) -> None:
    """The executions Flow triggers created after the upstream runs: each flow of
    `triggered` checked, the first one created within `triggered_within` of the last
    upstream's end (the upstream test's timeout, also the longest wait here)."""
    from kestra_lite.model.durations import parse_duration
    within = parse_duration(ctx.expect["triggered_within"]) \
        if "triggered_within" in ctx.expect else timedelta(seconds=PAUSE_WAIT_SECONDS)
    found = _triggered_executions(ctx, within)
    ids = {execution.flow_id: execution.id for execution in upstreams}
    ends = [execution.state.end_date for execution in upstreams if execution.state.end_date]
    last_end = max(ends) if ends else None      # an upstream that did not end has failed
    for flow_id, want in ctx.expect["triggered"].items():
        runs = found.get(flow_id) or []
        _check_triggered_flow(ctx, flow_id, runs, _with_upstream_ids(want or {}, ids))
        if runs and last_end and "triggered_within" in ctx.expect:
            lag = runs[0].state.histories[0].date - last_end
            if lag > within:
                ctx.fail(f"triggered_within: {flow_id} was created "
                         f"{lag.total_seconds():.2f}s after the upstream ended "
                         f"(limit {ctx.expect['triggered_within']})")


def h_flow_triggers(ctx: Context) -> None:
    """Run the scenario's flow (or its `actions`), then check what its listeners did."""
    upstream_keys = {k: v for k, v in ctx.expect.items()
                     if k not in ("triggered", "triggered_within")}
    if ctx.scenario.get("actions"):
        upstreams = _run_actions(ctx)
    else:
        upstreams = [_run_upstream(ctx, ctx.file, upstream_keys)]
    _check_triggered(ctx, upstreams)


HANDLERS: dict[tuple[str, str], Callable[[Context], None]] = {
    ("minimal.yaml", "change-status-of-terminated-execution"): h_change_status,
    ("minimal.yaml", "pause-a-finished-execution"): h_pause_finished,
    ("failed-first.yaml", "restart-twice"): h_restart_twice,
    ("pause.yaml", "pause-then-mark-running"): h_pause_mark_running,
    ("pause.yaml", "resume-service"): h_resume_service,
    ("pause.yaml", "resume-service-to-killing"): h_resume_service,
    ("pause.yaml", "resume-api"): h_resume_api,
    ("pause.yaml", "resumed-by-resume-task"): h_resumed_by_resume_task,
    ("pause_no_tasks.yaml", "pause-without-children"): h_pause_mark_running,
    ("pause_on_resume.yaml", "resume-with-inputs"): h_resume_with_inputs,
    ("pause_on_resume.yaml", "resume-missing-required-input"): h_resume_missing_input,
    ("pause_on_resume.yaml", "resume-api-with-inputs"): h_resume_api_with_inputs,
    ("pause_on_resume_optional.yaml", "resume-without-optional-input"): h_resume_optional,
    ("resume-execution.yaml", "resumes-another-execution"): h_resumes_another_execution,
    ("sleep.yml", "manual-pause-and-resume"): h_sleep_manual_pause,
    ("sleep.yml", "bulk-pause"): h_bulk_pause,
    ("pause.yaml", "resume-by-ids-api"): h_resume_by_ids_api,
    ("kv.yaml", "get-existing"): h_kv_existing,
    ("kv.yaml", "missing-key"): h_kv_missing,
    ("flow-concurrency-cancel-pause.yml", "second-execution-cancelled"): _concurrency,
    ("flow-concurrency-queue-pause.yml", "second-execution-queued"): _concurrency,
    ("inputs.yaml", "typed-parsing"): h_inputs_typed,
    ("inputs.yaml", "optional-missing-is-null"): h_inputs_optional_missing,
    ("inputs.yaml", "run"): h_inputs_run,
    ("inputs.yaml", "empty-json"): h_inputs_empty_json,
    ("inputs.yaml", "validation-errors"): h_inputs_validation,
    ("switch.yaml", "final-states-when-used-as-subflow"): h_switch_as_subflow,
    ("each-sequential-nested.yaml", "nested-outputs-lookup"): h_each_sequential_nested,
    ("webhook.yaml", "webhook-requests"): h_webhook_requests,
    ("webhook.yaml", "unknown-flow"): h_webhook_unknown_flow,
    ("trigger-flow.yaml", "flow-triggers"): h_flow_triggers,
    ("trigger-flow-with-pause.yaml", "listener-sees-intermediate-states"): h_flow_triggers,
    ("flow-trigger-preconditions-flow-listen.yaml", "preconditions-flows-and-where"):
        h_flow_triggers,
}


# -- isolated runtimes and the CLI entry point ----------------------------------------------

def open_runtime(settings):
    from kestra_lite.services import runtime as runtimes
    if not settings.encryption_key:
        settings = dataclasses.replace(settings, encryption_key=secrets.token_urlsafe(32))
    runtime = runtimes.Runtime(settings, migrate=True)
    runtimes.install(runtime)
    return runtime


def close_runtime(runtime) -> None:
    """Stop what a scenario left behind (kill unfinished executions), empty its queue."""
    from kestra_lite.services import runtime as runtimes
    from kestra_lite.store import db
    try:
        _kill_leftovers(runtime)
    finally:
        try:
            runtime.queue.empty()
            runtime.redis.close()
        except Exception:   # noqa: BLE001
            pass
        for folder in runtime.__dict__.pop("_conformance_tmp", []):
            shutil.rmtree(folder, ignore_errors=True)
        runtimes.install(None)
        db.close()


def _kill_leftovers(runtime) -> None:
    from kestra_lite.services import executions as service
    from kestra_lite.store import executions as store
    try:
        leftovers = [e for e in store.search_executions(TENANT)
                     if not e.current.is_terminated]
    except Exception:   # noqa: BLE001
        return
    for execution in leftovers:
        try:
            service.kill(runtime, TENANT, execution.id)
        except Exception:   # noqa: BLE001
            pass


def scenario_ids(corpus: Corpus) -> list[tuple[str, str, dict]]:
    return [(file, scenario["name"], scenario) for file, scenario in corpus.scenarios()]


def main(settings, corpus_dir) -> int:
    corpus = load_corpus(corpus_dir)
    passed = failed = skipped = 0
    for file, name, scenario in scenario_ids(corpus):
        if (file, name) in SKIPS:
            skipped += 1
            print(f"SKIP {file}::{name}: {SKIPS[(file, name)]}", flush=True)
            continue
        scratch = Path(tempfile.mkdtemp(prefix="kestra-lite-conformance-"))
        runtime = None
        try:
            from kestra_lite.services.flow_test import isolated_settings
            runtime = open_runtime(isolated_settings(settings, scratch))
            failures = run_scenario(runtime, corpus, file, scenario)
        except Exception as error:   # noqa: BLE001
            failures = [f"harness error {type(error).__name__}: {error} at {_where(error)}"]
        finally:
            if runtime is not None:
                close_runtime(runtime)
            shutil.rmtree(scratch, ignore_errors=True)
        if failures:
            failed += 1
            print(f"FAIL {file}::{name}: " + " | ".join(failures).replace("\n", " "),
                  flush=True)
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 0 if failed == 0 else 1
