"""Which task runner a script asks for, and what kestra-lite does about it.

kestra-lite runs every script with the Process runner: container execution is not
implemented. A flow that explicitly asks for Docker (`containerImage`, a Docker
`taskRunner`, the legacy `runner: DOCKER` or `docker.image`) gets one WARN line saying so and
runs as a local process, or fails when KESTRA_LITE_DOCKER_FALLBACK=fail. A flow that says
nothing runs as a local process without a warning (Kestra's default would be Docker).
"""
from __future__ import annotations

import functools
import socket

from kestra_lite.tasks.base import RunContext, TaskFailed

DOCKER_SOCKET = "/var/run/docker.sock"
PING_TIMEOUT_SECONDS = 1.0
PROCESS_RUNNERS = {"io.kestra.plugin.core.runner.Process",
                   "io.kestra.core.models.tasks.runners.types.ProcessTaskRunner"}
DOCKER_RUNNERS = {"io.kestra.plugin.scripts.runner.docker.Docker",
                  "io.kestra.core.models.script.types.DockerTaskRunner"}


def check_runner(ctx: RunContext) -> None:
    """Log the Docker fallback (or fail, per the settings) when the flow asks for Docker."""
    image = requested_image(ctx.task.props)
    if image is None:
        return
    image = str(ctx.render(image))
    answers = docker_engine_answers(DOCKER_SOCKET)
    if ctx.services.settings.docker_fallback == "fail":
        raise TaskFailed(_refusal(answers, image))
    ctx.logger.warn(_fallback(answers, image))


def requested_image(props: dict) -> str | None:
    """The container image the task asks for when it asks for Docker ("" when it names
    none), None when it runs with the Process runner. Raises TaskFailed for other runners."""
    runner = props.get("taskRunner")
    runner_type = runner.get("type") if isinstance(runner, dict) else None
    docker = props.get("docker") if isinstance(props.get("docker"), dict) else {}
    image = props.get("containerImage") or docker.get("image")
    if runner_type in PROCESS_RUNNERS:
        return None
    if runner_type in DOCKER_RUNNERS:
        return str(image or "")
    if runner_type:
        raise TaskFailed(f"Task runner `{runner_type}` is not available in kestra-lite: "
                         "use io.kestra.plugin.core.runner.Process")
    legacy = str(props.get("runner") or "").upper()
    if legacy == "PROCESS":
        return None
    if legacy == "DOCKER" or image:
        return str(image or "")
    return None


@functools.lru_cache(maxsize=None)
def docker_engine_answers(path: str) -> bool:
    """Whether a Docker engine answers a ping on the unix socket `path` (cached per process)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(PING_TIMEOUT_SECONDS)
            client.connect(path)
            client.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return client.recv(64).split(b"\r\n", 1)[0].split(b" ")[1:2] == [b"200"]
    except (OSError, IndexError):
        return False


def _fallback(answers: bool, image: str) -> str:
    wanted = f"Docker (image `{image}`)" if image else "Docker"
    if answers:
        return (f"This task asks for {wanted}; a Docker engine answered but kestra-lite does "
                "not run containers yet: the task runs with the Process runner")
    return (f"This task asks for {wanted} but no Docker engine answered at {DOCKER_SOCKET}: "
            "the task runs with the Process runner")


def _refusal(answers: bool, image: str) -> str:
    wanted = f"Docker (image `{image}`)" if image else "Docker"
    reason = ("kestra-lite does not run containers yet" if answers
              else f"no Docker engine answered at {DOCKER_SOCKET}")
    return (f"This task asks for {wanted} but {reason}, and KESTRA_LITE_DOCKER_FALLBACK=fail "
            "forbids running it with the Process runner")
