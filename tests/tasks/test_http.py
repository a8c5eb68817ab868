"""io.kestra.plugin.core.http.Request / Download end to end: a real HTTP server on
127.0.0.1 (a thread of this test), the engine through a real RQ worker in burst mode."""
from __future__ import annotations

import base64
import dataclasses
import email.parser
import email.policy
import json
import socket
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kestra_lite.errors import InvalidFlow
from kestra_lite.model.flow_parser import parse_flow
from kestra_lite.model.state import State
from kestra_lite.services import executions as service
from kestra_lite.services import flows as flow_service
from kestra_lite.services.flow_test import run_until_settled
from kestra_lite.store import executions as store
from kestra_lite.store import logs as log_store
from kestra_lite.tasks.core.http import file_name

TENANT = "main"
TOKEN = "tok-3f9a1c77e2"


# -- the local HTTP server ---------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    """Routes: /hello, /echo (answers what it received as JSON), /missing (404), /slow,
    /files/report.csv, /attachment, /empty, /redirect, /stream (never ends)."""

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.received.append({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()), "body": body})
        route = getattr(self, "route_" + self.path.split("?")[0].strip("/").replace("/", "_")
                        .replace(".", "_").replace(":", "_"), None)
        if self.path.startswith("http://"):            # asked as a proxy
            route = self.route_echo
        (route or self.route_missing)(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    def answer(self, code, body: bytes, headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route_hello(self, _):
        self.answer(200, b'{"hello": "world"}', [("Content-Type", "application/json"),
                                                 ("X-Multi", "a"), ("X-Multi", "b")])

    def route_echo(self, body):
        self.answer(200, json.dumps({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()),
                                     "body": body.decode("latin-1")}).encode(),
                    [("Content-Type", "application/json; charset=utf-8")])

    def route_missing(self, _):
        self.answer(404, b"not here", [("Content-Type", "text/plain")])

    def route_created(self, _):
        self.answer(201, b"made", [("Content-Type", "text/plain")])

    def route_slow(self, _):
        self.server.release.wait(10)
        self.answer(200, b"late")

    def route_files_report_csv(self, _):
        self.answer(200, b"a,b\n1,2\n", [("Content-Type", "text/csv")])

    def route_attachment(self, _):
        self.answer(200, b'{"x": 1}',
                    [("Content-Disposition", 'attachment; filename="data.json"')])

    def route_empty(self, _):
        self.answer(200, b"")

    def route_redirect(self, _):
        self.answer(302, b"", [("Location", "/hello")])

    def route_stream(self, _):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        try:
            while not self.server.release.is_set():
                self.wfile.write(b"x" * 1024)
                self.wfile.flush()
                time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            self.server.client_gone.set()


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.received, httpd.release, httpd.client_gone = [], threading.Event(), threading.Event()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def settings(settings):
    """The suite's settings plus the secret TOKEN (SECRET_TOKEN, base64 like Kestra's)."""
    return dataclasses.replace(settings, secrets={
        **settings.secrets, "TOKEN": base64.b64encode(TOKEN.encode()).decode()})


# -- helpers -----------------------------------------------------------------------------------

def run(runtime, server, source: str, **kwargs):
    flow = flow_service.deploy(runtime, TENANT, textwrap.dedent(source).replace("$BASE",
                                                                               server.url))
    execution = service.create_execution(runtime, flow, **kwargs)
    run_until_settled(runtime, TENANT, execution.id)
    return store.load_execution(TENANT, execution.id)


def outputs(execution, task_id: str) -> dict:
    [task_run] = [t for t in execution.task_runs if t.task_id == task_id]
    return task_run.outputs


def logs(execution) -> list[dict]:
    return log_store.execution_logs(TENANT, execution.id)


def messages(execution, level: str | None = None) -> list[str]:
    return [log["message"] for log in logs(execution) if level in (None, log["level"])]


def one_task(task: str) -> str:
    return "id: http\nnamespace: company.team\ntasks:\n" + textwrap.indent(
        textwrap.dedent(task), "  ")


def parse_multipart(content_type: str, body: bytes) -> dict:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return {part.get_param("name", header="content-disposition"):
            (part.get_filename(), part.get_payload(decode=True))
            for part in message.iter_parts()}


# -- Request -------------------------------------------------------------------------------------

def test_a_get_request_sends_its_headers_and_outputs_code_body_and_headers(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/hello
          headers:
            X-Flow: "{{ flow.id }}"
            Accept: application/json
    """))
    assert execution.current is State.SUCCESS
    out = outputs(execution, "req")
    assert out["uri"] == server.url + "/hello"
    assert out["code"] == 200
    assert out["body"] == '{"hello": "world"}'
    assert out["headers"]["X-Multi"] == ["a", "b"]
    assert out["headers"]["Content-Type"] == ["application/json"]
    [received] = server.received
    assert received["method"] == "GET"
    assert received["headers"]["X-Flow"] == "http"
    assert received["headers"]["Accept"] == "application/json"


def test_a_post_sends_its_body_with_the_default_json_content_type(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/echo
          method: POST
          body: '{"flow": "{{ flow.id }}", "n": 1}'
    """))
    assert execution.current is State.SUCCESS
    [received] = server.received
    assert received["method"] == "POST"
    assert received["headers"]["Content-Type"] == "application/json"
    assert json.loads(received["body"]) == {"flow": "http", "n": 1}
    assert json.loads(outputs(execution, "req")["body"])["method"] == "POST"


def test_a_content_type_header_wins_over_the_content_type_property(runtime, server):
    run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/echo
          method: PUT
          contentType: text/plain
          headers:
            Content-Type: application/xml
          body: "<a/>"
    """))
    [received] = server.received
    assert (received["method"], received["headers"]["Content-Type"], received["body"]) == (
        "PUT", "application/xml", b"<a/>")


def test_form_data_is_sent_url_encoded_by_default(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/echo
          method: POST
          formData:
            user: "{{ flow.namespace }}"
            note: a b&c
    """))
    assert execution.current is State.SUCCESS
    [received] = server.received
    assert received["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert received["body"] == b"user=company.team&note=a+b%26c"


def test_multipart_form_data_sends_a_file_input_as_a_file_part(runtime, server):
    execution = run(runtime, server, """
        id: upload
        namespace: company.team
        inputs:
          - id: f
            type: FILE
        tasks:
          - id: req
            type: io.kestra.plugin.core.http.Request
            uri: $BASE/echo
            method: POST
            contentType: multipart/form-data
            formData:
              file: "{{ inputs.f }}"
              note: hello
              named:
                name: renamed.txt
                content: "{{ inputs.f }}"
    """, inputs={"f": ("name.txt", b"file bytes\x00\x01")})
    assert execution.current is State.SUCCESS
    [received] = server.received
    content_type = received["headers"]["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    parts = parse_multipart(content_type, received["body"])
    assert parts["file"] == ("name.txt", b"file bytes\x00\x01")
    assert parts["named"] == ("renamed.txt", b"file bytes\x00\x01")
    assert parts["note"] == (None, b"hello")


def test_a_404_fails_the_task_with_kestras_message(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/missing
    """))
    assert execution.current is State.FAILED
    assert "Failed http request with response code '404'" in messages(execution, "ERROR")


def test_allow_failed_keeps_a_404_successful_with_its_code_and_body(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/missing
          allowFailed: true
        - id: opts
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/missing
          options:
            allowFailed: true
    """))
    assert execution.current is State.SUCCESS
    assert outputs(execution, "req")["code"] == 404
    assert outputs(execution, "req")["body"] == "not here"
    assert outputs(execution, "opts")["code"] == 404


def test_allowed_response_codes_list_the_only_codes_that_succeed(runtime, server):
    accepted = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/missing
          options:
            allowedResponseCodes: [200, 404]
    """))
    assert accepted.current is State.SUCCESS
    refused = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/created
          options:
            allowedResponseCodes: [200]
    """))
    assert refused.current is State.FAILED
    assert "Failed http request with response code '201'" in messages(refused, "ERROR")


def test_a_server_silent_longer_than_read_timeout_fails_the_task(runtime, server):
    started = time.monotonic()
    execution = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/slow
          options:
            readTimeout: PT1S
    """))
    assert time.monotonic() - started < 8
    assert execution.current is State.FAILED
    [error] = messages(execution, "ERROR")
    assert error == f"Read timeout: `{server.url}/slow` sent nothing for PT1S"


def test_a_refused_connection_fails_with_a_message_naming_the_uri(runtime, server):
    with socket.socket() as probe:               # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    execution = run(runtime, server, one_task(f"""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: http://127.0.0.1:{port}/x
    """))
    assert execution.current is State.FAILED
    assert messages(execution, "ERROR") == [
        f"Unable to connect to `http://127.0.0.1:{port}/x`: Connection refused"]


def test_redirects_are_followed_unless_follow_redirects_is_false(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: follow
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/redirect
        - id: stay
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/redirect
          options:
            followRedirects: false
    """))
    assert execution.current is State.SUCCESS
    assert (outputs(execution, "follow")["code"], outputs(execution, "follow")["body"]) == (
        200, '{"hello": "world"}')
    assert outputs(execution, "stay")["code"] == 302
    assert "body" not in outputs(execution, "stay")
    assert outputs(execution, "stay")["headers"]["Location"] == ["/hello"]


def test_basic_auth_options_send_an_authorization_header(runtime, server):
    run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: $BASE/echo
          options:
            basicAuthUser: alice
            basicAuthPassword: "p@ss"
    """))
    [received] = server.received
    assert received["headers"]["Authorization"] == "Basic " + base64.b64encode(
        b"alice:p@ss").decode()


def test_an_http_proxy_option_routes_the_request_through_the_proxy(runtime, server):
    execution = run(runtime, server, one_task(f"""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: http://api.example.invalid/v1?q=1
          options:
            proxyType: HTTP
            proxyAddress: 127.0.0.1
            proxyPort: {server.server_address[1]}
    """))
    assert execution.current is State.SUCCESS
    assert [r["path"] for r in server.received] == ["http://api.example.invalid/v1?q=1"]


def test_a_secret_header_reaches_the_server_but_is_masked_in_logs(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.core.http.Request
          uri: "$BASE/echo?token={{ secret('TOKEN') }}"
          headers:
            Authorization: "Bearer {{ secret('TOKEN') }}"
    """))
    assert execution.current is State.SUCCESS
    [received] = server.received
    assert received["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert received["path"] == f"/echo?token={TOKEN}"
    lines = messages(execution)
    masked = "**masked*" + "*" * (len(TOKEN) - 9)             # as long as the secret
    assert f"Request GET {server.url}/echo?token={masked}" in messages(execution, "DEBUG")
    assert not any(TOKEN in line or "Authorization" in line for line in lines)


def test_the_legacy_fs_http_type_still_runs(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: req
          type: io.kestra.plugin.fs.http.Request
          uri: $BASE/hello
          method: HEAD
    """))
    assert execution.current is State.SUCCESS
    assert outputs(execution, "req")["code"] == 200
    assert server.received[0]["method"] == "HEAD"


def test_a_request_without_uri_is_rejected_by_flow_validation():
    with pytest.raises(InvalidFlow, match="Missing required property `uri`"):
        parse_flow(one_task("""
            - id: req
              type: io.kestra.plugin.core.http.Request
              method: GET
        """))


def test_an_unknown_method_is_rejected_by_flow_validation():
    with pytest.raises(InvalidFlow, match="expected one of GET, POST"):
        parse_flow(one_task("""
            - id: req
              type: io.kestra.plugin.core.http.Request
              uri: http://localhost/
              method: FETCH
        """))


# -- Download -------------------------------------------------------------------------------------

def test_download_stores_the_body_and_a_following_task_reads_it_back(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: dl
          type: io.kestra.plugin.core.http.Download
          uri: $BASE/files/report.csv
        - id: show
          type: io.kestra.plugin.core.log.Log
          message: "{{ read(outputs.dl.uri) }}|size={{ fileSize(outputs.dl.uri) }}"
    """))
    assert execution.current is State.SUCCESS
    out = outputs(execution, "dl")
    assert out["uri"].startswith("kestra:///company/team/http/executions/")
    assert out["uri"].endswith("/report.csv")
    assert (out["code"], out["length"]) == (200, 8)
    assert out["headers"]["Content-Type"] == ["text/csv"]
    assert "a,b\n1,2\n|size=8" in messages(execution, "INFO")


def test_download_names_the_file_after_the_content_disposition(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: dl
          type: io.kestra.plugin.fs.http.Download
          uri: $BASE/attachment
    """))
    assert outputs(execution, "dl")["uri"].endswith("/data.json")


def test_download_of_an_empty_body_fails_unless_fail_on_empty_response_is_false(runtime, server):
    failed = run(runtime, server, one_task("""
        - id: dl
          type: io.kestra.plugin.core.http.Download
          uri: $BASE/empty
    """))
    assert failed.current is State.FAILED
    assert "No response from server" in messages(failed, "ERROR")
    empty = run(runtime, server, one_task("""
        - id: dl
          type: io.kestra.plugin.core.http.Download
          uri: $BASE/empty
          failOnEmptyResponse: false
    """))
    assert empty.current is State.SUCCESS
    assert outputs(empty, "dl")["length"] == 0
    assert f"File '{server.url}/empty' is empty" in messages(empty, "WARN")


def test_download_of_a_404_fails_with_kestras_message(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: dl
          type: io.kestra.plugin.core.http.Download
          uri: $BASE/missing
    """))
    assert execution.current is State.FAILED
    assert "Failed http request with response code '404'" in messages(execution, "ERROR")


def test_a_download_that_times_out_stops_reading_and_closes_the_connection(runtime, server):
    execution = run(runtime, server, one_task("""
        - id: dl
          type: io.kestra.plugin.core.http.Download
          uri: $BASE/stream
          timeout: PT0.5S
    """))
    assert execution.current is State.FAILED
    assert "Timeout after PT0.5S" in messages(execution, "ERROR")
    assert server.client_gone.wait(5), "the download kept reading after the task timed out"


@pytest.mark.parametrize("disposition, uri, expected", [
    ('attachment; filename="report 2024.csv"', "http://h/x/y", "report 2024.csv"),
    ("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf; filename=\"resume.pdf\"", "http://h/",
     "résumé.pdf"),
    ('attachment; filename="../../etc/passwd"', "http://h/", "passwd"),
    (None, "http://h/files/data%20set.json?x=1", "data set.json"),
    (None, "http://h/", "download"),
])
def test_the_stored_file_is_named_after_the_disposition_else_the_uri_else_download(
        disposition, uri, expected):
    assert file_name(disposition, uri) == expected
