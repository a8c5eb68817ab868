"""The execution.Labels task's label rendering (semantics 4, Execution-updating)."""
from __future__ import annotations

import json

from kestra_lite.engine.expressions import render, to_text


def rendered_labels(raw, variables: dict, hooks) -> list[dict]:
    """A map (keys and values rendered), a list of {key, value}, or a string rendered to a JSON object."""
    if isinstance(raw, str):
        text = render(raw, variables, hooks)
        try:
            parsed = json.loads(text)
        except ValueError:
            raise ValueError(f"Unable to parse the labels `{text}` as a JSON object")
        if not isinstance(parsed, dict):
            raise ValueError(f"The labels must be a JSON object, got `{text}`")
        pairs = list(parsed.items())
    elif isinstance(raw, dict):
        pairs = [(_render(k, variables, hooks), _render(v, variables, hooks)) for k, v in raw.items()]
    elif isinstance(raw, list):
        pairs = [(_render(i.get("key"), variables, hooks), _render(i.get("value"), variables, hooks))
                 for i in raw]
    else:
        raise ValueError("labels must be a map, a list of {key, value} or a JSON string")
    labels = []
    for key, value in pairs:
        key, value = str(key), _text(value)
        if key.startswith("system."):
            raise ValueError("System labels can only be set by Kestra itself, offending label: "
                             f"{key}={value}")
        labels.append({"key": key, "value": value})
    return labels


def _render(value, variables, hooks):
    return render(value, variables, hooks) if isinstance(value, str) else value


def _text(value) -> str:
    return value if isinstance(value, str) else to_text(value)
