import subprocess
import sys

from click.testing import CliRunner

from kestra_lite.cli import cli

VALID = """id: hello
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
"""
INVALID = VALID + """  - id: log
    type: io.kestra.plugin.core.log.Log
    message: again
"""


def test_validate_exits_0_when_every_file_is_valid(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(VALID)
    result = CliRunner().invoke(cli, ["flow", "validate", str(path)])
    assert result.exit_code == 0, result.output


def test_validate_names_file_line_and_column_of_each_problem(tmp_path):
    good, bad = tmp_path / "ok.yaml", tmp_path / "bad.yaml"
    good.write_text(VALID)
    bad.write_text(INVALID)
    missing = tmp_path / "missing.yaml"
    result = CliRunner().invoke(cli, ["flow", "validate", str(good), str(bad), str(missing)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{bad}:7:")
    assert "log" in lines[0]
    assert lines[-1] == f"{missing}:1:1: cannot read: No such file or directory"


def test_an_unexpected_error_is_one_line_without_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "mysql://nope/x"}
    done = subprocess.run([sys.executable, "-m", "kestra_lite.cli", "migrate"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "DATABASE_URL" in done.stderr


def test_migrate_creates_the_schema(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("schema version ")
