"""Search plumbing shared by the list queries, and the filter bar's autocomplete sources.

`SearchPage` is what every search returns: one page of results, the total and whether the
total was capped (counts stop at COUNT_CAP rows: the UI then says "10,000+").

Autocomplete sources walk indexes with a "loose index scan" (a recursive query that jumps
from one distinct value to the next), so they cost one index probe per value returned,
whatever the number of rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import peewee

from .db import database, is_sqlite

COUNT_CAP = 10_000
SUGGESTIONS = 20


@dataclass
class SearchPage:
    results: list = field(default_factory=list)
    total: int = 0
    capped: bool = False

    @property
    def total_text(self) -> str:
        """The total as the UI prints it: `10,000+` when capped."""
        return f"{self.total:,}+" if self.capped else f"{self.total:,}"


def capped_count(query: peewee.SelectQuery, cap: int | None = None) -> tuple[int, bool]:
    """How many rows `query` matches, counting at most `cap` (COUNT_CAP; then capped=True)."""
    cap = COUNT_CAP if cap is None else cap
    inner = query.select(peewee.SQL("1")).order_by().limit(cap + 1)
    total = (peewee.Select(from_list=[inner.alias("capped")],
                           columns=[peewee.fn.COUNT(peewee.SQL("*"))])
             .bind(database).scalar())
    total = int(total or 0)
    return (cap, True) if total > cap else (total, False)


def paging(page: int, size: int, *, max_size: int = 500) -> tuple[int, int]:
    """(page, size) clamped to sane bounds."""
    page = min(max(1, int(page or 1)), 10**6)
    size = max(1, min(int(size or 25), max_size))
    return page, size


# -- prefix matching that uses an index ---------------------------------------------------
@lru_cache(maxsize=8)
def _postgres_byte_order(database_id: int) -> bool:
    """Does PostgreSQL compare text in byte order (C / POSIX collation)? Then a prefix is a
    range an index can answer; otherwise we fall back to LIKE."""
    collation = database.execute_sql(
        "SELECT datcollate FROM pg_database WHERE datname = current_database()").fetchone()[0]
    return collation.split(".")[0].upper() in ("C", "POSIX")


def byte_order() -> bool:
    """Does the database compare text byte by byte (SQLite; PostgreSQL with the C
    collation)? Then a prefix is an index range."""
    return True if is_sqlite() else _postgres_byte_order(id(database.obj))


def starts_with(column: Any, prefix: str) -> peewee.Expression:
    """`column` starts with `prefix` (case-sensitive), as an index range where possible."""
    if not prefix:
        return peewee.SQL("1 = 1")
    if byte_order():
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return (column >= prefix) & (column < upper)
    escaped = _like_escaped(prefix)
    return peewee.Expression(column, "LIKE",
                             peewee.NodeList((peewee.Value(escaped + "%", converter=False),
                                              peewee.SQL("ESCAPE '\\'"))))


def namespace_match(column: Any, namespace: str) -> peewee.Expression:
    """The namespace itself or one of its children (`company` matches `company.team`)."""
    return (column == namespace) | starts_with(column, namespace + ".")


def _like_escaped(text: str) -> str:
    """`text` with LIKE's wildcards taken literally (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Any, text: str) -> peewee.Expression:
    """Case-insensitive substring match (LIKE on SQLite, ILIKE on PostgreSQL); `%` and `_`
    in the text are plain characters."""
    pattern = peewee.Value(f"%{_like_escaped(text)}%", converter=False)
    # peewee writes ILIKE as SQLite's LIKE (case-insensitive there), ILIKE on PostgreSQL
    return peewee.Expression(column, peewee.OP.ILIKE,
                             peewee.NodeList((pattern, peewee.SQL("ESCAPE '\\'"))))


# -- autocomplete ----------------------------------------------------------------------------
def _distinct(table: str, column: str, where: str, params: list, prefix: str,
              limit: int) -> list[str]:
    """Distinct values of `column` starting with `prefix` (loose index scan)."""
    condition = f"{where} AND {column} IS NOT NULL"
    sql = (f"WITH RECURSIVE walk(v) AS ("
           f" SELECT (SELECT MIN({column}) FROM {table} WHERE {condition} AND {column} >= %s)"
           f" UNION ALL"
           f" SELECT (SELECT MIN({column}) FROM {table} WHERE {condition} AND {column} > walk.v)"
           f" FROM walk WHERE walk.v IS NOT NULL)"
           f" SELECT v FROM walk WHERE v IS NOT NULL LIMIT %s")
    if is_sqlite():
        sql = sql.replace("%s", "?")
    found = []
    cursor = database.execute_sql(sql, [*params, prefix, *params, limit * 4 + 50])
    for (value,) in cursor.fetchall():
        if not value.startswith(prefix):
            if byte_order():
                break           # past the prefix: every later value is too
            continue
        found.append(value)
        if len(found) >= limit:
            break
    return found


def namespace_flow_pairs(tenant: str) -> list[tuple[str, str]]:
    """Every distinct (namespace, flow id) of the tenant's executions (execution_flows)."""
    from .executions import ExecutionFlowRow as Pair
    return list(Pair.select(Pair.namespace, Pair.flow_id).where(Pair.tenant == tenant)
                .order_by(Pair.namespace, Pair.flow_id).tuples())


def distinct_namespaces(tenant: str, prefix: str = "", *, limit: int = SUGGESTIONS,
                        tables: tuple[str, ...] = ("flows", "execution_flows")) -> list[str]:
    """Namespaces starting with `prefix`: of flows and of executions (or of the given
    tables, each with a (tenant, namespace, ...) index), and their parents (`company.team`
    brings `company`), sorted."""
    from .flows import FlowRow   # noqa: F401  (tables exist)
    names: set[str] = set()
    for table in tables:
        names.update(_distinct(table, "namespace", "tenant = %s", [tenant], prefix, limit * 5))
    parents = set()
    for name in names:
        parts = name.split(".")
        for cut in range(1, len(parts)):
            parents.add(".".join(parts[:cut]))
    names |= {name for name in parents if name.startswith(prefix)}
    return sorted(names)[:limit]


def flow_ids(tenant: str, prefix: str = "", *, namespace: str | None = None,
             limit: int = SUGGESTIONS) -> list[str]:
    """Flow ids starting with `prefix` (of stored flows that are not deleted)."""
    from .flows import FlowRow, latest_revisions
    query = (latest_revisions(tenant)
             .select(FlowRow.flow_id).distinct()
             .where(FlowRow.deleted == False)   # noqa: E712
             .order_by(FlowRow.flow_id).limit(limit))
    if prefix:
        query = query.where(starts_with(FlowRow.flow_id, prefix))
    if namespace:
        query = query.where(namespace_match(FlowRow.namespace, namespace))
    return [row[0] for row in query.tuples()]


def label_keys(tenant: str, prefix: str = "", *, limit: int = SUGGESTIONS) -> list[str]:
    """Label keys of executions starting with `prefix`."""
    return _distinct("execution_labels", "key", "tenant = %s", [tenant], prefix, limit)


def label_values(tenant: str, key: str, prefix: str = "", *,
                 limit: int = SUGGESTIONS) -> list[str]:
    """Values of the execution label `key` starting with `prefix`."""
    return _distinct("execution_labels", "value", "tenant = %s AND key = %s", [tenant, key],
                     prefix, limit)
