"""The sandboxed Jinja environment speaking Kestra's Pebble dialect (after translation)."""
from __future__ import annotations

import operator
import threading
from collections.abc import Mapping

from jinja2 import Undefined, nodes
from jinja2.compiler import CodeGenerator
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

from .errors import ExpressionError
from .output import to_text
from .undefined import KestraUndefined

_SLOT = threading.local()
_LOOP_ATTRS = {"index": "index0", "revindex": "revindex0", "length": "length", "first": "first",
               "last": "last", "index0": "index0", "revindex0": "revindex0", "depth": "depth",
               "depth0": "depth0", "previtem": "previtem", "nextitem": "nextitem"}


def concat(parts) -> str:
    """Pebble's ``~``: operands written like the output writer."""
    return "".join(map(to_text, parts))


class _KestraCodeGenerator(CodeGenerator):
    def _output_child_to_const(self, node, frame, finalize):
        # only literal text is folded: constants must go through Kestra's writer at runtime
        if isinstance(node, nodes.TemplateData):
            return str(node.as_const(frame.eval_ctx))
        raise nodes.Impossible()

    def visit_Concat(self, node, frame):
        self.write("environment.kestra_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _dotted(obj: Mapping, attribute: str):
    prefix = attribute + "."
    size = len(prefix)
    sub = {k[size:]: v for k, v in obj.items() if isinstance(k, str) and k.startswith(prefix)}
    return sub or None


def _java_div(a, b):
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ExpressionError("/ by zero")
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    return operator.truediv(a, b)


def _java_mod(a, b):
    if isinstance(a, str):
        raise ExpressionError("Operator % is not supported on strings")
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ExpressionError("/ by zero")
        r = abs(a) % abs(b)
        return r if a >= 0 else -r
    import math
    return math.fmod(a, b)


class KestraEnvironment(SandboxedEnvironment):
    code_generator_class = _KestraCodeGenerator
    intercepted_binops = frozenset(("/", "%"))
    kestra_concat = staticmethod(concat)

    def call_binop(self, context, operator_, left, right):
        if operator_ == "/":
            return _java_div(left, right)
        if operator_ == "%":
            return _java_mod(left, right)
        return super().call_binop(context, operator_, left, right)

    # Data only: dicts/lists are looked up by key/index, never by Python attribute.
    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
            sub = _dotted(obj, attribute)
            return sub if sub is not None else self.undefined(obj=obj, name=attribute)
        return self._lookup(obj, attribute)

    def getitem(self, obj, argument):
        if type(obj) is dict:
            try:
                return obj[argument]
            except (KeyError, TypeError):
                pass
            if isinstance(argument, str):
                sub = _dotted(obj, argument)
                if sub is not None:
                    return sub
            return self.undefined(obj=obj, name=str(argument))
        if isinstance(obj, (list, tuple, str)):
            if isinstance(argument, (int, slice)) and not isinstance(argument, bool):
                try:
                    return obj[argument]
                except IndexError:
                    return self.undefined(obj=obj, name=str(argument))
            if isinstance(argument, str) and argument.lstrip("-").isdigit():
                try:
                    return obj[int(argument)]
                except IndexError:
                    pass
            return self.undefined(obj=obj, name=str(argument))
        return self._lookup(obj, argument)

    def _lookup(self, obj, attribute):
        if isinstance(obj, Undefined):
            return obj
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            sub = _dotted(obj, str(attribute))
            return sub if sub is not None else self.undefined(obj=obj, name=str(attribute))
        if isinstance(obj, (list, tuple)) and isinstance(attribute, str) and attribute.isdigit():
            idx = int(attribute)
            if idx < len(obj):
                return obj[idx]
        if isinstance(obj, LoopContext) and attribute in _LOOP_ATTRS:
            return getattr(obj, _LOOP_ATTRS[attribute])
        return self.undefined(obj=obj, name=str(attribute))


# ---------------------------------------------------------------- dialect helpers

def _not_null(value):
    _SLOT.value = value
    return value is not None and not isinstance(value, Undefined)


def _not_undefined(value):
    _SLOT.value = value
    return not isinstance(value, Undefined)


def _slot_value():
    value = _SLOT.value
    _SLOT.value = None
    return value


def _range(start, end, step=1):
    """Pebble ranges are inclusive."""
    from .functions import pebble_range
    return pebble_range(start, end, step)


def _contains(container, item):
    if isinstance(container, Undefined):
        container._fail_with_undefined_error()
    if isinstance(item, Undefined):
        item._fail_with_undefined_error()
    if container is None:
        return False
    if isinstance(container, str):
        return to_text(item) in container
    if isinstance(container, Mapping):
        if isinstance(item, (list, tuple)):
            return all(k in container for k in item)
        return item in container
    if isinstance(item, (list, tuple)) and isinstance(container, (list, tuple, set)):
        return all(i in container for i in item)
    try:
        return item in container
    except TypeError:
        return False


def _iter(value):
    if value is None:
        return ()
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, Mapping):
        return [{"key": k, "value": v} for k, v in value.items()]
    return value


def _items(value):
    if value is None:
        return ()
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, Mapping):
        return list(value.items())
    return list(enumerate(value))


def create_environment() -> KestraEnvironment:
    from . import filters, functions, predicates
    env = KestraEnvironment(
        autoescape=False,
        keep_trailing_newline=True,
        undefined=KestraUndefined,
        finalize=to_text,
        cache_size=0,
        auto_reload=False,
        optimized=False,
    )
    env.filters = dict(filters.FILTERS)
    env.tests = dict(predicates.TESTS)
    env.globals = dict(functions.FUNCTIONS)
    env.globals.update({
        "__knn": _not_null,
        "__knu": _not_undefined,
        "__kval": _slot_value,
        "__krange": _range,
        "__kcontains": _contains,
        "__kiter": _iter,
        "__kitems": _items,
    })
    return env
