"""Where the bench scripts run: the machine's Redis (a db of its own, flushed by each
script) and a PostgreSQL database recreated for each run."""
from __future__ import annotations

import os

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/kestra_lite_bench"


def reset_postgres(drop_only: bool = False) -> None:
    """Drop kestra_lite_bench (closing what is still connected to it), then create it
    again unless `drop_only`."""
    import psycopg2
    connection = psycopg2.connect(POSTGRES_ADMIN)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS kestra_lite_bench WITH (FORCE)")
        if not drop_only:
            cursor.execute("CREATE DATABASE kestra_lite_bench")
    connection.close()
