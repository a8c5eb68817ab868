"""`kestra-lite user create`: creates a user in DATABASE_URL's database (migrating it
first); a bad email, a short password or a taken email is a message and exit code 1."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kestra_lite.cli import cli
from kestra_lite.services import accounts
from kestra_lite.store import accounts as account_store
from kestra_lite.store import db as store_db


@pytest.fixture
def run(database_url):
    def invoke(*args, input=None):
        return CliRunner().invoke(cli, ["user", "create", *args], input=input,
                                  env={"DATABASE_URL": database_url})
    yield invoke
    store_db.close()


def _user(database_url, email):
    store_db.connect(database_url)
    return account_store.find_user(email)


def test_user_create_makes_a_super_admin_who_can_log_in(run, database_url):
    result = run("--email", "Root@Example.com", "--password", "a long secret", "--superadmin")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("created user root@example.com (super admin); "
                                     "they can log in now")
    user = _user(database_url, "root@example.com")
    assert user is not None and user.superadmin
    assert accounts.authenticate("root@example.com", "a long secret") is not None


def test_user_create_without_the_flag_makes_a_member(run, database_url):
    result = run("--email", "member@example.com", "--password", "a long secret")
    assert result.exit_code == 0, result.output
    assert "(member)" in result.stdout
    assert _user(database_url, "member@example.com").superadmin is False


def test_user_create_asks_for_the_password_when_it_is_omitted(run, database_url):
    result = run("--email", "asked@example.com", input="a long secret\na long secret\n")
    assert result.exit_code == 0, result.output
    assert "a long secret" not in result.stdout            # hidden input
    assert accounts.authenticate("asked@example.com", "a long secret") is not None


@pytest.mark.parametrize("email, password, message", [
    ("not-an-email", "a long secret", "'not-an-email' is not a valid email address"),
    ("short@example.com", "short", "the password must have at least 8 characters"),
])
def test_user_create_refuses_bad_values_with_a_message_and_exit_1(run, database_url, email,
                                                                   password, message):
    result = run("--email", email, "--password", password)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"kestra-lite: cannot create the user: {message}"
    assert "Traceback" not in result.output
    store_db.connect(database_url)
    assert account_store.count_users() == 0


def test_user_create_refuses_a_taken_email(run, database_url):
    assert run("--email", "dup@example.com", "--password", "a long secret").exit_code == 0
    result = run("--email", "DUP@example.com", "--password", "another secret")
    assert result.exit_code == 1
    assert "a user with the email 'dup@example.com' already exists" in result.stderr
    store_db.connect(database_url)
    assert account_store.count_users() == 1


def test_the_installed_command_prints_no_traceback_on_error(database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", "from kestra_lite.cli import main; main()", "user", "create",
         "--email", "bad", "--password", "a long secret"],
        env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == "kestra-lite: cannot create the user: 'bad' is not a valid email address"
