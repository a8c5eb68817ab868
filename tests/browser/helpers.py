"""Shortcuts for browser tests whose journey is not about the step they skip: deploy a flow
and run executions through the REST API (Basic auth with the admin of conftest), and read
the CSRF token a page carries."""
from __future__ import annotations

import textwrap
import time

import requests

from tests.browser.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

AUTH = (ADMIN_EMAIL, ADMIN_PASSWORD)
TERMINATED = {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SKIPPED"}


def deploy_flow(base: str, source: str) -> dict:
    """POST a flow's YAML to /api/v1/main/flows (the admin must exist: admin_page first)."""
    response = requests.post(f"{base}/api/v1/main/flows",
                             data=textwrap.dedent(source).lstrip("\n"),
                             headers={"Content-Type": "application/x-yaml"}, auth=AUTH,
                             timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def get_flow(base: str, namespace: str, flow_id: str) -> dict:
    response = requests.get(f"{base}/api/v1/main/flows/{namespace}/{flow_id}",
                            params={"source": "true"}, auth=AUTH, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def run_execution(base: str, namespace: str, flow_id: str, *, wait: bool = False,
                  inputs: dict | None = None) -> dict:
    """Start an execution (wait=True: the API answers once it has ended)."""
    response = requests.post(f"{base}/api/v1/main/executions/{namespace}/{flow_id}",
                             params={"wait": "true"} if wait else None,
                             files={k: (None, str(v)) for k, v in (inputs or {}).items()}
                             or None, auth=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def get_execution(base: str, execution_id: str) -> dict:
    response = requests.get(f"{base}/api/v1/main/executions/{execution_id}", auth=AUTH,
                            timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_state(base: str, execution_id: str, states, timeout: float = 20) -> dict:
    """Poll the API until the execution is in one of `states`."""
    states = {states} if isinstance(states, str) else set(states)
    deadline = time.monotonic() + timeout
    while True:
        execution = get_execution(base, execution_id)
        if execution["state"]["current"] in states:
            return execution
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {execution_id} is {execution['state']['current']},"
                                 f" expected one of {sorted(states)}")
        time.sleep(0.2)


def csrf_token(page) -> str:
    """The CSRF token of the page shown (every form carries it)."""
    return page.locator("input[name=csrf_token]").first.get_attribute("value")
