"""The `kestra-lite` command (click). A stable interface: other checks build on it.

    kestra-lite local [--port 8080] [--host 127.0.0.1]
    kestra-lite worker [--burst]
    kestra-lite scheduler
    kestra-lite migrate
    kestra-lite flow validate FILE...
    kestra-lite flow test FILE [--flows DIR] [--input KEY=VALUE]... [--label KEY=VALUE]...
    kestra-lite conformance DIR
    kestra-lite user create --email E [--password P] [--superadmin]

An unexpected error prints one line on stderr and exits 1 (KESTRA_LITE_DEBUG=1: traceback).
"""
from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

import click

from . import errors
from .config import ConfigError, Settings, debug_enabled


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def _run_settings():
    """Settings for a one-shot run (`flow test`, `conformance`): a throwaway SQLite file and
    storage dir when DATABASE_URL is not set, a queue of its own, and a Redis that answers."""
    from .redis_server import ensure_redis, stop_redis
    settings = _settings()
    tmp = None
    if not settings.database_url_from_env:
        tmp = Path(tempfile.mkdtemp(prefix="kestra-lite-run-"))
        settings = replace(settings, database_url=f"sqlite:///{tmp / 'kestra-lite.db'}",
                           storage_dir=tmp / "storage",
                           queue=f"{settings.queue}-run-{uuid.uuid4().hex[:12]}")
    redis_process = None
    try:
        redis_url, redis_process = ensure_redis(
            settings.redis_url, (tmp or Path("data")) / "redis")
        yield replace(settings, redis_url=redis_url)
    finally:
        stop_redis(redis_process)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=option)
        result[key] = rest
    return result


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """kestra-lite: Kestra 0.20 flows on Flask, Peewee, RQ and Redis."""


@cli.command()
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="interface the web server listens on (0.0.0.0: every one)")
def local(port: int, host: str) -> None:
    """Web, a worker and the scheduler with SQLite under ./data and a real Redis."""
    from .local import run_local
    sys.exit(run_local(_settings(), port=port, host=host))


@cli.command()
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
def worker(burst: bool) -> None:
    """Run an RQ worker that advances executions and runs task runs."""
    from .worker import run_worker
    run_worker(_settings(), burst=burst)


@cli.command()
def scheduler() -> None:
    """Run the scheduler loop (Pause delays and timeouts, retries, watchdog...)."""
    from .scheduler import run_scheduler
    run_scheduler(_settings())


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from .store import db as store_db
    settings = _settings()
    store_db.connect(settings.database_url)
    version = store_db.migrate()
    store_db.close()
    click.echo(f"schema version {version}")


@cli.group()
def flow() -> None:
    """Validate and test flow files."""


@flow.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Exit 0 when every FILE is a valid flow, else 1 with `file:line:col: message` lines."""
    from .model.flow_parser import parse_flow
    failed = False
    for file in files:
        try:
            source = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            click.echo(f"{file}:1:1: cannot read: {reason}", err=True)
            failed = True
            continue
        try:
            parse_flow(source, file)
        except errors.InvalidFlow as exc:
            failed = True
            for problem in exc.problems:
                click.echo(f"{file}:{problem.line}:{problem.column}: {problem.message}",
                           err=True)
    sys.exit(1 if failed else 0)


@flow.command("test")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--flows", "flows_dir", type=click.Path(file_okay=False, exists=True),
              help="directory of flows the tested flow may call (subflows)")
@click.option("--input", "inputs", multiple=True, metavar="KEY=VALUE")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE")
def test_flow(file: str, flows_dir: str | None, inputs: tuple[str, ...],
              labels: tuple[str, ...]) -> None:
    """Run FILE to the end and print the execution (with its logs) as one JSON document."""
    from .services.flow_test import run_flow_test
    input_map, label_map = _pairs(inputs, "--input"), _pairs(labels, "--label")
    try:
        with _run_settings() as settings:
            result = run_flow_test(settings, file, flows_dir, input_map, label_map)
    except errors.InvalidFlow as exc:
        problems = "; ".join(f"{p.line}:{p.column}: {p.message}" for p in exc.problems)
        click.echo(f"{file}: invalid flow: {problems}", err=True)
        sys.exit(2)
    except errors.InvalidInput as exc:
        click.echo(f"{file}: invalid input: {exc.message}".replace("\n", " "), err=True)
        sys.exit(2)
    click.echo(json.dumps(result, default=str))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
def conformance(directory: str) -> None:
    """Run the conformance corpus in DIRECTORY; last line `N passed, M failed, K skipped`."""
    from .conformance import main as run_conformance
    with _run_settings() as settings:
        code = run_conformance(settings, directory)
    sys.exit(code)


@cli.group()
def user() -> None:
    """Manage the users who may log in (instance-wide)."""


@user.command("create")
@click.option("--email", required=True, help="the login (an email address)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="at least 8 characters (asked for when omitted)")
@click.option("--superadmin", is_flag=True, help="may use the Administration pages")
def create_user(email: str, password: str, superadmin: bool) -> None:
    """Create a user (migrates the database first); exit 1 with a message on a bad email,
    a short password or an email already taken."""
    from .services import accounts
    from .store import db as store_db
    settings = _settings()
    store_db.connect(settings.database_url)
    try:
        store_db.migrate()
        created = accounts.create_user(email, password, superadmin=superadmin)
    except (errors.InvalidInput, errors.Conflict) as exc:
        click.echo(f"kestra-lite: cannot create the user: {exc}", err=True)
        sys.exit(1)
    finally:
        store_db.close()
    role = "super admin" if created.superadmin else "member"
    click.echo(f"created user {created.email} ({role}); they can log in now")


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="kestra-lite")
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:   # noqa: BLE001 - last resort: one line, no traceback
        if debug_enabled():
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(f"kestra-lite: error: {type(exc).__name__}"
                   + (f": {message}" if message else ""), err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
