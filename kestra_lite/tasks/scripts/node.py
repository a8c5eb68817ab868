"""io.kestra.plugin.scripts.node.Commands and .Script: a `script` runs with `node` (found on
the worker's PATH)."""
from kestra_lite.tasks.scripts import task

NODE = task.Language("node", program="node", suffix=".js")


class Commands(task.Commands):
    language = NODE


class Script(task.Script):
    language = NODE
