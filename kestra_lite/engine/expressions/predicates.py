"""Pebble/Kestra tests: ``x is defined``, ``x is null``, ``x is json``..."""
from __future__ import annotations

import json
from collections.abc import Mapping

from jinja2 import Undefined

from .undefined import fail


def _strict(value):
    if isinstance(value, Undefined):
        fail(value)
    return value


def defined(value) -> bool:
    return not isinstance(value, Undefined)


def null(value) -> bool:
    return _strict(value) is None


def empty(value) -> bool:
    value = _strict(value)
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (list, tuple, dict, set, Mapping)):
        return len(value) == 0
    return False


def even(value) -> bool:
    return int(_strict(value)) % 2 == 0


def odd(value) -> bool:
    return int(_strict(value)) % 2 == 1


def iterable(value) -> bool:
    return isinstance(_strict(value), (list, tuple, set))


def is_map(value) -> bool:
    return isinstance(_strict(value), Mapping)


def sameas(value, other) -> bool:
    return _strict(value) is other


def is_json(value) -> bool:
    value = _strict(value)
    if value is None:
        return False
    if not isinstance(value, str):
        return True
    try:
        json.loads(value)
        return True
    except ValueError:
        return False


TESTS = {
    "defined": defined,
    "null": null,
    "none": null,
    "empty": empty,
    "even": even,
    "odd": odd,
    "iterable": iterable,
    "map": is_map,
    "sameas": sameas,
    "json": is_json,
}
