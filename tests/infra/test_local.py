"""`kestra-lite local` starts its children, serves /health and stops them all on SIGTERM.

The worker and scheduler children are replaced by sleepers: their own tests live with them;
this one checks the process supervision."""
import signal
import socket
import subprocess
import sys
import time
import urllib.request

STUB = """
import sys
from kestra_lite import local
from kestra_lite.config import Settings
real = local._commands
def commands(port, host):
    found = real(port, host)
    for name in ("worker", "scheduler"):
        found[name] = [sys.executable, "-c", "import time; time.sleep(600)"]
    return found
local._commands = commands
sys.exit(local.run_local(Settings.from_env(), port=int(sys.argv[1])))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_local_serves_health_and_stops_every_child_on_sigterm(settings, tmp_path):
    port = _free_port()
    env = settings.child_env()
    process = subprocess.Popen([sys.executable, "-c", STUB, str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "web did not answer within 30 s"
                time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert f"kestra-lite is running at http://localhost:{port}/" in output
    assert "kestra-lite stopped" in output
    children = subprocess.run(["pgrep", "-f", f"127.0.0.1:{port}"], capture_output=True)
    assert children.stdout == b""
