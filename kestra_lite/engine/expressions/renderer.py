"""Compiling (cached) and rendering templates; turning failures into ExpressionError."""
from __future__ import annotations

import functools
import re

from jinja2 import Undefined
from jinja2.exceptions import SecurityError, TemplateSyntaxError

from .dialect import PLACEHOLDER, RAW_BLOCK, translate
from .environment import create_environment
from .errors import ExpressionError
from .hooks import CURRENT_HOOKS, DEFAULT_HOOKS
from .undefined import MissingVariable

MAX_RENDERING_AMOUNT = 100
ENV = create_environment()
_GLOBALS = dict(ENV.globals)
_CONTEXT = ENV.context_class


def _context(tmpl, variables):
    """A render context without Jinja's slow ChainMap copy of the globals."""
    return _CONTEXT(ENV, {**_GLOBALS, **variables}, None, tmpl.blocks, None)
_TEMPLATE_FILE = "<template>"
_RESULT = "__kresult"


class Compiled:
    __slots__ = ("template", "raws", "typed_source", "typed", "typed_line")

    def __init__(self, template, raws, typed_source, typed_line):
        self.template = template
        self.raws = raws
        self.typed_source = typed_source
        self.typed = None
        self.typed_line = typed_line


def _line_of(exc, default=1) -> int:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line or default


def _error(exc: BaseException, template: str, line_offset: int = 0) -> ExpressionError:
    if isinstance(exc, ExpressionError):
        return exc
    line = _line_of(exc) + line_offset
    if isinstance(exc, MissingVariable):
        return ExpressionError(
            f"Unable to find `{exc.name}` used in the expression `{template}` at line {line}")
    if isinstance(exc, TemplateSyntaxError):
        message = exc.message or "syntax error"
        m = re.match(r"No (filter|test) named '([^']+)'", message)
        if m:
            message = f"{m.group(1).capitalize()} [{m.group(2)}] does not exist"
        return ExpressionError(
            f"{message} in the expression `{template}` at line {(exc.lineno or 1) + line_offset}")
    if isinstance(exc, SecurityError):
        return ExpressionError(f"Forbidden operation in the expression `{template}` at line {line}: {exc}")
    if isinstance(exc, RecursionError):
        return ExpressionError(f"Too many nested renderings in the expression `{template}`")
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ExpressionError(
        f"Unable to render the expression `{template}` at line {line}: {detail}")


@functools.lru_cache(maxsize=4096)
def compile_template(template: str) -> Compiled:
    translation = translate(template)
    try:
        jinja_template = ENV.from_string(translation.source)
    except TemplateSyntaxError as e:
        raise _error(e, template) from None
    typed_line = template[: template.find("{{")].count("\n") if translation.typed_expr else 0
    return Compiled(jinja_template, tuple(translation.raws), translation.typed_expr, typed_line)


def _typed_template(compiled: Compiled, template: str):
    if compiled.typed is None:
        try:
            compiled.typed = ENV.from_string(f"{{% set {_RESULT} = ({compiled.typed_source}) %}}")
        except TemplateSyntaxError as e:
            raise _error(e, template, compiled.typed_line) from None
    return compiled.typed


def _restore_raws(result: str, raws, keep_tags: bool) -> str:
    for index, block in enumerate(raws):
        content = block if keep_tags else RAW_BLOCK.match(block).group(1)
        result = result.replace(PLACEHOLDER.format(index), content)
    return result


def _render_once(template: str, variables: dict, keep_raw_tags: bool) -> str:
    compiled = compile_template(template)
    tmpl = compiled.template
    try:
        result = "".join(tmpl.root_render_func(_context(tmpl, variables)))
    except Exception:
        try:
            ENV.handle_exception()
        except Exception as e:
            raise _error(e, template) from None
    if compiled.raws:
        result = _restore_raws(result, compiled.raws, keep_raw_tags)
    return result


def render_string(template: str, variables: dict, hooks, recursive: bool) -> str:
    """Kestra's VariableRenderer.render (hooks already installed by the caller)."""
    if "{" not in template:
        return template
    if not recursive:
        return _render_once(template, variables, False)
    current = template
    for _ in range(MAX_RENDERING_AMOUNT + 1):
        result = _render_once(current, variables, True)
        if result == current:
            return RAW_BLOCK.sub(r"\1", result) if "raw" in result else result
        if "{" not in result:
            return result
        current = result
    raise ExpressionError("Too many rendering attempts")


# ---------------------------------------------------------------- public API

def render(template: str, variables: dict, hooks=None) -> str:
    """Render a Pebble template to text."""
    if "{" not in template:
        return template
    token = CURRENT_HOOKS.set(hooks or DEFAULT_HOOKS)
    try:
        return _render_once(template, variables, False)
    finally:
        CURRENT_HOOKS.reset(token)


def render_typed(template: str, variables: dict, hooks=None):
    """Like render(), but a template made of exactly one ``{{ expr }}`` gives the native value."""
    if "{" not in template:
        return template
    compiled = compile_template(template)
    if compiled.typed_source is None:
        return render(template, variables, hooks)
    tmpl = _typed_template(compiled, template)
    token = CURRENT_HOOKS.set(hooks or DEFAULT_HOOKS)
    try:
        context = _context(tmpl, variables)
        try:
            for _ in tmpl.root_render_func(context):
                pass
            value = context.vars[_RESULT]
            if isinstance(value, Undefined):
                value._fail_with_undefined_error()
        except Exception:
            try:
                ENV.handle_exception()
            except Exception as e:
                raise _error(e, template, compiled.typed_line) from None
        return value
    finally:
        CURRENT_HOOKS.reset(token)


def render_value(value, variables: dict, hooks=None):
    """Render every string (dict keys included) of a nested structure."""
    if isinstance(value, str):
        return render(value, variables, hooks) if "{" in value else value
    if isinstance(value, dict):
        return {render_value(k, variables, hooks): render_value(v, variables, hooks)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render_value(v, variables, hooks) for v in value]
    return value


def render_value_typed(value, variables: dict, hooks=None):
    """Like render_value() but string leaves use render_typed() (keys stay strings)."""
    if isinstance(value, str):
        return render_typed(value, variables, hooks) if "{" in value else value
    if isinstance(value, dict):
        return {render_value(k, variables, hooks): render_value_typed(v, variables, hooks)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render_value_typed(v, variables, hooks) for v in value]
    return value


def nest_dotted(mapping: dict) -> dict:
    """``{"system.correlationId": x, "a": 1}`` -> ``{"system": {"correlationId": x}, "a": 1}``."""
    out: dict = {}
    for key, value in mapping.items():
        if not isinstance(key, str) or "." not in key:
            existing = out.get(key)
            if isinstance(existing, dict) and isinstance(value, dict):
                existing.update(value)
            else:
                out[key] = value
            continue
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return out
