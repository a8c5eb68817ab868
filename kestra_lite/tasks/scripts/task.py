"""What every script task does; the shell, python and node tasks only differ by their
Language (the program that runs a `script` file).

The command line is Kestra's: `interpreter` (default `/bin/sh -c`) followed by one argument,
the newline-joined `set -e` (when `failFast`, the default), `beforeCommands` and the
commands. A `Script` task writes its `script` to a file of the working directory and its
command is `<program> <file>`. Outputs: `exitCode`, `vars` (from `::{"outputs":...}::`
lines), `outputFiles` (name -> kestra:// URI, when any). A non-zero exit code fails the
task; a line on stderr makes it WARNING unless `warningOnStdErr: false`.
"""
from __future__ import annotations

import json
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

from kestra_lite.model.state import State
from kestra_lite.tasks.base import RunContext, TaskFailed, TaskResult
from kestra_lite.tasks.scripts import files
from kestra_lite.tasks.scripts.process import (ProcessResult, WorkingDirectory, process_env,
                                               run_process, working_directory)
from kestra_lite.tasks.scripts.runner import check_runner

DEFAULT_INTERPRETER = ["/bin/sh", "-c"]
_TRUE = {"true", "1", "yes", "on"}


@dataclass(frozen=True)
class Language:
    name: str           # shell, python, node
    program: str        # what runs a script file
    suffix: str         # the script file's extension


class ScriptTask:
    """Base of Commands and Script. Instances are shared between threads: no state."""
    language: Language

    def run(self, ctx: RunContext) -> TaskResult:
        check_runner(ctx)
        if _flag(ctx, "namespaceFiles", "enabled", default=False):
            ctx.logger.warn("namespaceFiles are not available in kestra-lite yet: "
                            "the working directory has none of them")
        with working_directory() as directory:
            ctx.variables.update(workingDir=str(directory.path),
                                 outputDir=str(directory.output_dir))
            files.write_input_files(ctx, directory)
            own_files: set[Path] = set()
            lines = before_commands(ctx) + self.commands(ctx, directory, own_files)
            lines = [files.localize_uris(ctx, line, directory) for line in lines]
            env = process_env(ctx, directory, task_env(ctx))
            result = run_process(ctx, interpreter(ctx) + ["\n".join(lines)], env, directory.path)
            if result.exit_code != 0:
                raise TaskFailed(f"Command failed with exit code {result.exit_code}")
            uploaded = files.upload_output_files(ctx, directory, output_globs(ctx), own_files)
        return outcome(ctx, result, uploaded)

    def commands(self, ctx: RunContext, directory: WorkingDirectory, own_files: set[Path]) -> list[str]:
        """The rendered command lines (a Script adds the file it writes to `own_files`)."""
        raise NotImplementedError


class Commands(ScriptTask):
    def commands(self, ctx, directory, own_files):
        return [str(ctx.render(command)) for command in _as_list(ctx.task.props.get("commands"))]


class Script(ScriptTask):
    def commands(self, ctx, directory, own_files):
        source = files.localize_uris(ctx, str(ctx.prop("script", "")), directory)
        path = directory.path / f"{secrets.token_hex(8)}{self.language.suffix}"
        path.write_text(source)
        own_files.add(path)
        return [f"{self.language.program} {shlex.quote(str(path))}"]


def before_commands(ctx: RunContext) -> list[str]:
    lines = ["set -e"] if _flag(ctx, "failFast", default=True) else []
    return lines + [str(ctx.render(line)) for line in _as_list(ctx.task.props.get("beforeCommands"))]


def interpreter(ctx: RunContext) -> list[str]:
    value = ctx.task.props.get("interpreter")
    if value is None:
        return list(DEFAULT_INTERPRETER)
    if isinstance(value, str):
        return shlex.split(ctx.render(value))
    return [str(ctx.render(part)) for part in value]


def task_env(ctx: RunContext) -> dict[str, str]:
    env = ctx.task.props.get("env") or {}
    if not isinstance(env, dict):
        raise TaskFailed("env must be a map of variable names to values")
    return {str(name): _env_value(ctx.render(value)) for name, value in env.items()}


def output_globs(ctx: RunContext) -> list[str]:
    return [str(ctx.render(glob)) for glob in _as_list(ctx.task.props.get("outputFiles"))]


def outcome(ctx: RunContext, result: ProcessResult, uploaded: dict[str, str]) -> TaskResult:
    outputs = {"exitCode": result.exit_code, "vars": result.vars}
    if uploaded:
        outputs["outputFiles"] = uploaded
    warning = result.stderr_lines > 0 and _flag(ctx, "warningOnStdErr", default=True)
    return TaskResult(outputs, State.WARNING if warning else State.SUCCESS)


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _env_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _flag(ctx: RunContext, name: str, key: str | None = None, *, default: bool) -> bool:
    """A boolean property (or `key` of a map property), rendered when a string."""
    value = ctx.task.props.get(name)
    if key is not None:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return default
    if isinstance(value, str):
        return str(ctx.render(value)).strip().lower() in _TRUE
    return bool(value)
