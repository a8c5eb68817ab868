"""Script tasks (Kestra's plugin-scripts): `io.kestra.plugin.scripts.{shell,python,node}.
{Commands,Script}`, run with the Process runner.

- task.py: what every script task does (command line, env, outputs, final state);
- process.py: the Process runner (working directory, child process, live logs, kill);
- guardian.py: one process per worker that kills its scripts if the worker dies;
- protocol.py: `::{json}::` lines (outputs, metrics, logs);
- files.py: inputFiles, outputFiles, kestra:// URIs in commands;
- runner.py: a flow asking for Docker (warn and run as a process, or fail);
- shell.py, python.py, node.py: the task classes of each language.
"""
