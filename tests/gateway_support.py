"""Running the real WhatsApp channel blueprint on a real Sanic server inside the test's event loop.

The bot is a recorder (optionally answering through the real output channel), the clock is injectable,
and the store is SQLite on disk or the PostgreSQL of `TEST_POSTGRES_URL`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from connectors.whatsapp.channel import WhatsAppInput
from connectors.whatsapp.settings import GatewaySettings
from connectors.whatsapp.store import metadata
from tests.support import ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, SandboxClient, free_port

_names = itertools.count()


def postgres_url() -> str | None:
    """The asyncpg URL of the test PostgreSQL, or None where TEST_POSTGRES_URL is unset."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        return None
    return url.replace("postgresql://", "postgresql+asyncpg://", 1).replace("postgres://", "postgresql+asyncpg://", 1)


def database_url(kind: str, tmp_path: Any) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL tests need a server (.ci/run starts one)")
    return url


async def empty_database(url: str) -> None:
    """Drop the gateway's tables so each test starts from nothing (PostgreSQL is shared between tests)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
    await engine.dispose()


def settings_for(api_url: str, database: str, **overrides: Any) -> GatewaySettings:
    return GatewaySettings(
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        access_token=ACCESS_TOKEN,
        api_url=api_url,
        database_url=database,
        send_backoff_seconds=0.05,
        **{"media_url": tempfile.mkdtemp(prefix="gateway-media-"), **overrides},
    )


@dataclass
class MovableClock:
    """Wall time plus an offset a test moves, like the sandbox's clock."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class RecordingBot:
    """Stands in for Rasa: records every UserMessage and may answer through its output channel."""

    answer: Callable[[UserMessage], Awaitable[None]] | None = None
    received: list[UserMessage] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def __call__(self, message: UserMessage) -> None:
        async with self._changed:
            self.received.append(message)
            self._changed.notify_all()
        if self.answer is not None:
            await self.answer(message)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[UserMessage]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.received) >= count), timeout)
        return self.received


async def echo(message: UserMessage) -> None:
    """A bot that answers every message with its text, as Rasa would through the output channel."""
    await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


class GatewayServer:
    """The channel's blueprint on a Sanic server on loopback, mounted where Rasa mounts it."""

    def __init__(self, settings: GatewaySettings, bot: RecordingBot, clock: MovableClock, agent: Any = None) -> None:
        """`agent` stands in for the Rasa agent Rasa keeps in `app.ctx.agent` (its tracker and lock stores):
        the channel reads trackers there, to pause a handed-over thread or to resume a turn."""
        self.settings = settings
        self.bot = bot
        self.clock = clock
        self.agent = agent
        self.channel = WhatsAppInput(settings, clock)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.webhook_url = f"{self.url}/webhooks/whatsapp/webhook"
        self._server: Any = None

    async def start(self) -> None:
        Sanic.test_mode = True  # several apps in one process, as sanic-testing does
        app = Sanic(f"gateway_test_{next(_names)}")
        if self.agent is not None:
            app.ctx.agent = self.agent
        app.blueprint(self.channel.blueprint(self.bot), url_prefix=f"/webhooks/{self.channel.url_prefix()}")
        self._server = await app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()

    async def stop(self) -> None:
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()

    @property
    def store(self) -> Any:
        return self.channel.gateway.store

    async def settle(self) -> None:
        """Wait until the gateway has processed everything it acknowledged."""
        processor = self.channel.gateway.processor
        assert processor is not None
        await processor.drain()

    async def count(self, table: sa.Table) -> int:
        async with self.store.engine.connect() as connection:
            return (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


@asynccontextmanager
async def serving(
    db_kind: str, tmp_path: Any, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient, **overrides: Any
) -> AsyncIterator[GatewayServer]:
    """The gateway on loopback on a fresh `db_kind` database, with `overrides` on the test settings, and the
    shared sandbox delivering its webhooks to it: what each channel suite's server fixture starts."""
    url = database_url(db_kind, tmp_path)
    if db_kind == "postgresql":
        await empty_database(url)
    server = GatewayServer(settings_for(sandbox.base_url, url, **overrides), bot, clock)
    await server.start()
    await sandbox.configure(webhook_url=server.webhook_url)
    try:
        yield server
    finally:
        await server.stop()
