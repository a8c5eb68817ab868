"""The first process of every script: it makes sure a dead worker leaves no script behind.

Run as `python -I -S supervisor.py <worker pid> <argv...>` (standard library only, imported
by nobody). The worker starts it as the leader of a new process group; it then

- asks the kernel for SIGHUP when the worker dies (prctl PR_SET_PDEATHSIG, Linux), and
  answers that signal by SIGKILLing its whole process group: the script and everything the
  script started (a PDEATHSIG on the script itself would only reach its first process, and
  `/bin/sh -c` keeps its commands in child processes);
- runs the script as its child (same group) and exits with its exit code (128 + N when
  the script died of signal N, like a shell);
- on SIGTERM (the worker stopping the script: it signals the whole group, then SIGKILLs it
  after a grace delay), passes it on to the group and, being the subreaper of the script's
  processes (PR_SET_CHILD_SUBREAPER), reaps them all before it exits: when it is gone, the
  script is gone, without waiting for an init process to reap orphans.
"""
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
stopping = False


def supervise(worker_pid: int) -> None:
    """SIGHUP when the worker dies (exit at once if it died before we asked); adopt the
    script's orphans; pass SIGTERM on."""
    signal.signal(signal.SIGHUP, kill_group)
    signal.signal(signal.SIGTERM, stop_group)
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGHUP, 0, 0, 0)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):       # not Linux: neither
        return
    if os.getppid() != worker_pid:
        kill_group()


def kill_group(*_) -> None:
    os.killpg(0, signal.SIGKILL)


def stop_group(*_) -> None:
    global stopping
    stopping = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)


def run(argv: list[str]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.execvp(argv[0], argv)
        except OSError as error:
            os.write(2, f"Cannot run {argv[0]}: {error.strerror}\n".encode())
        os._exit(127)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if stopping:
        reap_all()
    return 128 - code if code < 0 else code


def reap_all() -> None:
    """Wait for every remaining child, the adopted orphans included."""
    try:
        while True:
            os.waitpid(-1, 0)
    except ChildProcessError:
        pass


if __name__ == "__main__":
    supervise(int(sys.argv[1]))
    sys.exit(run(sys.argv[2:]))
