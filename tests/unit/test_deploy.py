"""The launchers' decisions, read off their settings: what `rasa run` is given, what the action server refuses
to start with, and which lock store a `LOCK_STORE_URL` names (Redis for real, from `TEST_REDIS_URL`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from connectors.whatsapp.lock_store import LockStoreFromUrl, redis_arguments
from deploy.action_server import ActionServerSettings, is_loopback
from deploy.rasa_server import CREDENTIALS, RasaServerSettings, SettingsError, credentials_file, rasa_command


def test_rasa_never_starts_with_an_open_api() -> None:
    with pytest.raises(SettingsError, match="RASA_API_TOKEN"):
        RasaServerSettings.from_environment({})


def test_rasa_listens_on_loopback_with_its_token_and_no_rest_channel() -> None:
    settings = RasaServerSettings.from_environment({"RASA_API_TOKEN": "s3cret"})
    command = rasa_command("rasa", settings, credentials_file(settings, Path("/nonexistent")))
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert command[command.index("--auth-token") + 1] == "s3cret"
    assert command[command.index("--credentials") + 1] == str(CREDENTIALS)
    assert "rest:" not in [line.strip() for line in CREDENTIALS.read_text().splitlines()]


def test_the_rest_channel_only_when_asked_for(tmp_path: Path) -> None:
    settings = RasaServerSettings.from_environment({"RASA_API_TOKEN": "t", "RASA_REST_CHANNEL": "true"})
    credentials = credentials_file(settings, tmp_path)
    assert credentials.parent == tmp_path
    lines = credentials.read_text().splitlines()
    assert lines[-1] == "rest:"
    assert "connectors.whatsapp.channel.WhatsAppInput:" in lines


def test_a_jwt_secret_takes_the_place_of_the_token() -> None:
    settings = RasaServerSettings.from_environment({"RASA_JWT_SECRET": "k", "RASA_HOST": "10.0.0.4"})
    command = rasa_command("rasa", settings, CREDENTIALS)
    assert "--auth-token" not in command
    assert command[command.index("--jwt-secret") + 1 :][:3] == ["k", "--jwt-method", "HS256"]
    assert command[command.index("--interface") + 1] == "10.0.0.4"


def test_the_action_server_beyond_loopback_needs_its_token() -> None:
    with pytest.raises(ValueError, match="ACTION_SERVER_TOKEN"):
        ActionServerSettings.from_environment({"ACTION_SERVER_HOST": "0.0.0.0"})
    assert ActionServerSettings.from_environment({"ACTION_SERVER_HOST": "0.0.0.0", "ACTION_SERVER_TOKEN": "t"}).token
    assert ActionServerSettings.from_environment({}).host == "127.0.0.1"


@pytest.mark.parametrize(
    ("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("::", False)]
)
def test_loopback_is_told_apart(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_redis_url_becomes_rasas_redis_arguments() -> None:
    assert redis_arguments("rediss://lock:p%40ss@10.0.0.5:6380/2") == {
        "host": "10.0.0.5",
        "port": 6380,
        "db": 2,
        "username": "lock",
        "password": "p@ss",
        "use_ssl": True,
    }
    assert redis_arguments("redis://cache")["db"] == 1
    with pytest.raises(ValueError, match="LOCK_STORE_URL"):
        redis_arguments("postgresql://db/1")


def test_memory_means_one_process_locks() -> None:
    assert isinstance(LockStoreFromUrl(EndpointConfig(url="memory://")), InMemoryLockStore)


def test_a_redis_url_locks_in_redis() -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: the Redis lock store needs a server (.ci/run starts one)")
    store = LockStoreFromUrl(EndpointConfig(url=url, key_prefix="gatewaytest"))
    assert isinstance(store, RedisLockStore)
    lock = store.create_lock("1000000001:34612345678")
    lock.issue_ticket(30)
    store.save_lock(lock)
    try:
        assert LockStoreFromUrl(EndpointConfig(url=url, key_prefix="gatewaytest")).get_lock(lock.conversation_id)
    finally:
        store.delete_lock(lock.conversation_id)
