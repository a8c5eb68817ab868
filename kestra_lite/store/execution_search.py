"""Searching executions for the list pages and the API: `search(tenant, filters, ...)`
(a page of executions without task runs, with a capped count) and `histogram(...)` (the
dashboard's executions by state over time). Rows and writes live in store/executions.py."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from .db import database
from .executions import (BY_DATE, BY_FLOW, BY_LABEL, BY_STATE, LABELS_OF, ExecutionRow,
                         _build, label_item)


# -- search (list pages, API) ------------------------------------------------------------
# A search is planned here rather than left to the database's planner, because SQLite has
# no value statistics (it cannot tell a rare state from a common one) and a wrong guess
# costs a scan of 100,000 rows:
#   1. Each filter that has an index of its own (trigger, child, labels, namespace/flow/
#      scope, states, dates, free text) is counted on that index alone, stopping at
#      SELECTIVE rows: a cheap estimate.
#   2. The smallest one under SELECTIVE drives: its rows are read, the other filters
#      applied from the same index (every list index holds every filtered column), the
#      matches sorted by date. At most SELECTIVE rows are read.
#   3. Otherwise nothing is rare: the page walks an index in date order (the label index
#      when only labels and dates are filtered, else the date index) and stops at the
#      page's last row; the count walks the smallest filter's index (re-estimated up to
#      COUNT_CAP) and stops at COUNT_CAP matches.
#   4. When the count finds few matches after all, the page reads them by the count's path.
# PostgreSQL gets the same SQL without index hints, and in case 3 its own planner (it has
# statistics) but for a label walk and a flow id's (namespace, flow) seeks.
SELECTIVE = 2000
_SORTS = {
    "start_date": "start_date", "state.startDate": "start_date", "startDate": "start_date",
    "end_date": "end_date", "state.endDate": "end_date", "endDate": "end_date",
    "namespace": "namespace", "flow_id": "flow_id", "flowId": "flow_id",
    "state": "state", "state.current": "state", "id": "id",
    "duration": "duration", "state.duration": "duration",
}
_PRIMARY_KEY = "sqlite_autoindex_executions_1"
_BY_TRIGGER = "executions_tenant_trigger_execution_id"


class _Where:
    """SQL conditions with their parameters (`?` marks; PostgreSQL's are swapped in)."""

    def __init__(self):
        self.parts: list[str] = []
        self.params: list = []

    def add(self, sql: str, *params) -> None:
        self.parts.append(sql)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "1 = 1"


@dataclass
class _Word:
    """A free word: it matches an execution whose namespace or flow id contains it (any
    case) or whose id starts with it. `pairs`: the (namespace, flow id) it matches."""
    text: str
    namespaces: list[str]
    flows: list[str]
    pairs: list[tuple[str, str]]
    ids: bool = True            # may some execution id start with it?


@dataclass
class _Driver:
    """Where a search starts: an index and the filter it answers alone."""
    name: str
    index: str | None           # executions index (None: the label index)
    label: int | None = None    # the label (position in filters.labels) that drives
    word: _Word | None = None   # the free word that drives
    estimate: int = 0


def _marks(count: int) -> str:
    return ", ".join(["?"] * count)


def _namespace_sql(column: str, namespace: str) -> tuple[str, list]:
    """The namespace or its children: one index range [ns, ns + "/") (which holds ns,
    ns + "." children, and ns + "-...", left out by the last test)."""
    from .search import byte_order
    if byte_order():
        return (f"({column} >= ? AND {column} < ? AND ({column} = ? OR {column} >= ?))",
                [namespace, namespace + "/", namespace, namespace + "."])
    escaped = namespace.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"({column} = ? OR {column} LIKE ? ESCAPE '\\')", [namespace, escaped + ".%"]


def _date(value: datetime) -> datetime:
    return ExecutionRow.start_date.db_value(value)


def _date_range(where: _Where, filters, alias: str) -> None:
    if filters.start is not None:
        where.add(f"{alias}.start_date >= ?", _date(filters.start))
    if filters.end is not None:
        where.add(f"{alias}.start_date <= ?", _date(filters.end))


def _id_range(word: str) -> list[str]:
    return [word, word[:-1] + chr(ord(word[-1]) + 1)]


def _run(sql: str, params: list) -> list[tuple]:
    from .db import is_sqlite
    if not is_sqlite():
        sql = sql.replace("?", "%s")
    return database.execute_sql(sql, params).fetchall()


def _no_jit() -> None:
    """PostgreSQL compiles a query whose estimated cost is high (a capped count over many
    rows looks costly) with JIT: 5-20 ms per run, more than the query. Off for this
    transaction."""
    from .db import is_sqlite
    if not is_sqlite():
        database.execute_sql("SET LOCAL jit = off")


def _hint(index: str | None) -> str:
    """`INDEXED BY` for SQLite; PostgreSQL plans by itself."""
    from .db import is_sqlite
    return f" INDEXED BY {index}" if index and is_sqlite() else ""


def _words(tenant: str, filters) -> list[_Word]:
    if not filters.words:
        return []
    pairs = _pairs(tenant)
    words = []
    for text in filters.words:
        lowered = text.lower()
        matched = [(ns, flow) for ns, flow in pairs
                   if lowered in ns.lower() or lowered in flow.lower()]
        words.append(_Word(text, sorted({ns for ns, flow in matched if lowered in ns.lower()}),
                           sorted({flow for ns, flow in matched if lowered in flow.lower()}),
                           matched))
    return words


def _text_sql(word: _Word) -> tuple[str, list]:
    options, params = [], []
    if word.namespaces:
        options.append(f"e.namespace IN ({_marks(len(word.namespaces))})")
        params.extend(word.namespaces)
    if word.flows:
        options.append(f"e.flow_id IN ({_marks(len(word.flows))})")
        params.extend(word.flows)
    if word.ids:
        options.append("(e.id >= ? AND e.id < ?)")
        params.extend(_id_range(word.text))
    return "(" + (" OR ".join(options) or "1 = 0") + ")", params


def _label_sql(key: str, value: str, id_column: str) -> tuple[str, list]:
    """Has the execution the label: read from label_text (in every list index), or probed
    in execution_labels for system labels and executions whose label_text is too long."""
    from .db import is_sqlite
    probe = (f"EXISTS (SELECT 1 FROM execution_labels x{_hint(LABELS_OF)}"
             f" WHERE x.execution_id = {id_column} AND x.key = ? AND x.value = ?)")
    item = label_item(key, value)
    if item is None:
        return probe, [key, value]
    text = id_column.split(".")[0] + ".label_text"
    find = "instr" if is_sqlite() else "strpos"
    return (f"({find}({text}, ?) > 0 OR ({text} IS NULL AND {probe}))",
            [item, key, value])


def _row_filters(filters, words) -> bool:
    """Do the filters read columns of the execution row (beyond labels and dates)?"""
    return bool(filters.states or filters.namespace or filters.flow_id or filters.scope
                or filters.child or filters.trigger_execution_id or words)


def _conditions(tenant: str, filters, words, *, skip_label: int | None = None,
                id_column: str = "e.id", implied: frozenset = frozenset()) -> _Where:
    """Every filter as conditions on `e` (labels as probes of the execution's labels),
    but those `implied` by the driver's seek ("tenant", "namespace", "scope", "flow",
    "states", "dates", "trigger", "child", "word:<text>"), label number `skip_label` and
    the dates when that label drives the query (its index holds the dates). Each condition
    left is evaluated on every index entry walked: the fewer, the faster."""
    where = _Where()
    if id_column == "e.id" and "tenant" not in implied:
        where.add("e.tenant = ?", tenant)
    if filters.states and "states" not in implied:
        where.add(f"e.state IN ({_marks(len(filters.states))})", *filters.states)
    if filters.namespace and "namespace" not in implied:
        sql, params = _namespace_sql("e.namespace", filters.namespace)
        where.add(sql, *params)
    if filters.flow_id and "flow" not in implied:
        where.add("e.flow_id = ?", filters.flow_id)
    if skip_label is None and "dates" not in implied:
        _date_range(where, filters, "e")
    if filters.scope in ("SYSTEM", "USER") and "scope" not in implied:
        sql, params = _namespace_sql("e.namespace", "system")
        where.add(sql if filters.scope == "SYSTEM" else f"NOT {sql}", *params)
    if "child" not in implied:
        if filters.child == "CHILD":
            where.add("e.trigger_execution_id IS NOT NULL")
        elif filters.child == "MAIN":
            where.add("e.trigger_execution_id IS NULL")
    if filters.trigger_execution_id and "trigger" not in implied:
        where.add("e.trigger_execution_id = ?", filters.trigger_execution_id)
    for index, (key, value) in enumerate(filters.labels):
        if index != skip_label:
            sql, params = _label_sql(key, value, id_column)
            where.add(sql, *params)
    for word in words:
        if f"word:{word.text}" not in implied:
            sql, params = _text_sql(word)
            where.add(sql, *params)
    return where


def _implied(filters, driver: _Driver) -> frozenset:
    """The filters a driver's seek (see _seek) applies exactly."""
    implied = {"tenant"}
    if driver.name == "trigger":
        implied |= {"trigger"} if filters.trigger_execution_id else {"child"}
    elif driver.name == "flow":
        if filters.flow_id:
            implied |= {"namespace", "scope", "flow"}
        else:
            implied |= {"namespace"} if filters.namespace else {"scope"}
    elif driver.name == "state":
        implied |= {"states", "dates"}
    elif driver.name == "date":
        implied |= {"dates"}
    elif driver.name == "id":
        implied |= {f"word:{driver.word.text}"}
    return frozenset(implied)


# -- drivers --
def _candidates(tenant: str, filters, words) -> list[_Driver]:
    drivers: list[_Driver] = []
    if filters.trigger_execution_id or filters.child == "CHILD":
        drivers.append(_Driver("trigger", _BY_TRIGGER))
    for index, _ in enumerate(filters.labels):
        drivers.append(_Driver("label", None, label=index))
    if filters.namespace or filters.flow_id or filters.scope == "SYSTEM":
        drivers.append(_Driver("flow", BY_FLOW))
    if filters.states:
        drivers.append(_Driver("state", BY_STATE))
    if filters.start is not None or filters.end is not None:
        drivers.append(_Driver("date", BY_DATE))
    for word in words:
        word.ids = bool(_run(f"SELECT 1 FROM executions e{_hint(_PRIMARY_KEY)}"
                             " WHERE e.id >= ? AND e.id < ? LIMIT 1", _id_range(word.text)))
        if not word.pairs:              # only ids can match it
            drivers.append(_Driver("id", _PRIMARY_KEY, word=word))
        elif not word.ids:              # only namespaces/flows: seek them
            drivers.append(_Driver("text", BY_FLOW, word=word))
    return drivers


def _seek(tenant: str, filters, driver: _Driver) -> _Where:
    """Conditions that let the driver's index seek (the driver's own filter, reshaped)."""
    where = _Where()
    where.add("e.tenant = ?", tenant)
    if driver.name == "trigger":
        if filters.trigger_execution_id:
            where.add("e.trigger_execution_id = ?", filters.trigger_execution_id)
        else:
            where.add("e.trigger_execution_id IS NOT NULL")
    elif driver.name == "flow":
        if filters.flow_id:     # one seek per namespace holding the flow
            namespaces = [ns for ns in _namespaces_of_flow(tenant, filters.flow_id)
                          if _namespace_matches(ns, filters)]
            where.add(f"e.namespace IN ({_marks(len(namespaces))})" if namespaces
                      else "1 = 0", *namespaces)
            where.add("e.flow_id = ?", filters.flow_id)
        else:
            namespace = filters.namespace or "system"      # else scope:SYSTEM
            sql, params = _namespace_sql("e.namespace", namespace)
            where.add(sql, *params)
    elif driver.name == "state":
        where.add(f"e.state IN ({_marks(len(filters.states))})", *filters.states)
        _date_range(where, filters, "e")
    elif driver.name == "date":
        _date_range(where, filters, "e")
    elif driver.name == "id":
        where.add("e.id >= ? AND e.id < ?", *_id_range(driver.word.text))
    elif driver.name == "text":
        namespaces = sorted({ns for ns, _ in driver.word.pairs})
        flows = sorted({flow for _, flow in driver.word.pairs})
        where.add(f"e.namespace IN ({_marks(len(namespaces))})", *namespaces)
        where.add(f"e.flow_id IN ({_marks(len(flows))})", *flows)
    return where


def _namespace_matches(namespace: str, filters) -> bool:
    def under(parent: str) -> bool:
        return namespace == parent or namespace.startswith(parent + ".")
    if filters.namespace and not under(filters.namespace):
        return False
    if filters.scope == "SYSTEM":
        return under("system")
    if filters.scope == "USER":
        return not under("system")
    return True


def _label_where(tenant: str, filters, driver: _Driver) -> _Where:
    key, value = filters.labels[driver.label]
    where = _Where()
    where.add("l.tenant = ? AND l.key = ? AND l.value = ?", tenant, key, value)
    _date_range(where, filters, "l")
    return where


def _estimate(tenant: str, filters, drivers: list[_Driver], cap: int) -> None:
    """Set each driver's estimate: how many rows its own filter matches, counting at most
    cap + 1 (one statement for all)."""
    columns, params = [], []
    for number, driver in enumerate(drivers):
        if driver.label is not None:
            where = _label_where(tenant, filters, driver)
            inner = f"SELECT 1 FROM execution_labels l{_hint(BY_LABEL)} WHERE {where.sql()}"
        else:
            where = _seek(tenant, filters, driver)
            inner = f"SELECT 1 FROM executions e{_hint(driver.index)} WHERE {where.sql()}"
        columns.append(f"(SELECT COUNT(*) FROM ({inner} LIMIT {cap + 1}) AS est{number})")
        params.extend(where.params)
    row = _run("SELECT " + ", ".join(columns), params)[0]
    for driver, estimate in zip(drivers, row):
        driver.estimate = int(estimate)


class _PairsCache(threading.local):
    """One search's (namespace, flow id) pairs (read once per search, per thread)."""
    pairs: dict

    def __init__(self):
        self.pairs = {}

    def clear(self) -> None:
        self.pairs = {}


_pairs_cache = _PairsCache()


def _pairs(tenant: str) -> list[tuple[str, str]]:
    from .search import namespace_flow_pairs
    if tenant not in _pairs_cache.pairs:
        _pairs_cache.pairs[tenant] = namespace_flow_pairs(tenant)
    return _pairs_cache.pairs[tenant]


def _namespaces_of_flow(tenant: str, flow_id: str) -> list[str]:
    """The namespaces holding executions of `flow_id`: with them a flow id alone seeks the
    flow index once per namespace."""
    return sorted({ns for ns, flow in _pairs(tenant) if flow == flow_id})


ROW_SEEK = 6    # a label-driven walk that must read the execution's index entry costs ~6x


def _plan(tenant: str, filters, words) -> tuple[_Driver | None, _Driver | None]:
    """(driver of the page query, driver of the count); None = the date index."""
    from .search import COUNT_CAP
    drivers = _candidates(tenant, filters, words)
    if not drivers:
        return None, None
    _estimate(tenant, filters, drivers, SELECTIVE)
    smallest = min(drivers, key=lambda d: d.estimate)
    if smallest.estimate <= SELECTIVE:
        return smallest, smallest
    row_filters = _row_filters(filters, words)
    labels = [d for d in drivers if d.label is not None]
    from .db import is_sqlite
    if not is_sqlite():
        # nothing rare: PostgreSQL's statistics choose the paths; only the shapes its
        # planner gets wrong are given: a label walk (its label join estimates are far
        # off) and a flow id alone as (namespace, flow) seeks
        ordered = min(labels, key=lambda d: d.estimate) if labels and not row_filters else None
        flows = [d for d in drivers if d.name == "flow" and filters.flow_id]
        return ordered, ordered or (flows[0] if flows else None)

    def cost(driver: _Driver) -> int:
        return driver.estimate * (ROW_SEEK if driver.label is not None and row_filters else 1)

    if len(drivers) > 1:        # nothing rare: which one is the smallest, up to the cap?
        _estimate(tenant, filters, drivers, COUNT_CAP)
    counting = min(drivers, key=cost)
    # the page walks in date order: a label's index when it needs nothing else (other
    # labels and dates are in it), else the date index (every other filter is in it)
    ordered = min(labels, key=lambda d: d.estimate) if labels and not row_filters else None
    return ordered, counting


def _from(tenant: str, filters, words, driver: _Driver | None, *,
          for_count: bool = False) -> tuple[str, list]:
    """FROM ... WHERE ... of the search, starting at `driver` (None: the date index)."""
    from .db import is_sqlite
    if driver is not None and driver.label is not None:
        label = _label_where(tenant, filters, driver)
        if for_count and not _row_filters(filters, words):
            where = _conditions(tenant, filters, words, skip_label=driver.label,
                                id_column="l.execution_id")
            return (f"FROM execution_labels l{_hint(BY_LABEL)} WHERE {label.sql()}"
                    f" AND {where.sql()}", label.params + where.params)
        where = _conditions(tenant, filters, words, skip_label=driver.label)
        if is_sqlite():
            # the covering date index is sought by (tenant, start_date, id); CROSS JOIN
            # keeps the label index outside; `+` stops SQLite from copying the label's
            # date range onto e (it would range-scan e instead of seeking it)
            join = (f"CROSS JOIN executions e{_hint(BY_DATE)} ON e.tenant = l.tenant"
                    " AND e.start_date = +l.start_date AND e.id = l.execution_id")
        else:   # by primary key (three join columns make PostgreSQL expect one row)
            join = "JOIN executions e ON e.id = l.execution_id"
        return (f"FROM execution_labels l{_hint(BY_LABEL)} {join}"
                f" WHERE {label.sql()} AND {where.sql()}", label.params + where.params)
    if driver is None:
        where = _conditions(tenant, filters, words)
        return f"FROM executions e{_hint(BY_DATE)} WHERE {where.sql()}", where.params
    seek = _seek(tenant, filters, driver)
    where = _conditions(tenant, filters, words, implied=_implied(filters, driver))
    return (f"FROM executions e{_hint(driver.index)} WHERE {seek.sql()} AND {where.sql()}",
            seek.params + where.params)


def _order_sql(sort: str | None, driver: _Driver | None) -> tuple[str, bool]:
    """ORDER BY for `sort`; second value: is it the date order the plans are made for."""
    field, _, direction = (sort or "start_date:desc").partition(":")
    column_name = _SORTS.get(field)
    if column_name is None:
        from ..errors import InvalidInput
        raise InvalidInput(f"cannot sort executions by {field!r}; expected one of "
                           f"{', '.join(sorted(set(_SORTS)))}")
    way = "ASC" if direction.lower() == "asc" else "DESC"
    if column_name == "start_date":
        if driver is not None and driver.label is not None:
            return f"l.start_date {way}, l.execution_id {way}", True
        return f"e.start_date {way}, e.id {way}", True
    if column_name == "id":
        return f"e.id {way}", False
    if column_name == "duration":
        from .db import is_sqlite
        column = ("(julianday(COALESCE(e.end_date, CURRENT_TIMESTAMP))"
                  " - julianday(e.start_date))" if is_sqlite() else
                  "(COALESCE(e.end_date, (now() AT TIME ZONE 'utc')) - e.start_date)")
    else:
        column = f"e.{column_name}"
    return f"{column} {way}, e.id {way}", False


def search(tenant: str, filters, *, page: int = 1, size: int = 25,
           sort: str = "start_date:desc"):
    """One page of the executions matching `filters` (model.filters.Filters), newest first
    by default, WITHOUT their task runs (read-only objects), and the capped total.

    Free text: each word must be in the namespace or the flow id (any case), or start the
    execution id."""
    from .search import COUNT_CAP, SearchPage, paging
    page, size = paging(page, size)
    _pairs_cache.clear()
    with database.atomic():     # one snapshot for the plan, the count and the page
        _no_jit()
        words = _words(tenant, filters)
        page_driver, count_driver = _plan(tenant, filters, words)
        order, by_date = _order_sql(sort, page_driver)
        if not by_date:         # another order: the whole match is sorted anyway
            page_driver = count_driver = None
        count_from, count_params = _from(tenant, filters, words, count_driver,
                                         for_count=True)
        total = int(_run(f"SELECT COUNT(*) FROM (SELECT 1 {count_from}"
                         f" LIMIT {COUNT_CAP + 1}) AS capped", count_params)[0][0])
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
        if total == 0 or ((page - 1) * size >= total and not capped):
            return SearchPage([], total, capped)
        if total <= SELECTIVE and count_driver is not None and by_date:
            # few matches after all (the filters together are rare): walking in date
            # order would read far; the count's path reads them all, then sorts them
            page_driver = count_driver
            order, _ = _order_sql(sort, page_driver)
        page_from, page_params = _from(tenant, filters, words, page_driver)
        rows = _run(f"SELECT e.id, e.version, e.data, e.meta {page_from} ORDER BY {order}"
                    f" LIMIT {int(size)} OFFSET {int((page - 1) * size)}", page_params)
    _pairs_cache.clear()
    return SearchPage([_build(tuple(row), None) for row in rows], total, capped)


def histogram(tenant: str, filters, *, buckets: int = 30,
              now: datetime | None = None) -> list[tuple[datetime, str, int]]:
    """Executions matching `filters` counted per time bucket and state: (bucket start,
    state, count), oldest bucket first. The span is filters.start (or the first matching
    execution) to filters.end (or now), cut into `buckets` equal buckets."""
    from datetime import timedelta, timezone
    from .db import is_sqlite
    now = now or datetime.now(timezone.utc)
    with database.atomic():
        _no_jit()
        words = _words(tenant, filters)
        where = _conditions(tenant, filters, words)
        end = filters.end or now
        start = filters.start
        if start is None:
            first = _run(f"SELECT e.start_date FROM executions e{_hint(BY_DATE)}"
                         f" WHERE {where.sql()} ORDER BY e.start_date LIMIT 1", where.params)
            if not first:
                return []
            first = first[0][0]
            if isinstance(first, str):
                first = datetime.fromisoformat(first)
            start = first if first.tzinfo else first.replace(tzinfo=timezone.utc)
        if start >= end:
            end = start + timedelta(seconds=1)
        buckets = max(1, int(buckets))
        width = max(1, -(-int((end - start).total_seconds()) // buckets))
        origin = int(start.timestamp())
        if is_sqlite():
            index = f"((CAST(strftime('%s', e.start_date) AS INTEGER) - {origin}) / {width})"
        else:
            index = (f"CAST(FLOOR((EXTRACT(EPOCH FROM e.start_date) - {origin}) / {width})"
                     " AS INTEGER)")
        bounds = _Where()
        if filters.start is None:
            bounds.add("e.start_date >= ?", _date(start))
        if filters.end is None:
            bounds.add("e.start_date <= ?", _date(end))
        rows = _run(f"SELECT {index} AS bucket, e.state, COUNT(*)"
                    f" FROM executions e{_hint(BY_DATE)} WHERE {where.sql()} AND {bounds.sql()}"
                    " GROUP BY 1, 2", where.params + bounds.params)
    counts: dict[tuple[int, str], int] = {}
    for bucket, state, count in rows:
        bucket = min(max(int(bucket), 0), buckets - 1)
        counts[(bucket, state)] = counts.get((bucket, state), 0) + int(count)
    return [(datetime.fromtimestamp(origin + bucket * width, timezone.utc), state, count)
            for (bucket, state), count in sorted(counts.items())]
