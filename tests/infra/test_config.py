from pathlib import Path

import pytest

from kestra_lite.config import DEFAULT_DATABASE_URL, ConfigError, Settings


def test_defaults_point_under_data_and_at_the_local_redis():
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///data/kestra-lite.db"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.storage_dir == Path("data/storage")
    assert settings.queue == "kestra"
    assert settings.is_sqlite and not settings.database_url_from_env


def test_kestra_variables_become_envs_and_secret_variables_pass_through():
    settings = Settings.from_env({
        "KESTRA_MY_VAR": "1", "KESTRA_LITE_QUEUE": "q", "SECRET_API_TOKEN": "dG9rZW4=",
        "SECRET_KEY": "s3cret", "OTHER": "x"})
    assert settings.envs == {"my_var": "1"}
    assert settings.secrets == {"API_TOKEN": "dG9rZW4="}
    assert settings.secret_key == "s3cret" and settings.queue == "q"


def test_settings_are_frozen():
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.queue = "other"


@pytest.mark.parametrize("environ, named", [
    ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://localhost:5432/"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://localhost:port/db"}, "DATABASE_URL"),
    ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
    ({"REDIS_URL": "redis://localhost:6379/zero"}, "REDIS_URL"),
    ({"KESTRA_LITE_ENCRYPTION_KEY": "short"}, "KESTRA_LITE_ENCRYPTION_KEY"),
    ({"KESTRA_LITE_QUEUE": "a queue"}, "KESTRA_LITE_QUEUE"),
    ({"KESTRA_LITE_DEBUG": "maybe"}, "KESTRA_LITE_DEBUG"),
    ({"KESTRA_LITE_HEARTBEAT_SECONDS": "0"}, "KESTRA_LITE_HEARTBEAT_SECONDS"),
    ({"KESTRA_LITE_HEARTBEAT_SECONDS": "soon"}, "KESTRA_LITE_HEARTBEAT_SECONDS"),
    ({"KESTRA_LITE_SECRET_ENCODING": "rot13"}, "KESTRA_LITE_SECRET_ENCODING"),
    ({"KESTRA_LITE_DOCKER_FALLBACK": "maybe"}, "KESTRA_LITE_DOCKER_FALLBACK"),
])
def test_a_bad_value_fails_with_a_message_naming_the_variable(environ, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(environ)


def test_postgresql_urls_are_accepted():
    url = "postgresql://postgres@127.0.0.1:5432/kestra"
    settings = Settings.from_env({"DATABASE_URL": url})
    assert settings.database_url == url and not settings.is_sqlite
    assert settings.database_url_from_env


def test_secrets_are_base64_by_default_and_plain_text_on_request():
    from kestra_lite.storage.secrets import EnvironmentSecrets
    environ = {"SECRET_TOKEN": "dG9rZW4=", "SECRET_PLAIN": "not base64!"}
    kestra_form = Settings.from_env(environ)
    secrets = EnvironmentSecrets(kestra_form.secrets, kestra_form.secret_encoding)
    assert secrets.get("token") == "token" and secrets.get("PLAIN") == "not base64!"
    plain = Settings.from_env({**environ, "KESTRA_LITE_SECRET_ENCODING": "PLAIN"})
    secrets = EnvironmentSecrets(plain.secrets, plain.secret_encoding)
    assert secrets.get("token") == "dG9rZW4=" and secrets.get("missing") is None
