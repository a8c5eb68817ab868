"""Fixtures shared by the whole suite.

The suite runs once per database: KESTRA_LITE_TEST_DB=sqlite (default: a SQLite file per
test) or postgresql (a throwaway database kestra_lite_test_<pid> on 127.0.0.1:5432, created
once per session, emptied before each test, dropped at the end). Redis is the machine's
(REDIS_URL's host, default 127.0.0.1:6379) with a database number of its own, flushed before
each test.
"""
from __future__ import annotations

import dataclasses
import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from kestra_lite.config import Settings
from kestra_lite.store import db as store_db

TEST_DB = os.environ.get("KESTRA_LITE_TEST_DB", "sqlite").lower()
PG_SERVER_URL = os.environ.get("KESTRA_LITE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_SERVER_URL = os.environ.get("KESTRA_LITE_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_DBS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15)   # 0: claims; 14: bench/

if TEST_DB not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"KESTRA_LITE_TEST_DB={TEST_DB!r}: expected sqlite or postgresql")


def pytest_report_header(config):
    return f"kestra-lite test database: {TEST_DB}"


def _admin_connection():
    import psycopg2
    parts = urlsplit(PG_SERVER_URL)
    connection = psycopg2.connect(host=parts.hostname, port=parts.port or 5432,
                                  user=parts.username or "postgres",
                                  password=parts.password, dbname="postgres")
    connection.autocommit = True
    return connection


def _drop_stale_databases(cursor) -> None:
    """Drop the databases of earlier sessions whose process is gone (killed runs)."""
    cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'kestra\\_lite\\_test\\_%'")
    for (name,) in cursor.fetchall():
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _postgres_url():
    """A throwaway PostgreSQL database for the session, migrated once."""
    if TEST_DB != "postgresql":
        yield None
        return
    name = f"kestra_lite_test_{os.getpid()}"
    admin = _admin_connection()
    with admin.cursor() as cursor:
        _drop_stale_databases(cursor)
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(PG_SERVER_URL)
    url = urlunsplit(("postgresql", parts.netloc, f"/{name}", "", ""))
    store_db.connect(url)
    store_db.migrate()
    store_db.close()
    try:
        yield url
    finally:
        store_db.close()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def database_url(tmp_path, _postgres_url) -> str:
    """This test's empty database."""
    if _postgres_url is None:
        return f"sqlite:///{tmp_path / 'kestra-lite.db'}"
    store_db.connect(_postgres_url)
    store_db.truncate_all()
    store_db.close()
    return _postgres_url


@pytest.fixture(scope="session")
def _redis_db():
    """A Redis database number claimed for this test session alone (several sessions, such
    as two checkouts tested at once, would otherwise flush each other's queues): a claim key
    in db 0, set if absent, released at the end."""
    import redis
    admin = redis.Redis.from_url(REDIS_SERVER_URL + "/0", socket_connect_timeout=2)
    try:
        admin.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not answering at {REDIS_SERVER_URL}: {exc} (scripts/test "
                    "starts it)")
    for number in REDIS_DBS:
        claim = f"kestra-lite-tests:db:{number}"
        if admin.set(claim, os.getpid(), nx=True, ex=6 * 3600):
            try:
                yield number
            finally:
                admin.delete(claim)
                admin.close()
            return
    pytest.fail(f"every test Redis database is claimed (keys kestra-lite-tests:db:* in db 0 "
                f"of {REDIS_SERVER_URL}); delete stale claims")


@pytest.fixture
def redis_url(_redis_db) -> str:
    """This session's Redis database, flushed before each test."""
    import redis
    parts = urlsplit(REDIS_SERVER_URL)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{_redis_db}", "", ""))
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture
def storage_dir(tmp_path):
    path = tmp_path / "storage"
    path.mkdir()
    return path


@pytest.fixture
def settings(database_url, redis_url, storage_dir, tmp_path) -> Settings:
    """Settings pointing at this test's database, Redis db and storage directory."""
    return Settings.from_env({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "KESTRA_LITE_STORAGE_DIR": str(storage_dir),
        "KESTRA_LITE_QUEUE": f"kestra-test-{os.getpid()}",
        "KESTRA_LITE_ENCRYPTION_KEY": "0123456789abcdef0123456789abcdef",
    })


@pytest.fixture
def db(settings):
    """The test's database, connected (module-level proxy) and migrated."""
    database = store_db.connect(settings.database_url)
    store_db.migrate()
    try:
        yield database
    finally:
        store_db.close()


@pytest.fixture
def make_runtime(settings, db):
    """`make_runtime(**changes)`: a runtime (database, Redis queue, storage) on this test's
    settings with some changed (secrets, heartbeat...), installed as the process runtime."""
    from kestra_lite.services import runtime as runtimes
    made = []

    def make(**changes):
        runtime = runtimes.Runtime(dataclasses.replace(settings, **changes), migrate=True)
        runtimes.install(runtime)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.queue.empty()
    runtimes.install(None)


@pytest.fixture
def runtime(make_runtime):
    return make_runtime()
