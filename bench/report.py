"""What every bench script prints: one JSON line per figure, and the percentiles it needs."""
from __future__ import annotations

import json


def emit(metric: str, db: str, value: float, unit: str, **extra) -> None:
    """`{"metric": NAME, "db": ..., "value": ..., "unit": ...}` (plus any extra fields)."""
    line = {"metric": metric, "db": db, "value": round(value, 2), "unit": unit}
    line.update(extra)
    print(json.dumps(line), flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0.95 = p95) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(len(ordered) * fraction)) - 1))]
