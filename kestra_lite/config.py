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
| KESTRA_<NAME>                | exposed to flows as `envs.<name>`        |
| SECRET_<NAME>                | base64 values for the environment secret backend |
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
    # KESTRA_FOO_BAR=x -> {"foo_bar": "x"} (Kestra's `envs` variable); KESTRA_LITE_* excluded
    envs: Mapping[str, str] = field(default_factory=dict, hash=False)
    # SECRET_FOO=base64 -> {"FOO": "base64"} for the environment secret backend
    secrets: Mapping[str, str] = field(default_factory=dict, hash=False)
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
            envs={name[len("KESTRA_"):].lower(): value for name, value in env.items()
                  if name.startswith("KESTRA_") and not name.startswith("KESTRA_LITE_")},
            secrets={name[len("SECRET_"):]: value for name, value in env.items()
                     if name.startswith("SECRET_") and name != "SECRET_KEY"},
            database_url_from_env=bool(env.get("DATABASE_URL")),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    def child_env(self, **overrides: str) -> dict[str, str]:
        """The environment for a child process running with these settings."""
        env = dict(os.environ)
        env.update({"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                    "SECRET_KEY": self.secret_key, "KESTRA_LITE_QUEUE": self.queue,
                    "KESTRA_LITE_STORAGE_DIR": str(self.storage_dir)})
        if self.encryption_key:
            env["KESTRA_LITE_ENCRYPTION_KEY"] = self.encryption_key
        env.update(overrides)
        return env


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
