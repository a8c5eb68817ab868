"""Kestra's Pebble expression dialect on a sandboxed Jinja2 environment.

Public API: render, render_typed, render_value, render_value_typed, is_truthy, to_text,
Hooks, ExpressionError, nest_dotted.
"""
from .errors import ExpressionError
from .hooks import Hooks
from .output import is_truthy, to_json, to_text
from .renderer import nest_dotted, render, render_typed, render_value, render_value_typed

__all__ = [
    "ExpressionError", "Hooks", "render", "render_typed", "render_value", "render_value_typed",
    "is_truthy", "to_text", "to_json", "nest_dotted",
]
