"""API fixtures: the web fixtures (app, runtime, alice, `api` with Basic auth) plus helpers
that deploy flows and run executions to their end with a real RQ worker."""
from __future__ import annotations

import pytest

from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import executions as execution_store
from tests.web.conftest import *  # noqa: F401,F403

HELLO = """\
id: hello
namespace: company.team
labels:
  team: data
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }}"
"""

FAILING = """\
id: broken
namespace: company.team
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: it broke
"""

PAUSING = """\
id: waiting
namespace: company.team
tasks:
  - id: pause
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "approved={{ outputs.pause.onResume.approved }}"
"""

YAML = {"Content-Type": "application/x-yaml"}


@pytest.fixture
def deploy(api):
    """deploy(source) -> the flow JSON answered by POST /api/v1/flows."""
    def post(source: str) -> dict:
        response = api.post("/api/v1/flows", data=source, headers=dict(YAML))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()
    return post


@pytest.fixture
def start(api):
    """start(namespace, flow_id, inputs=None, query="") -> execution JSON (not yet run)."""
    def post(namespace: str, flow_id: str, inputs: dict | None = None, query: str = "") -> dict:
        response = api.post(f"/api/v1/executions/{namespace}/{flow_id}{query}",
                            data=inputs or {}, content_type="multipart/form-data")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()
    return post


@pytest.fixture
def settle(runtime):
    """settle(execution_id) -> the stored execution once the worker has nothing left."""
    def run(execution_id: str):
        run_until_settled(runtime, "main", execution_id, max_seconds=30)
        return execution_store.load_execution("main", execution_id)
    return run
