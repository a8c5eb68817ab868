"""io.kestra.plugin.scripts.shell.Commands and .Script: a `script` runs with `/bin/sh`."""
from kestra_lite.tasks.scripts import task

SHELL = task.Language("shell", program="/bin/sh", suffix=".sh")


class Commands(task.Commands):
    language = SHELL


class Script(task.Script):
    language = SHELL
