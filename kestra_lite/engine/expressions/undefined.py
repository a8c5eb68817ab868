"""Strict, chainable undefined values.

Accessing a missing variable/key yields a :class:`KestraUndefined` that remembers the first
missing name; attribute/item access on it returns itself (so ``a.b.c ?? x`` works), and any
other use (printing, comparing, iterating, arithmetic, truth test...) raises
:class:`MissingVariable`, which the renderer turns into Kestra's message.
"""
from __future__ import annotations

from jinja2 import Undefined
from jinja2.exceptions import UndefinedError


class MissingVariable(UndefinedError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class KestraUndefined(Undefined):
    __slots__ = ()

    def _fail_with_undefined_error(self, *args, **kwargs):
        name = self._undefined_name
        if name is None:
            name = "null"
        raise MissingVariable(str(name))

    def __getattr__(self, name):
        if name[:2] == "__" and name[-2:] == "__":
            raise AttributeError(name)
        return self

    def __getitem__(self, key):
        return self

    __iter__ = __str__ = __len__ = _fail_with_undefined_error
    __eq__ = __ne__ = __bool__ = __hash__ = _fail_with_undefined_error
    __contains__ = __call__ = _fail_with_undefined_error
    __lt__ = __le__ = __gt__ = __ge__ = _fail_with_undefined_error
    __add__ = __radd__ = __sub__ = __rsub__ = _fail_with_undefined_error
    __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _fail_with_undefined_error
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _fail_with_undefined_error
    __pos__ = __neg__ = __int__ = __float__ = __complex__ = _fail_with_undefined_error
    __pow__ = __rpow__ = _fail_with_undefined_error

    def __repr__(self):
        return "Undefined"


def is_undefined(value) -> bool:
    return isinstance(value, Undefined)


def fail(value):
    """Raise the missing-variable error carried by an undefined value."""
    value._fail_with_undefined_error()
