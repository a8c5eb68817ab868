"""Flow revisions. Every save of a changed source adds a revision; the source is verbatim.

A deletion is a revision too (`deleted=True`, same source), as in Kestra: revisions keep
counting after a delete, and saving the flow again brings it back with the next number.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import peewee

from .db import BaseModel, JSONField, UTCDateTimeField, write_transaction


class FlowRow(BaseModel):
    namespace = peewee.CharField(max_length=255)
    flow_id = peewee.CharField(max_length=255)
    revision = peewee.IntegerField()
    source = peewee.TextField()
    deleted = peewee.BooleanField(default=False)
    disabled = peewee.BooleanField(default=False)
    labels = JSONField(null=True)
    created = UTCDateTimeField()

    class Meta:
        table_name = "flows"
        indexes = ((("tenant", "namespace", "flow_id", "revision"), True),)


@dataclass
class FlowRecord:
    namespace: str
    flow_id: str
    revision: int
    source: str
    deleted: bool = False
    tenant: str = "main"
    disabled: bool = False
    labels: list | dict | None = None
    created: datetime | None = None


def _record(row: FlowRow) -> FlowRecord:
    return FlowRecord(namespace=row.namespace, flow_id=row.flow_id, revision=row.revision,
                      source=row.source, deleted=row.deleted, tenant=row.tenant,
                      disabled=row.disabled, labels=row.labels, created=row.created)


def _latest_row(tenant: str, namespace: str, flow_id: str) -> FlowRow | None:
    return (FlowRow.select()
            .where(FlowRow.tenant == tenant, FlowRow.namespace == namespace,
                   FlowRow.flow_id == flow_id)
            .order_by(FlowRow.revision.desc()).first())


def save_flow(tenant: str, namespace: str, flow_id: str, source: str, *,
              disabled: bool = False, labels: list | dict | None = None) -> tuple[int, bool]:
    """Store `source` as the flow's next revision unless it equals the latest one.

    Returns (revision, created): created is False when the source was unchanged."""
    for attempt in range(5):
        try:
            with write_transaction():
                latest = _latest_row(tenant, namespace, flow_id)
                if latest is not None and not latest.deleted and latest.source == source:
                    return latest.revision, False
                revision = 1 if latest is None else latest.revision + 1
                FlowRow.create(tenant=tenant, namespace=namespace, flow_id=flow_id,
                               revision=revision, source=source, deleted=False,
                               disabled=disabled, labels=labels,
                               created=datetime.now(timezone.utc))
                return revision, True
        except peewee.IntegrityError:
            if attempt == 4:   # another process kept winning the same revision number
                raise
    raise AssertionError("unreachable")


def get_flow(tenant: str, namespace: str, flow_id: str, revision: int | None = None,
             allow_deleted: bool = False) -> FlowRecord | None:
    """The latest revision (or `revision`); None when missing or deleted (unless allowed)."""
    if revision is None:
        row = _latest_row(tenant, namespace, flow_id)
    else:
        row = FlowRow.get_or_none(FlowRow.tenant == tenant, FlowRow.namespace == namespace,
                                  FlowRow.flow_id == flow_id, FlowRow.revision == revision)
    if row is None or (row.deleted and not allow_deleted):
        return None
    return _record(row)


def list_flows(tenant: str, namespace: str | None = None) -> list[FlowRecord]:
    """The latest revision of every flow that is not deleted, by namespace then id."""
    latest = FlowRow.alias("latest")
    newest = (latest.select(latest.namespace, latest.flow_id,
                            peewee.fn.MAX(latest.revision).alias("revision"))
              .where(latest.tenant == tenant)
              .group_by(latest.namespace, latest.flow_id))
    if namespace is not None:
        newest = newest.where(latest.namespace == namespace)
    newest = newest.alias("newest")
    query = (FlowRow.select()
             .join(newest, on=((FlowRow.namespace == newest.c.namespace)
                               & (FlowRow.flow_id == newest.c.flow_id)
                               & (FlowRow.revision == newest.c.revision)))
             .where(FlowRow.tenant == tenant, FlowRow.deleted == False)  # noqa: E712
             .order_by(FlowRow.namespace, FlowRow.flow_id))
    return [_record(row) for row in query]


def tenants() -> list[str]:
    """Every tenant that has a flow."""
    return [row.tenant for row in FlowRow.select(FlowRow.tenant).distinct()]


def revisions(tenant: str, namespace: str, flow_id: str) -> list[FlowRecord]:
    """Every revision, oldest first (deletion markers included)."""
    query = (FlowRow.select()
             .where(FlowRow.tenant == tenant, FlowRow.namespace == namespace,
                    FlowRow.flow_id == flow_id)
             .order_by(FlowRow.revision))
    return [_record(row) for row in query]


def delete_flow(tenant: str, namespace: str, flow_id: str) -> bool:
    """Add a deleted revision. False when the flow does not exist or is already deleted."""
    with write_transaction():
        latest = _latest_row(tenant, namespace, flow_id)
        if latest is None or latest.deleted:
            return False
        FlowRow.create(tenant=tenant, namespace=namespace, flow_id=flow_id,
                       revision=latest.revision + 1, source=latest.source, deleted=True,
                       disabled=latest.disabled, labels=latest.labels,
                       created=datetime.now(timezone.utc))
        return True


# -- search ------------------------------------------------------------------------------
def latest_revisions(tenant: str) -> peewee.SelectQuery:
    """FlowRow rows that are the latest revision of their flow (deleted ones included:
    add `FlowRow.deleted == False` to leave them out)."""
    later = FlowRow.alias("later")
    newer = (later.select(peewee.SQL("1"))
             .where(later.tenant == FlowRow.tenant, later.namespace == FlowRow.namespace,
                    later.flow_id == FlowRow.flow_id, later.revision > FlowRow.revision))
    return FlowRow.select().where(FlowRow.tenant == tenant, ~peewee.fn.EXISTS(newer))


def _label_pairs(labels) -> list[tuple[str, str]]:
    from ..model.execution import label_list
    try:
        return [(item["key"], item["value"]) for item in label_list(labels)]
    except (KeyError, TypeError):
        return []


def search_flows(tenant: str, filters, *, page: int = 1, size: int = 25,
                 source_text: bool = False, sort: str | None = None):
    """The latest non-deleted revision of each flow matching `filters` (namespace prefix,
    labels (all), scope, free text), by namespace then id (sort `namespace|id:asc|desc`).
    Free text matches namespace or id; with `source_text`, the YAML source instead
    (Kestra's /flows/source). Returns a SearchPage of FlowRecord."""
    from .search import SearchPage, contains, namespace_match, paging
    page, size = paging(page, size)
    query = latest_revisions(tenant).where(FlowRow.deleted == False)  # noqa: E712
    if filters.namespace:
        query = query.where(namespace_match(FlowRow.namespace, filters.namespace))
    if filters.scope == "SYSTEM":
        query = query.where(namespace_match(FlowRow.namespace, "system"))
    elif filters.scope == "USER":
        query = query.where(~namespace_match(FlowRow.namespace, "system"))
    if getattr(filters, "flow_id", None):
        query = query.where(FlowRow.flow_id == filters.flow_id)
    for word in filters.words:
        if source_text:
            query = query.where(contains(FlowRow.source, word))
        else:
            query = query.where(contains(FlowRow.namespace, word)
                                | contains(FlowRow.flow_id, word)
                                | contains(FlowRow.namespace.concat(".").concat(FlowRow.flow_id),
                                           word))
    field, _, direction = (sort or "namespace:asc").partition(":")
    descending = direction.lower() == "desc"
    order = ([FlowRow.namespace, FlowRow.flow_id] if field != "id"
             else [FlowRow.flow_id, FlowRow.namespace])
    query = query.order_by(*[column.desc() if descending else column for column in order])
    if not filters.labels:
        total = query.count()
        rows = list(query.paginate(page, size))
        return SearchPage([_record(row) for row in rows], total, False)
    wanted = set(filters.labels)
    matching = [row for row in query
                if wanted <= set(_label_pairs(row.labels))]
    start = (page - 1) * size
    return SearchPage([_record(row) for row in matching[start:start + size]], len(matching),
                      False)
