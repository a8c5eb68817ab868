"""Namespaces are implicit (semantics 12): derived from flows, plus those holding only KV
entries, plus every parent of those (`company` for `company.team`).

    summaries(tenant, text="") -> [NamespaceSummary] sorted by name (a tree by dots)
    secret_names(secrets) -> the names an environment secret backend offers (never values)
"""
from __future__ import annotations

from dataclasses import dataclass

import peewee

from ..store.flows import FlowRow
from . import kv as kv_service


@dataclass
class NamespaceSummary:
    namespace: str
    flows: int = 0
    kv_entries: int = 0

    @property
    def depth(self) -> int:
        return self.namespace.count(".")

    @property
    def parent(self) -> str | None:
        return self.namespace.rsplit(".", 1)[0] if "." in self.namespace else None


def flow_counts(tenant: str) -> dict[str, int]:
    """{namespace: number of flows whose latest revision is not deleted}."""
    latest = FlowRow.alias("latest")
    newest = (latest.select(latest.namespace, latest.flow_id,
                            peewee.fn.MAX(latest.revision).alias("revision"))
              .where(latest.tenant == tenant)
              .group_by(latest.namespace, latest.flow_id)).alias("newest")
    query = (FlowRow.select(FlowRow.namespace, peewee.fn.COUNT(peewee.SQL("*")))
             .join(newest, on=((FlowRow.namespace == newest.c.namespace)
                               & (FlowRow.flow_id == newest.c.flow_id)
                               & (FlowRow.revision == newest.c.revision)))
             .where(FlowRow.tenant == tenant, FlowRow.deleted == False)  # noqa: E712
             .group_by(FlowRow.namespace).tuples())
    return dict(query)


def summaries(tenant: str, text: str = "") -> list[NamespaceSummary]:
    """Every namespace with flows or KV entries and their parents; `text` keeps those whose
    name contains it (case-insensitive)."""
    found: dict[str, NamespaceSummary] = {}

    def summary(name: str) -> NamespaceSummary:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            found.setdefault(prefix, NamespaceSummary(prefix))
        return found[name]

    for name, count in flow_counts(tenant).items():
        summary(name).flows = count
    for name, count in kv_service.namespaces_with_kv(tenant).items():
        summary(name).kv_entries = count
    needle = (text or "").strip().lower()
    return [found[name] for name in sorted(found)
            if not needle or needle in name.lower()]


def children(tenant: str, namespace: str) -> list[NamespaceSummary]:
    """The direct child namespaces of `namespace` (with their own counts)."""
    prefix = namespace + "."
    return [s for s in summaries(tenant)
            if s.namespace.startswith(prefix) and "." not in s.namespace[len(prefix):]]


def secret_names(secrets) -> list[str]:
    """The secret names a backend offers, sorted. Values are never read."""
    return sorted(secrets.names())
