"""Values from the query string or a form. Numbers, for pages: a missing or malformed value
falls back to its default, any value is clamped to what the database can hold (a page
number of forty digits is page 2,147,483,647, not a server error). Return paths: followed
only when they stay on this site."""
from __future__ import annotations

from flask import request

INT_MAX = 2**31 - 1


def int_arg(name: str, default: int, *, low: int = 1, high: int = INT_MAX) -> int:
    try:
        value = int(request.values.get(name, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high)


def is_local_path(target: str | None) -> bool:
    """A path of this site: one leading `/`, so no scheme and no host, and no backslash
    (browsers read `/\\host` as `//host`)."""
    return bool(target) and target.startswith("/") and not target.startswith("//") \
        and "\\" not in target
