"""Fixtures of the channel suites: the real blueprint on a real Sanic server, SQLite or PostgreSQL behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.gateway_support import (
    GatewayServer,
    MovableClock,
    RecordingBot,
    serving,
)
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
    async with serving(db_kind, tmp_path, bot, clock, sandbox) as server:
        yield server
