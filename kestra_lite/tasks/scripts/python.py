"""io.kestra.plugin.scripts.python.Commands and .Script: a `script` runs with `python`.

`python` is the worker's own interpreter: the Process runner puts the directory of
`sys.executable` first on the script's PATH, so scripts see the worker's packages, the
`kestra` PyPI package (`from kestra import Kestra`) among them when it is installed.
"""
from kestra_lite.tasks.scripts import task

PYTHON = task.Language("python", program="python", suffix=".py")


class Commands(task.Commands):
    language = PYTHON


class Script(task.Script):
    language = PYTHON
