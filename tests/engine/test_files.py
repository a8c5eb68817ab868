"""Internal storage files in expressions: read(), fileSize(), fileURI(), and the scope rule
(an execution reads its own files, its parent's and the ones it was replayed from; any
other execution's URI is refused with Kestra's message)."""
from __future__ import annotations

from kestra_lite.model.state import State
from kestra_lite.services import executions as service

from tests.engine.test_engine import TENANT, deploy, messages, run

READER = """
    id: reader
    namespace: company.team
    inputs:
      - id: data
        type: FILE
    tasks:
      - id: show
        type: io.kestra.plugin.core.log.Log
        message: "{{ read(inputs.data) }}|{{ fileSize(inputs.data) }}|{{ fileURI(inputs.data) == inputs.data }}"
"""


def test_a_file_input_is_read_with_its_size(runtime):
    flow = deploy(runtime, READER)
    execution = run(runtime, flow, inputs={"data": ("hello.txt", b"hello files")})
    assert execution.current is State.SUCCESS
    assert "hello files|11|true" in messages(execution)
    assert execution.inputs["data"].startswith(
        f"kestra:///company/team/reader/executions/{execution.id}/")


def test_a_file_of_another_execution_is_refused(runtime):
    first = run(runtime, deploy(runtime, READER), inputs={"data": ("a.txt", b"private")})
    thief = deploy(runtime, """
        id: thief
        namespace: company.team
        inputs:
          - id: uri
            type: STRING
        tasks:
          - id: steal
            type: io.kestra.plugin.core.log.Log
            message: "{{ read(inputs.uri) }}"
    """)
    execution = run(runtime, thief, inputs={"uri": first.inputs["data"]})
    assert execution.current is State.FAILED
    assert (f"Unable to read the file '{first.inputs['data']}' as it didn't belong to the "
            f"current execution") in messages(execution)
    assert "private" not in messages(execution)


def test_a_subflow_reads_the_file_its_parent_passed_in(runtime):
    deploy(runtime, READER)
    parent = deploy(runtime, """
        id: parent
        namespace: company.team
        inputs:
          - id: data
            type: FILE
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: reader
            inputs:
              data: "{{ inputs.data }}"
    """)
    execution = run(runtime, parent, inputs={"data": ("p.txt", b"from the parent")})
    assert execution.current is State.SUCCESS
    child_id = execution.task_runs[0].outputs["executionId"]
    child = service.store.load_execution(TENANT, child_id)
    assert child.current is State.SUCCESS
    assert "from the parent|15|true" in messages(child)


def test_a_replayed_execution_reads_the_files_of_the_original(runtime):
    flow = deploy(runtime, READER)
    original = run(runtime, flow, inputs={"data": ("r.txt", b"replay me")})
    replayed = service.replay(runtime, TENANT, original.id)
    from kestra_lite.services.flow_test import run_until_settled
    run_until_settled(runtime, TENANT, replayed.id)
    final = service.store.load_execution(TENANT, replayed.id)
    assert final.current is State.SUCCESS
    assert "replay me|9|true" in messages(final)
