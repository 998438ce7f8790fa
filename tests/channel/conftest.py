"""Fixtures of the channel suites: the real blueprint on a real Sanic server, SQLite or PostgreSQL behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, database_url, empty_database, settings_for
from tests.support import SandboxClient


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def bot() -> RecordingBot:
    return RecordingBot()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def gateway(
    db_kind: str, tmp_path: Any, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient
) -> AsyncIterator[GatewayServer]:
    """The gateway on loopback, talking to the shared sandbox, which delivers its webhooks to it."""
    url = database_url(db_kind, tmp_path)
    if db_kind == "postgresql":
        await empty_database(url)
    server = GatewayServer(settings_for(sandbox.base_url, url), bot, clock)
    await server.start()
    await sandbox.configure(webhook_url=server.webhook_url)
    yield server
    await server.stop()
