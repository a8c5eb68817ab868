"""`kestra-lite flow test` as a user runs it: a real process, the machine's Redis, a throwaway
SQLite file, and the JSON document on stdout."""
from __future__ import annotations

import json
import os
import subprocess
import sys

PARENT = """id: parent
namespace: company.team
inputs:
  - id: name
    type: STRING
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    inputs:
      greeting: "hello {{ inputs.name }}"
  - id: echo
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.call.outputs.said }}"
"""
CHILD = """id: child
namespace: company.team
inputs:
  - id: greeting
    type: STRING
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.greeting }}"
outputs:
  - id: said
    type: STRING
    value: "{{ inputs.greeting }}"
"""


def flow_test(tmp_path, redis_url, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env["REDIS_URL"] = redis_url
    return subprocess.run([sys.executable, "-m", "kestra_lite.cli", "flow", "test", *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_flow_test_runs_a_flow_and_its_subflow_and_prints_one_json_document(tmp_path, redis_url):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "child.yaml").write_text(CHILD)
    (tmp_path / "parent.yaml").write_text(PARENT)
    done = flow_test(tmp_path, redis_url, "parent.yaml", "--flows", str(flows),
                     "--input", "name={{ not rendered }}", "--label", "team=data")
    assert done.returncode == 0, done.stderr
    execution = json.loads(done.stdout)
    assert execution["state"]["current"] == "SUCCESS"
    assert {"key": "team", "value": "data"} in execution["labels"]
    echo = execution["taskRunList"][1]
    # an input is data: it reaches the child and comes back without ever being rendered
    assert echo["outputs"] == {"value": "hello {{ not rendered }}"}
    assert [a["state"]["current"] for a in echo["attempts"]] == ["SUCCESS"]
    assert any(log["message"].startswith("Flow completed with state SUCCESS")
               for log in execution["logs"])


def test_flow_test_refuses_bad_inputs_with_exit_2_and_one_line(tmp_path, redis_url):
    (tmp_path / "child.yaml").write_text(CHILD)
    done = flow_test(tmp_path, redis_url, "child.yaml")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == ("child.yaml: invalid input: Invalid input for `greeting`, "
                                   "missing required input, but received `null`")


def test_flow_test_refuses_an_invalid_flow_with_exit_2(tmp_path, redis_url):
    (tmp_path / "bad.yaml").write_text(CHILD.replace("io.kestra.plugin.core.log.Log", "Nope"))
    done = flow_test(tmp_path, redis_url, "bad.yaml", "--input", "greeting=x")
    assert done.returncode == 2
    assert "Unknown task type `Nope`" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
