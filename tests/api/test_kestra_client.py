"""The real `kestra` PyPI client (kestra.Flow().execute, the release pinned in pyproject)
against a live server: the app served over HTTP by werkzeug in a thread, a real RQ worker
working the queue in this one."""
from __future__ import annotations

import io
import threading

import pytest
from werkzeug.serving import make_server

from kestra_lite.store import executions as execution_store
from kestra_lite.worker import build_worker
from tests.api.conftest import FAILING, HELLO
from tests.api.test_executions_api import FILE_FLOW
from tests.web.conftest import PASSWORD


@pytest.fixture
def server(app, alice, monkeypatch):
    """The app on a free local port; the client's environment points at it as alice."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("KESTRA_HOSTNAME", f"http://127.0.0.1:{httpd.server_port}")
    monkeypatch.setenv("KESTRA_USER", alice.email)
    monkeypatch.setenv("KESTRA_PASSWORD", PASSWORD)
    monkeypatch.delenv("KESTRA_API_TOKEN", raising=False)
    yield httpd
    httpd.shutdown()
    thread.join(5)


def run_client(runtime, call):
    """Run `call` (the client blocks until the execution ends) in a thread while a real
    worker works the queue here (RQ installs signal handlers: main thread only)."""
    outcome = {}

    def target():
        try:
            outcome["result"] = call()
        except Exception as error:  # noqa: BLE001 - reported by the test
            outcome["error"] = error

    caller = threading.Thread(target=target, daemon=True)
    caller.start()
    worker = build_worker(runtime)
    for _ in range(1200):
        worker.work(burst=True, logging_level="WARNING")
        caller.join(0.05)
        if not caller.is_alive():
            break
    assert "error" not in outcome, outcome.get("error")
    return outcome["result"]


def test_the_kestra_client_executes_a_flow_with_inputs_and_waits_for_its_end(
        server, runtime, deploy):
    import kestra
    deploy(HELLO)
    flow = kestra.Flow(poll_interval=0.1)
    result = run_client(runtime, lambda: flow.execute("company.team", "hello",
                                                      {"name": "client"}))
    assert result.status == "SUCCESS"
    assert "INFO Hello client" in result.log
    assert result.error is None


def test_the_kestra_client_reports_a_failed_execution_and_sets_labels_from_inputs(
        server, runtime, deploy):
    import kestra
    deploy(FAILING)
    flow = kestra.Flow(poll_interval=0.1, labels_from_inputs=True)
    result = run_client(runtime, lambda: flow.execute("company.team", "broken", {"run": "7"}))
    assert result.status == "FAILED"
    assert "ERROR it broke" in result.log
    executions = execution_store.search_executions("main", "company.team", "broken")
    assert {"key": "run", "value": "7"} in executions[0].labels


def test_the_kestra_client_uploads_a_file_input_the_documented_way(server, runtime, deploy):
    import kestra
    deploy(FILE_FLOW)
    flow = kestra.Flow(poll_interval=0.1)
    result = run_client(runtime, lambda: flow.execute(
        "company.team", "upload", {"files": ("data", io.BytesIO(b"a,b\n"), "text/csv")}))
    assert result.status == "SUCCESS"
    assert "kestra:///company/team/upload/executions/" in result.log


def test_the_kestra_client_without_credentials_gets_its_authentication_error(
        server, deploy, monkeypatch):
    import kestra
    deploy(HELLO)
    monkeypatch.delenv("KESTRA_USER")
    monkeypatch.delenv("KESTRA_PASSWORD")
    with pytest.raises(Exception, match="Authentication required"):
        kestra.Flow().execute("company.team", "hello", {})
