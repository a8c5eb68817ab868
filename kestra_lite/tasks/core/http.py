"""io.kestra.plugin.core.http.Request / Download: one HTTP call, made with `requests`.

Timeouts: `options.connectTimeout` (default PT10S) bounds connecting; `options.readTimeout`
(default PT60S, `options.readIdleTimeout` is read as a synonym) bounds each wait for bytes
from the server, not the whole transfer (the task's `timeout` does that). A response code
>= 400 fails the task with Kestra's message unless `allowFailed` (top-level, legacy, or
`options.allowFailed`) is true; `options.allowedResponseCodes`, when given, lists the only
codes that succeed. The body is read in chunks and a kill (or the task's timeout) is
noticed between two chunks. Only the method and the URI are logged, never the headers.
"""
from __future__ import annotations

import json
import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePosixPath
from urllib.parse import quote, unquote, urlsplit

import requests
import urllib3

from kestra_lite.model.durations import format_duration, parse_duration
from kestra_lite.tasks.base import RunContext, TaskFailed, TaskKilled

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
DEFAULT_CONTENT_TYPE = "application/json"
DEFAULT_CONNECT_TIMEOUT = timedelta(seconds=10)
DEFAULT_READ_TIMEOUT = timedelta(seconds=60)
CHUNK_SIZE = 64 * 1024
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"


class Request:
    def run(self, ctx: RunContext):
        call = HttpCall.of(ctx)
        with call.send() as response:
            call.check_code(response.status_code)
            data = call.read_body(response)
        outputs = {"uri": call.uri, "code": response.status_code,
                   "headers": headers_of(response)}
        if data:
            outputs["body"] = data.decode(charset_of(response, call.charset), errors="replace")
        return outputs


class Download:
    """Streams the body into internal storage (never held whole in memory)."""

    def run(self, ctx: RunContext):
        call = HttpCall.of(ctx)
        with call.send() as response:
            call.check_code(response.status_code)
            name = file_name(response.headers.get("Content-Disposition"), call.uri)
            received = [0]

            def chunks():
                for chunk in call.iter_body(response):
                    received[0] += len(chunk)
                    yield chunk
            stored = ctx.services.put_file(name, chunks())
        if not received[0]:
            if _flag(ctx.prop("failOnEmptyResponse"), True):
                raise TaskFailed("No response from server")
            ctx.logger.warn(f"File '{call.uri}' is empty")
        return {"uri": stored, "code": response.status_code, "length": received[0],
                "headers": headers_of(response)}


@dataclass
class HttpCall:
    """A rendered request and the policy around it (timeouts, accepted codes)."""
    ctx: RunContext
    uri: str
    method: str
    headers: dict
    connect_timeout: timedelta
    read_timeout: timedelta
    follow_redirects: bool = True
    verify: bool = True
    allow_failed: bool = False
    allowed_codes: tuple[int, ...] | None = None
    max_length: int | None = None
    charset: str = "utf-8"
    auth: tuple[str, str] | None = None
    proxies: dict | None = None
    body: dict = field(default_factory=dict)        # requests' data= / files= arguments

    @classmethod
    def of(cls, ctx: RunContext) -> "HttpCall":
        options = _map(ctx.prop("options"), "options")
        call = cls(
            ctx=ctx, uri=_uri(ctx.prop("uri")), method=_method(ctx.prop("method", "GET")),
            headers=_headers(ctx.prop("headers")),
            connect_timeout=_duration(options, "connectTimeout", DEFAULT_CONNECT_TIMEOUT),
            read_timeout=_duration(options, "readTimeout",
                                   _duration(options, "readIdleTimeout", DEFAULT_READ_TIMEOUT)),
            follow_redirects=_flag(options.get("followRedirects"), True),
            verify=not _flag(_map(ctx.prop("sslOptions"), "sslOptions")
                             .get("insecureTrustAllCertificates"), False),
            allow_failed=(_flag(ctx.prop("allowFailed"), False)
                          or _flag(options.get("allowFailed"), False)),
            allowed_codes=_codes(options.get("allowedResponseCodes")),
            max_length=_int(options.get("maxContentLength"), "options.maxContentLength"),
            charset=str(options.get("defaultCharset") or "utf-8"),
            auth=_auth(options), proxies=_proxies(options))
        call.body = _body(ctx, call.headers)
        return call

    @contextmanager
    def send(self):
        """The response, its body not read yet; closed (with its connection) on exit."""
        self.ctx.logger.debug(f"Request {self.method} {self.uri}")
        with requests.Session() as session:
            session.trust_env = False   # like Kestra: no proxy nor .netrc from the environment
            try:
                response = session.request(
                    self.method, self.uri, headers=self.headers, auth=self.auth,
                    timeout=(self.connect_timeout.total_seconds(),
                             self.read_timeout.total_seconds()),
                    allow_redirects=self.follow_redirects, verify=self.verify,
                    proxies=self.proxies, stream=True, **self.body)
            except requests.RequestException as error:
                raise TaskFailed(self.describe(error)) from None
            with response:
                yield response

    def check_code(self, code: int) -> None:
        if self.allow_failed:
            return
        refused = (code not in self.allowed_codes if self.allowed_codes is not None
                   else code >= 400)
        if refused:
            raise TaskFailed(f"Failed http request with response code '{code}'")

    def read_body(self, response: requests.Response) -> bytes:
        """The whole (decoded) body."""
        return b"".join(self.iter_body(response))

    def iter_body(self, response: requests.Response):
        """The (decoded) body chunk by chunk; a kill stops the transfer."""
        length = 0
        try:
            for chunk in response.iter_content(CHUNK_SIZE):
                if self.ctx.is_killed():
                    raise TaskKilled()
                length += len(chunk)
                if self.max_length is not None and length > self.max_length:
                    raise TaskFailed(f"The response of `{self.uri}` is longer than "
                                     f"options.maxContentLength ({self.max_length} bytes)")
                yield chunk
        except requests.RequestException as error:
            raise TaskFailed(self.describe(error)) from None

    def describe(self, error: requests.RequestException) -> str:
        uri = self.uri
        if isinstance(error, requests.ConnectTimeout):
            return (f"Unable to connect to `{uri}`: connect timeout after "
                    f"{format_duration(self.connect_timeout)}")
        if isinstance(error, requests.ReadTimeout) or _caused_by(error, urllib3.exceptions
                                                                  .ReadTimeoutError):
            return (f"Read timeout: `{uri}` sent nothing for "
                    f"{format_duration(self.read_timeout)}")
        if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                              requests.exceptions.InvalidSchema)):
            return f"Invalid uri `{uri}`: {error}"
        if isinstance(error, requests.TooManyRedirects):
            return f"Too many redirects from `{uri}`"
        if isinstance(error, requests.ConnectionError):
            return f"Unable to connect to `{uri}`: {_reason(error)}"
        return f"Failed http request to `{uri}`: {_reason(error)}"


# -- request building ----------------------------------------------------------------------

def _uri(value) -> str:
    uri = str(value or "").strip()
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise TaskFailed(f"Invalid uri `{uri}`: expected an http:// or https:// URI")
    return uri


def _method(value) -> str:
    method = str(value or "GET").strip().upper()
    if method not in METHODS:
        raise TaskFailed(f"Invalid method `{value}`: expected one of {', '.join(METHODS)}")
    return method


def _headers(value) -> dict:
    headers = {}
    for name, header in _map(value, "headers").items():
        if header is None:
            continue
        values = header if isinstance(header, list) else [header]
        headers[str(name)] = ", ".join(_text(v) for v in values)
    return headers


def _body(ctx: RunContext, headers: dict) -> dict:
    """requests' `data`/`files` arguments; sets the Content-Type header when Kestra would."""
    header = next((name for name in headers if name.lower() == "content-type"), None)
    content_type = headers[header] if header else str(ctx.prop("contentType")
                                                      or DEFAULT_CONTENT_TYPE)
    form = _map(ctx.prop("formData"), "formData")
    if form:
        if content_type.split(";")[0].strip().lower() == MULTIPART:
            if header:                 # requests writes it with the boundary
                del headers[header]
            return {"files": [(str(k), _part(ctx, v)) for k, v in form.items()]}
        if not header:
            headers["Content-Type"] = URLENCODED
        return {"data": [(str(k), _text(v)) for k, v in form.items()]}
    body = ctx.prop("body")
    if body is None:
        return {}
    if not header:
        headers["Content-Type"] = content_type
    return {"data": _text(body).encode("utf-8")}


def _part(ctx: RunContext, value) -> tuple:
    """A multipart part: a kestra:// URI (or a {name, content} map) is sent as a file."""
    if isinstance(value, dict) and value.get("content") is not None:
        content = str(value["content"])
        name = str(value.get("name") or PurePosixPath(content).name)
        return name, _file(ctx, content)
    if isinstance(value, str) and value.startswith("kestra://"):
        return PurePosixPath(value).name, _file(ctx, value)
    return None, _text(value)


def _file(ctx: RunContext, uri: str) -> bytes:
    if not uri.startswith("kestra://"):
        return uri.encode("utf-8")
    try:
        return ctx.services.read_file(uri)
    except FileNotFoundError:
        raise TaskFailed(f"Unable to read `{uri}`: no such file in internal storage") from None


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


# -- options ---------------------------------------------------------------------------------

def _map(value, name: str) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, str):            # a whole-map expression rendered to JSON text
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if not isinstance(value, dict):
        raise TaskFailed(f"Invalid `{name}`: expected a map, got `{value}`")
    return value


def _flag(value, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def _duration(options: dict, name: str, default: timedelta) -> timedelta:
    value = options.get(name)
    if value in (None, ""):
        return default
    try:
        duration = parse_duration(str(value))
    except ValueError as error:
        raise TaskFailed(f"Invalid `options.{name}`: {error}") from None
    if duration <= timedelta(0):
        raise TaskFailed(f"Invalid `options.{name}`: `{value}` must be positive")
    return duration


def _int(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise TaskFailed(f"Invalid `{name}`: expected an integer, got `{value}`") from None


def _codes(value) -> tuple[int, ...] | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):            # an expression rendered to `[200, 404]` or `404`
        try:
            value = json.loads(value)
        except ValueError:
            pass
    values = value if isinstance(value, list) else [value]
    return tuple(_int(v, "options.allowedResponseCodes") for v in values)


def _auth(options: dict) -> tuple[str, str] | None:
    user = options.get("basicAuthUser")
    if user in (None, ""):
        return None
    return str(user), str(options.get("basicAuthPassword") or "")


def _proxies(options: dict) -> dict | None:
    """Kestra's proxyType/proxyAddress/proxyPort/proxyUsername/proxyPassword (HTTP only)."""
    address = options.get("proxyAddress")
    kind = str(options.get("proxyType") or "HTTP").upper()
    if address in (None, "") or kind == "DIRECT":
        return None
    if kind != "HTTP":
        raise TaskFailed(f"Unsupported `options.proxyType` `{kind}`: only HTTP and DIRECT")
    port = _int(options.get("proxyPort"), "options.proxyPort") or 80
    user = options.get("proxyUsername")
    credentials = ""
    if user not in (None, ""):
        credentials = (quote(str(user), safe="") + ":" +
                       quote(str(options.get("proxyPassword") or ""), safe="") + "@")
    url = f"http://{credentials}{address}:{port}"
    return {"http": url, "https": url}


# -- response ----------------------------------------------------------------------------------

def headers_of(response: requests.Response) -> dict[str, list[str]]:
    """Kestra's `headers` output: each header name with the list of its values."""
    raw = getattr(response.raw, "headers", None)
    if raw is not None and hasattr(raw, "getlist"):
        return {name: list(raw.getlist(name)) for name in raw.keys()}
    return {name: [value] for name, value in response.headers.items()}


def charset_of(response: requests.Response, default: str) -> str:
    match = re.search(r"charset\s*=\s*\"?([\w.:-]+)", response.headers.get("Content-Type", ""),
                      re.IGNORECASE)
    charset = match.group(1) if match else default
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset


def file_name(disposition: str | None, uri: str) -> str:
    """Content-Disposition's filename, else the URI's last path segment, else `download`."""
    name = None
    if disposition:
        extended = re.search(r"filename\*\s*=\s*([\w-]+)'[^']*'([^;]+)", disposition, re.I)
        plain = re.search(r"filename\s*=\s*(\"((?:[^\"\\]|\\.)*)\"|[^;]+)", disposition, re.I)
        if extended:
            name = unquote(extended.group(2).strip(), encoding=extended.group(1), errors="replace")
        elif plain:
            name = plain.group(2) if plain.group(2) is not None else plain.group(1).strip()
    if not name:
        name = unquote(urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1])
    name = PurePosixPath(name.replace("\\", "/")).name
    return name if name not in ("", ".", "..") else "download"


# -- errors --------------------------------------------------------------------------------------

def _causes(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        nested = getattr(error, "reason", None)
        if not isinstance(nested, BaseException):
            nested = error.args[0] if error.args and isinstance(error.args[0],
                                                                BaseException) else None
        error = nested or error.__cause__ or error.__context__


def _caused_by(error: BaseException, kind: type) -> bool:
    return any(isinstance(cause, kind) for cause in _causes(error))


def _reason(error: BaseException) -> str:
    """The root cause in plain words (`Connection refused`), not urllib3's pool message."""
    for cause in _causes(error):
        if isinstance(cause, socket.gaierror):
            return f"unknown host ({cause.strerror or cause})"
        if isinstance(cause, OSError) and cause.strerror and not isinstance(
                cause, (requests.RequestException, urllib3.exceptions.HTTPError)):
            return cause.strerror
    text = str(error)
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    return match.group(1) if match else text
