"""The script guardian: a dead worker leaves no script behind.

One guardian per worker process, started with the first script the worker runs, as
`python -I -S guardian.py` (standard library only, imported by nobody) in a session of its
own, its stdin a pipe from the worker. Every script runs in a process group of its own; the
worker writes `+<group>` when one starts and `-<group>` when it is over. When the worker
dies (SIGKILL, crash, out of memory), the kernel closes its end of the pipe: the guardian
reads end-of-file, SIGKILLs every group still registered (the script and everything it
started), and exits. It costs a line on a pipe per script, not a process.
"""
import os
import signal
import sys


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # a Ctrl-C for the worker: wait for EOF
    groups: set[int] = set()
    for line in sys.stdin.buffer:
        sign, group = line[:1], line[1:].strip()
        if group.isdigit():
            (groups.add if sign == b"+" else groups.discard)(int(group))
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


if __name__ == "__main__":
    main()
