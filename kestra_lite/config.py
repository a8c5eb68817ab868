"""Settings, parsed once at boot. This module is the only reader of `os.environ`.

| variable                     | default                                  |
|------------------------------|------------------------------------------|
| DATABASE_URL                 | sqlite:///data/kestra-lite.db (./data)    |
| REDIS_URL                    | redis://127.0.0.1:6379/0                 |
| SECRET_KEY                   | a fixed development key (set it!)        |
| KESTRA_LITE_ENCRYPTION_KEY   | none (at least 32 characters when set)   |
| KESTRA_LITE_STORAGE_DIR      | ./data/storage                           |
| KESTRA_LITE_QUEUE            | kestra                                   |
| KESTRA_LITE_DEBUG            | 0 (1: tracebacks in the CLI)             |
| KESTRA_LITE_DOCKER_FALLBACK  | process (or fail): a script task asking  |
|                              | for Docker runs with the Process runner, |
|                              | or fails (no container execution yet)    |
| KESTRA_LITE_HEARTBEAT_SECONDS | 5 (a worker's heartbeat; lost after 3x)  |
| KESTRA_<NAME>                | exposed to flows as `envs.<name>`        |
| SECRET_<NAME>                | values of the environment secret backend |
| KESTRA_LITE_SECRET_ENCODING  | base64 (Kestra's form) or plain          |
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///data/kestra-lite.db"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_STORAGE_DIR = "data/storage"
DEFAULT_QUEUE = "kestra"
DEV_SECRET_KEY = "kestra-lite-development-key-do-not-use-in-production"
DOCKER_FALLBACKS = ("process", "fail")
SECRET_ENCODINGS = ("base64", "plain")
# kestra-lite's own settings: never handed to the scripts a task runs
_PRIVATE_ENV = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
_PRIVATE_ENV_PREFIXES = ("SECRET_", "KESTRA_LITE_")

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ConfigError(ValueError):
    """A bad environment value; the message names the variable and what was expected."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    secret_key: str = DEV_SECRET_KEY
    encryption_key: str | None = None
    storage_dir: Path = Path(DEFAULT_STORAGE_DIR)
    queue: str = DEFAULT_QUEUE
    debug: bool = False
    # what a script task that asks for Docker does: "process" (warn, run locally) or "fail"
    docker_fallback: str = "process"
    heartbeat_seconds: float = 5.0
    # how SECRET_<NAME> values are written: "base64" (Kestra's form) or "plain"
    secret_encoding: str = "base64"
    # KESTRA_FOO_BAR=x -> {"foo_bar": "x"} (Kestra's `envs` variable); KESTRA_LITE_* excluded
    envs: Mapping[str, str] = field(default_factory=dict, hash=False)
    # SECRET_FOO=base64 -> {"FOO": "base64"} for the environment secret backend
    secrets: Mapping[str, str] = field(default_factory=dict, hash=False)
    # the Secure flag on session cookies (KESTRA_LITE_SECURE_COOKIES; default: on when
    # KESTRA_LITE_URL is https)
    secure_cookies: bool = False
    # the instance's public URL (Kestra's kestra.url; execution `url` fields, mails)
    public_url: str = "http://localhost:8080"
    # largest request body the web process accepts (KESTRA_LITE_MAX_UPLOAD_MB, default 100)
    max_upload_bytes: int = 100 * 1024 * 1024
    # False when DATABASE_URL was not set (the CLI's `flow test` then uses a throwaway file)
    database_url_from_env: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read the settings from `environ` (default: the process environment).

        Raises ConfigError with a message naming the variable on a bad value."""
        env = os.environ if environ is None else environ
        database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        redis_url = env.get("REDIS_URL") or DEFAULT_REDIS_URL
        encryption_key = env.get("KESTRA_LITE_ENCRYPTION_KEY") or None
        queue = env.get("KESTRA_LITE_QUEUE") or DEFAULT_QUEUE
        _check_database_url(database_url)
        _check_redis_url(redis_url)
        if encryption_key is not None and len(encryption_key) < 32:
            raise ConfigError("KESTRA_LITE_ENCRYPTION_KEY must be at least 32 characters long")
        if not _QUEUE_NAME.match(queue):
            raise ConfigError(f"KESTRA_LITE_QUEUE: {queue!r} is not a valid queue name "
                              "(letters, digits, '_', '.', ':', '-')")
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            secret_key=env.get("SECRET_KEY") or DEV_SECRET_KEY,
            encryption_key=encryption_key,
            storage_dir=Path(env.get("KESTRA_LITE_STORAGE_DIR") or DEFAULT_STORAGE_DIR),
            queue=queue,
            debug=_flag(env, "KESTRA_LITE_DEBUG"),
            docker_fallback=_choice(env, "KESTRA_LITE_DOCKER_FALLBACK", DOCKER_FALLBACKS),
            heartbeat_seconds=_seconds(env, "KESTRA_LITE_HEARTBEAT_SECONDS", 5.0),
            secret_encoding=_choice(env, "KESTRA_LITE_SECRET_ENCODING", SECRET_ENCODINGS),
            envs={name[len("KESTRA_"):].lower(): value for name, value in env.items()
                  if name.startswith("KESTRA_") and not name.startswith("KESTRA_LITE_")},
            secrets={name[len("SECRET_"):]: value for name, value in env.items()
                     if name.startswith("SECRET_") and name != "SECRET_KEY"},
            database_url_from_env=bool(env.get("DATABASE_URL")),
            secure_cookies=_secure_cookies(env),
            public_url=_public_url(env),
            max_upload_bytes=int(_seconds(env, "KESTRA_LITE_MAX_UPLOAD_MB", 100) * 1024 * 1024),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    def child_env(self, **overrides: str) -> dict[str, str]:
        """The environment for a child process running with these settings."""
        env = dict(os.environ)
        env.update({"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                    "SECRET_KEY": self.secret_key, "KESTRA_LITE_QUEUE": self.queue,
                    "KESTRA_LITE_STORAGE_DIR": str(self.storage_dir),
                    "KESTRA_LITE_HEARTBEAT_SECONDS": str(self.heartbeat_seconds)})
        if self.encryption_key:
            env["KESTRA_LITE_ENCRYPTION_KEY"] = self.encryption_key
        env.update(overrides)
        return env

    def script_env(self) -> dict[str, str]:
        """The worker's environment as a script task sees it: everything but kestra-lite's
        own settings (DATABASE_URL, REDIS_URL, SECRET_KEY, SECRET_*, KESTRA_LITE_*)."""
        return {name: value for name, value in os.environ.items()
                if name not in _PRIVATE_ENV and not name.startswith(_PRIVATE_ENV_PREFIXES)}


def _public_url(env: Mapping[str, str]) -> str:
    url = (env.get("KESTRA_LITE_URL") or "http://localhost:8080").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"KESTRA_LITE_URL: {url!r} must start with http:// or https://")
    return url


def _secure_cookies(env: Mapping[str, str]) -> bool:
    if env.get("KESTRA_LITE_SECURE_COOKIES", "").strip():
        return _flag(env, "KESTRA_LITE_SECURE_COOKIES")
    return _public_url(env).startswith("https://")


def debug_enabled() -> bool:
    """KESTRA_LITE_DEBUG without building Settings (used where Settings may fail)."""
    return os.environ.get("KESTRA_LITE_DEBUG", "").strip().lower() in _TRUE


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1/0 or true/false, got {value!r}")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (case-insensitive), the first one when unset."""
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be {' or '.join(choices)}, got {value!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ConfigError(f"{name} must be a number of seconds between 0 and 3600, got {raw!r}")
    return value


def _check_database_url(url: str) -> None:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise ConfigError(f"DATABASE_URL {url!r}: expected sqlite:///relative/path.db, "
                              "sqlite:////absolute/path.db or sqlite:///:memory:")
        return
    if scheme in ("postgresql", "postgres"):
        parts = urlsplit(url)
        if not parts.path.strip("/"):
            raise ConfigError(f"DATABASE_URL {url!r}: the database name is missing "
                              "(postgresql://user@host:5432/dbname)")
        try:
            parts.port
        except ValueError as exc:
            raise ConfigError(f"DATABASE_URL {url!r}: {exc}") from None
        return
    raise ConfigError(f"DATABASE_URL {url!r}: expected a sqlite:/// or postgresql:// URL")


def _check_redis_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL {url!r}: expected redis://host:port/db")
    try:
        parts.port
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL {url!r}: {exc}") from None
    db = parts.path.strip("/")
    if parts.scheme != "unix" and db and not db.isdigit():
        raise ConfigError(f"REDIS_URL {url!r}: the database must be a number, got {db!r}")
