"""Durations of a flow's recent successful executions, the input of model/forecast.py.

The list index ix_executions_flow (tenant, namespace, flow_id, state, start_date, ...)
finds the latest SUCCESS executions of a flow in order; only their `limit` rows are read
(start and end dates), never the JSON data.
"""
from __future__ import annotations

from .executions import ExecutionRow

DEFAULT_LIMIT = 100
SUCCESS = "SUCCESS"


def recent_durations(tenant: str, namespace: str, flow_id: str,
                     limit: int = DEFAULT_LIMIT) -> list[float]:
    """Seconds taken by the latest `limit` SUCCESS executions of the flow, newest first."""
    rows = (ExecutionRow.select(ExecutionRow.start_date, ExecutionRow.end_date)
            .where(ExecutionRow.tenant == tenant, ExecutionRow.namespace == namespace,
                   ExecutionRow.flow_id == flow_id, ExecutionRow.state == SUCCESS)
            .order_by(ExecutionRow.start_date.desc())
            .limit(limit).tuples())
    return [(end - start).total_seconds() for start, end in rows if end is not None]


def durations_by_flow(tenant: str, flows: list[tuple[str, str]],
                      limit: int = DEFAULT_LIMIT) -> dict[tuple[str, str], list[float]]:
    """`recent_durations` of each (namespace, flow id), one indexed query per flow (a list
    page shows at most a few dozen distinct running flows)."""
    return {flow: recent_durations(tenant, flow[0], flow[1], limit)
            for flow in dict.fromkeys(flows)}
