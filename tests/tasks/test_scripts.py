"""Script tasks end to end: real flows, a real RQ worker (burst mode, or a worker process),
real child processes. Nothing is mocked, except a Docker engine: there is none on the test
machine, so one test stands a tiny unix-socket server in for its ping endpoint."""
from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from kestra_lite.config import ConfigError, Settings
from kestra_lite.model.state import State
from kestra_lite.services import executions as service
from kestra_lite.services import flows as flow_service
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store
from kestra_lite.tasks.scripts import runner
from kestra_lite.tasks.scripts.files import glob_regex

TENANT = "main"
DEADLINE_SECONDS = 20.0


# -- helpers ---------------------------------------------------------------------------------
def deploy(runtime, source: str):
    return flow_service.deploy(runtime, TENANT, textwrap.dedent(source))


def run(runtime, flow, **kwargs):
    execution = service.create_execution(runtime, flow, **kwargs)
    run_until_settled(runtime, TENANT, execution.id)
    return store.load_execution(TENANT, execution.id)


def task_run(execution, task_id: str):
    return next(t for t in execution.task_runs if t.task_id == task_id)


def logs(execution, task_id: str | None = None) -> list[tuple[str, str]]:
    return [(log["level"], log["message"]) for log in log_store.execution_logs(TENANT, execution.id)
            if task_id is None or log["taskId"] == task_id]


def messages(execution, task_id: str | None = None) -> list[str]:
    return [message for _, message in logs(execution, task_id)]


def wait_until(condition, what: str, deadline: float = DEADLINE_SECONDS):
    """Poll `condition` until it returns something truthy (returned), failing after `deadline`."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def process_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for its parent counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] != "Z"


def read_pids(*paths: Path) -> list[int] | None:
    texts = [path.read_text().strip() if path.exists() else "" for path in paths]
    return [int(text) for text in texts] if all(texts) else None


PID_SCRIPT = """
    - id: sleep
      type: io.kestra.plugin.scripts.shell.Commands
      {extra}
      commands:
        - echo "$WORKING_DIR" > {dir}/workdir
        - sleep 30 & echo $! > {dir}/sleep.pid.tmp && mv {dir}/sleep.pid.tmp {dir}/sleep.pid
        - echo $$ > {dir}/shell.pid.tmp && mv {dir}/shell.pid.tmp {dir}/shell.pid
        - wait
"""


def sleeping_flow(runtime, flow_id: str, directory: Path, extra: str = ""):
    """A flow whose script writes its shell's and its `sleep 30`'s pids, then waits."""
    tasks = textwrap.indent(textwrap.dedent(PID_SCRIPT).format(dir=directory, extra=extra), "  ")
    return deploy(runtime, f"id: {flow_id}\nnamespace: company.team\ntasks:{tasks}")


def script_pids(directory: Path) -> list[int]:
    return wait_until(lambda: read_pids(directory / "shell.pid", directory / "sleep.pid"),
                      "the script to write its pids")


def in_background(action) -> threading.Thread:
    """Run `action` in a thread while the worker runs in the main thread (RQ's worker installs
    signal handlers, which only the main thread may do)."""
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


# -- shell basics ------------------------------------------------------------------------------
def test_shell_commands_report_vars_from_protocol_lines_and_the_exit_code(runtime):
    flow = deploy(runtime, """
        id: vars
        namespace: company.team
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - echo 'hello from the shell'
              - echo '::{"outputs":{"answer":42,"name":"kestra"}}::'
              - echo '::{"outputs":{"name":"lite"}}::'
              - echo '::{not json}::'
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    assert task_run(execution, "sh").outputs == {"exitCode": 0,
                                                 "vars": {"answer": 42, "name": "lite"}}
    assert logs(execution, "sh") == [("INFO", "hello from the shell"), ("INFO", "::{not json}::")]


def test_a_non_zero_exit_code_fails_the_task_with_the_code_in_the_error_log(runtime):
    flow = deploy(runtime, """
        id: exit3
        namespace: company.team
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - echo before
              - exit 3
    """)
    execution = run(runtime, flow)
    assert execution.current is State.FAILED
    assert ("ERROR", "Command failed with exit code 3") in logs(execution, "sh")


def test_fail_fast_stops_at_the_first_failing_command_unless_disabled(runtime):
    flow = deploy(runtime, """
        id: failfast
        namespace: company.team
        tasks:
          - id: lenient
            type: io.kestra.plugin.scripts.shell.Commands
            failFast: false
            commands:
              - "false"
              - echo lenient went on
          - id: strict
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - "false"
              - echo strict went on
    """)
    execution = run(runtime, flow)
    assert task_run(execution, "lenient").current is State.SUCCESS
    assert task_run(execution, "strict").current is State.FAILED
    assert "lenient went on" in messages(execution)
    assert "strict went on" not in messages(execution)
    assert "Command failed with exit code 1" in messages(execution, "strict")


def test_a_line_on_stderr_ends_the_task_warning_unless_warning_on_stderr_is_false(runtime):
    flow = deploy(runtime, """
        id: stderr
        namespace: company.team
        tasks:
          - id: warns
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - echo 'careful' >&2
          - id: quiet
            type: io.kestra.plugin.scripts.shell.Commands
            warningOnStdErr: false
            commands:
              - echo 'careful too' >&2
    """)
    execution = run(runtime, flow)
    assert task_run(execution, "warns").current is State.WARNING
    assert task_run(execution, "quiet").current is State.SUCCESS
    assert execution.current is State.WARNING
    assert logs(execution, "warns") == [("WARN", "careful")]
    assert logs(execution, "quiet") == [("WARN", "careful too")]


def test_before_commands_env_and_expressions_are_rendered(runtime):
    flow = deploy(runtime, """
        id: rendered
        namespace: company.team
        inputs:
          - id: who
            type: STRING
            defaults: world
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            beforeCommands:
              - export GREETING="hello"
            env:
              TARGET: "{{ inputs.who }}"
              FLOW: "{{ flow.id }}"
            commands:
              - echo "$GREETING $TARGET from $FLOW and {{ task.id }}"
              - test "$WORKING_DIR" = "$(pwd)" && test "{{ workingDir }}" = "$(pwd)"
              - test -d "$OUTPUT_DIR" && test "{{ outputDir }}" = "$OUTPUT_DIR"
              - echo "in working dir"
    """)
    execution = run(runtime, flow, inputs={"who": "kestra"})
    assert execution.current is State.SUCCESS
    assert messages(execution, "sh") == ["hello kestra from rendered and sh", "in working dir"]


def test_every_task_gets_a_fresh_working_directory_removed_afterwards(runtime):
    flow = deploy(runtime, """
        id: dirs
        namespace: company.team
        tasks:
          - id: first
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - touch leftover
              - echo "::{\\"outputs\\":{\\"dir\\":\\"$WORKING_DIR\\"}}::"
          - id: second
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - test ! -e leftover
              - echo "::{\\"outputs\\":{\\"dir\\":\\"$WORKING_DIR\\"}}::"
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    first, second = (task_run(execution, t).outputs["vars"]["dir"] for t in ("first", "second"))
    assert first != second
    assert not Path(first).exists() and not Path(second).exists()


# -- files ---------------------------------------------------------------------------------------
def test_input_files_are_written_and_output_files_uploaded_for_the_next_task(runtime):
    flow = deploy(runtime, """
        id: files
        namespace: company.team
        tasks:
          - id: make
            type: io.kestra.plugin.scripts.shell.Commands
            inputFiles:
              data/in.txt: "input for {{ flow.id }}"
            outputFiles:
              - "*.txt"
              - "reports/**.csv"
            commands:
              - tr a-z A-Z < data/in.txt > out.txt
              - mkdir -p reports/2024 && echo "a,b" > reports/2024/r.csv
              - echo "ignored" > not-matched.log
              - echo "from the output dir" > "$OUTPUT_DIR/extra.txt"
          - id: reuse
            type: io.kestra.plugin.scripts.shell.Commands
            inputFiles: '{"copy.txt": "{{ outputs.make.outputFiles[''out.txt''] }}"}'
            commands:
              - cat copy.txt
          - id: show
            type: io.kestra.plugin.core.log.Log
            message: "{{ read(outputs.make.outputFiles['out.txt']) | trim }} / {{ read(outputs.make.outputFiles['extra.txt']) | trim }}"
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    uploaded = task_run(execution, "make").outputs["outputFiles"]
    assert sorted(uploaded) == ["extra.txt", "out.txt", "reports/2024/r.csv"]
    assert all(uri.startswith("kestra:///company/team/files/executions/") for uri in uploaded.values())
    assert messages(execution, "reuse") == ["INPUT FOR FILES"]
    assert messages(execution, "show") == ["INPUT FOR FILES / from the output dir"]


def test_kestra_uris_in_commands_are_downloaded_and_replaced_by_local_paths(runtime):
    flow = deploy(runtime, """
        id: uris
        namespace: company.team
        tasks:
          - id: make
            type: io.kestra.plugin.scripts.shell.Commands
            outputFiles: [report.txt]
            commands:
              - echo "the report" > report.txt
          - id: use
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - cat {{ outputs.make.outputFiles['report.txt'] }}
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    assert messages(execution, "use") == ["the report"]


def test_output_file_globs_follow_kestras_java_glob_syntax():
    assert glob_regex("*.txt").fullmatch("a.txt")
    assert not glob_regex("*.txt").fullmatch("dir/a.txt")
    assert glob_regex("**.txt").fullmatch("dir/sub/a.txt")
    assert glob_regex("{a,b}.csv").fullmatch("b.csv")
    assert glob_regex("a,b.csv").fullmatch("a,b.csv")
    assert glob_regex("[!x]?.json").fullmatch("ab.json")
    assert not glob_regex("[!x]?.json").fullmatch("xb.json")


# -- languages -----------------------------------------------------------------------------------
def test_a_python_script_talks_to_kestra_through_the_real_kestra_package(runtime):
    flow = deploy(runtime, """
        id: pyscript
        namespace: company.team
        tasks:
          - id: py
            type: io.kestra.plugin.scripts.python.Script
            script: |
              from kestra import Kestra
              Kestra.outputs({"rows": 3, "flow": "{{ flow.id }}"})
              Kestra.logger().info("processed the rows")
              Kestra.counter("rows", 3, {"source": "test"})
              print("plain print")
          - id: complains
            type: io.kestra.plugin.scripts.python.Script
            script: |
              from kestra import Kestra
              Kestra.logger().error("something odd")
    """)
    execution = run(runtime, flow)
    assert task_run(execution, "py").current is State.SUCCESS
    assert task_run(execution, "py").outputs == {"exitCode": 0,
                                                 "vars": {"rows": 3, "flow": "pyscript"}}
    py_logs = logs(execution, "py")
    assert [level for level, message in py_logs if message.endswith("processed the rows")] == ["INFO"]
    assert ("DEBUG", "metric rows=3 source=test") in py_logs
    assert ("INFO", "plain print") in py_logs
    # Kestra.logger() prints ERROR lines on stderr: logged at their level, and the task warns
    assert task_run(execution, "complains").current is State.WARNING
    assert [level for level, message in logs(execution, "complains")
            if message.endswith("something odd")] == ["ERROR"]


def test_python_commands_run_the_workers_own_python(runtime):
    flow = deploy(runtime, """
        id: pycommands
        namespace: company.team
        tasks:
          - id: py
            type: io.kestra.plugin.scripts.python.Commands
            inputFiles:
              main.py: |
                import sys
                print(sys.prefix)
            commands:
              - python main.py
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    assert messages(execution, "py") == [sys.prefix]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed on this machine")
def test_node_script_and_commands_report_outputs(runtime):
    flow = deploy(runtime, """
        id: nodejs
        namespace: company.team
        tasks:
          - id: script
            type: io.kestra.plugin.scripts.node.Script
            script: |
              const total = [1, 2, 3].reduce((a, b) => a + b, 0);
              console.log("::" + JSON.stringify({outputs: {total}}) + "::");
              console.log("node says hi");
          - id: commands
            type: io.kestra.plugin.scripts.node.Commands
            inputFiles:
              main.js: 'console.log(`::{"outputs":{"from":"${process.argv[2]}"}}::`)'
            commands:
              - node main.js commands
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    assert task_run(execution, "script").outputs["vars"] == {"total": 6}
    assert messages(execution, "script") == ["node says hi"]
    assert task_run(execution, "commands").outputs["vars"] == {"from": "commands"}


# -- secrets and environment ------------------------------------------------------------------
def test_a_secret_echoed_by_a_script_is_masked_in_the_logs(make_runtime):
    runtime = make_runtime(secrets={"PASSWORD": base64.b64encode(b"hunter2-very-secret").decode()})
    flow = deploy(runtime, """
        id: masked
        namespace: company.team
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            env:
              PASSWORD: "{{ secret('PASSWORD') }}"
            commands:
              - echo "the password is $PASSWORD"
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    [line] = messages(execution, "sh")
    assert line.startswith("the password is **masked*") and "hunter2" not in line


def test_scripts_do_not_see_kestra_lite_settings_and_find_the_workers_python_first(runtime,
                                                                                    monkeypatch):
    monkeypatch.setenv("SECRET_LEAKED", "c2VjcmV0")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pass@db/leaked")
    monkeypatch.setenv("KESTRA_LITE_ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef-leaked")
    monkeypatch.setenv("SOME_USER_VARIABLE", "kept")
    flow = deploy(runtime, """
        id: environment
        namespace: company.team
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - env | cut -d= -f1 | sort
              - echo "PATH=$PATH"
    """)
    execution = run(runtime, flow)
    names = messages(execution, "sh")
    assert "SOME_USER_VARIABLE" in names and "WORKING_DIR" in names and "OUTPUT_DIR" in names
    assert not {"SECRET_LEAKED", "DATABASE_URL", "KESTRA_LITE_ENCRYPTION_KEY", "SECRET_KEY",
                "REDIS_URL"} & set(names)
    [path] = [line for line in names if line.startswith("PATH=")]
    assert path.startswith(f"PATH={os.path.dirname(sys.executable)}{os.pathsep}")


# -- live logs, kill, timeout, worker death --------------------------------------------------
def test_log_lines_reach_the_store_while_the_script_still_runs(runtime, tmp_path):
    release = tmp_path / "release"
    flow = deploy(runtime, f"""
        id: live
        namespace: company.team
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - echo "first line"
              - for i in $(seq 400); do [ -e {release} ] && break; sleep 0.05; done
              - echo "released"
    """)
    execution = service.create_execution(runtime, flow)
    seen_while_running: list[bool] = []

    def observe():
        try:
            wait_until(lambda: "first line" in messages(execution), "the first line in the log store")
            seen_while_running.append(not release.exists())
        finally:
            release.touch()

    observer = in_background(observe)
    run_until_settled(runtime, TENANT, execution.id)
    observer.join(DEADLINE_SECONDS)
    assert seen_while_running == [True]
    assert messages(store.load_execution(TENANT, execution.id), "sh") == ["first line", "released"]


def test_killing_the_execution_stops_the_script_processes(runtime, tmp_path):
    flow = sleeping_flow(runtime, "killed", tmp_path)
    execution = service.create_execution(runtime, flow)
    pids: list[int] = []

    def kill_when_started():
        pids.extend(script_pids(tmp_path))
        service.kill(runtime, TENANT, execution.id)

    killer = in_background(kill_when_started)
    started = time.monotonic()
    run_until_settled(runtime, TENANT, execution.id)
    killer.join(DEADLINE_SECONDS)
    assert time.monotonic() - started < 15
    assert store.load_execution(TENANT, execution.id).current is State.KILLED
    assert len(pids) == 2
    wait_until(lambda: not any(process_alive(pid) for pid in pids), "the script processes to end")


def test_a_task_timeout_fails_fast_and_stops_the_script_processes(runtime, tmp_path):
    flow = sleeping_flow(runtime, "timeout", tmp_path, extra="timeout: PT1S")
    started = time.monotonic()
    execution = run(runtime, flow)
    assert time.monotonic() - started < 10
    assert execution.current is State.FAILED
    assert any("Timeout" in message for message in messages(execution, "sleep"))
    pids = script_pids(tmp_path)
    wait_until(lambda: not any(process_alive(pid) for pid in pids), "the script processes to end")


def test_what_a_script_leaves_in_the_background_ends_with_the_task(runtime, tmp_path):
    flow = deploy(runtime, f"""
        id: background
        namespace: company.team
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - sleep 30 > /dev/null 2>&1 & echo $! > {tmp_path}/bg.pid
              - echo started
    """)
    started = time.monotonic()
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS and time.monotonic() - started < 10
    pid = int((tmp_path / "bg.pid").read_text())
    wait_until(lambda: not process_alive(pid), "the background sleep to end")


def test_a_worker_killed_with_sigkill_leaves_no_script_running(runtime, settings, tmp_path):
    flow = sleeping_flow(runtime, "orphan", tmp_path)
    service.create_execution(runtime, flow)
    worker = subprocess.Popen([sys.executable, "-m", "kestra_lite.cli", "worker"],
                              env=settings.child_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        pids = script_pids(tmp_path)
        assert all(process_alive(pid) for pid in pids)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    wait_until(lambda: not any(process_alive(pid) for pid in pids), "the orphaned script to end")
    shutil.rmtree((tmp_path / "workdir").read_text().strip())   # a dead worker cannot clean up


# -- task runners ---------------------------------------------------------------------------------
def test_a_container_image_logs_one_process_runner_warning_and_still_succeeds(runtime):
    flow = deploy(runtime, """
        id: docker
        namespace: company.team
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            containerImage: ubuntu
            commands:
              - echo "ran anyway"
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    warnings = [message for level, message in logs(execution, "sh") if level == "WARN"]
    assert len(warnings) == 1
    assert "no Docker engine answered" in warnings[0] and "Process runner" in warnings[0]
    assert "ubuntu" in warnings[0]
    assert "ran anyway" in messages(execution, "sh")


def test_a_docker_task_runner_fails_when_the_fallback_setting_says_fail(make_runtime):
    runtime = make_runtime(docker_fallback="fail")
    flow = deploy(runtime, """
        id: strictdocker
        namespace: company.team
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.python.Script
            taskRunner:
              type: io.kestra.plugin.scripts.runner.docker.Docker
            containerImage: python:3.12-slim
            script: print("must not run")
    """)
    execution = run(runtime, flow)
    assert execution.current is State.FAILED
    [error] = [message for level, message in logs(execution, "sh") if level == "ERROR"]
    assert "no Docker engine answered" in error and "KESTRA_LITE_DOCKER_FALLBACK=fail" in error
    assert "must not run" not in messages(execution)


def test_the_process_runner_and_the_default_runner_log_no_warning(runtime):
    flow = deploy(runtime, """
        id: process
        namespace: company.team
        tasks:
          - id: explicit
            type: io.kestra.plugin.scripts.shell.Commands
            taskRunner:
              type: io.kestra.plugin.core.runner.Process
            containerImage: ubuntu
            commands:
              - echo explicit
          - id: default
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - echo default
    """)
    execution = run(runtime, flow)
    assert execution.current is State.SUCCESS
    assert logs(execution, "explicit") == [("INFO", "explicit")]
    assert logs(execution, "default") == [("INFO", "default")]


def test_a_docker_engine_that_answers_is_reported_as_unused(runtime, monkeypatch):
    with tempfile.TemporaryDirectory(prefix="kl-") as directory:
        path = os.path.join(directory, "docker.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)

        def answer_ping():
            connection, _ = server.accept()
            with connection:
                connection.recv(1024)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

        pinger = in_background(answer_ping)
        monkeypatch.setattr(runner, "DOCKER_SOCKET", path)
        flow = deploy(runtime, """
            id: engine
            namespace: company.team
            tasks:
              - id: sh
                type: io.kestra.plugin.scripts.shell.Commands
                runner: DOCKER
                commands:
                  - echo "ran as a process"
        """)
        execution = run(runtime, flow)
        pinger.join(DEADLINE_SECONDS)
        server.close()
    assert execution.current is State.SUCCESS
    [warning] = [message for level, message in logs(execution, "sh") if level == "WARN"]
    assert "a Docker engine answered" in warning and "does not run containers" in warning


def test_the_docker_fallback_setting_accepts_process_or_fail_only():
    assert Settings.from_env({}).docker_fallback == "process"
    assert Settings.from_env({"KESTRA_LITE_DOCKER_FALLBACK": "FAIL"}).docker_fallback == "fail"
    with pytest.raises(ConfigError, match="KESTRA_LITE_DOCKER_FALLBACK"):
        Settings.from_env({"KESTRA_LITE_DOCKER_FALLBACK": "docker"})
