"""The store's end: a process whose store is closed can exit. Each pooled SQLite connection owns a (non-daemon)
aiosqlite thread, so a connection left open keeps the process alive after its work is done."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.whatsapp.store import GatewayStore, StoreClosedError, inbox
from tests.gateway_support import database_url, empty_database
from tests.support import open_sqlite_connections


async def no_sqlite_threads_left(timeout: float = 5.0) -> bool:
    for _ in range(int(timeout / 0.05)):
        if open_sqlite_connections() == 0:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_connection_in_use_when_the_store_closes_is_closed_when_given_back(tmp_path: Path) -> None:
    """Background work (a sweep, an outbox claim) may hold a connection at the moment the server stops."""
    assert await no_sqlite_threads_left(), "another test left a SQLite connection open"
    store = GatewayStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    await store.create_schema()
    async with store.engine.connect() as connection:
        await connection.execute(sa.select(inbox.c.id))
        await store.close()
        assert (await connection.execute(sa.select(sa.func.count()).select_from(inbox))).scalar_one() == 0

    assert await no_sqlite_threads_left()
    with pytest.raises(StoreClosedError):
        await store.save_webhooks([b"{}"], 1.0)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[GatewayStore]:
    url = database_url(request.param, tmp_path)
    if request.param == "postgresql":
        await empty_database(url)
    opened = GatewayStore.from_url(url)
    await opened.create_schema()
    yield opened
    await opened.close()


async def test_a_read_cancelled_midway_gives_its_connection_back(store: GatewayStore) -> None:
    """A request handler is cancelled when its client hangs up, background work when the server stops."""
    started = asyncio.Event()

    async def read_then_wait() -> None:
        async with store.connect() as connection:
            await connection.execute(sa.select(inbox.c.id))
            started.set()
            await asyncio.sleep(30)

    reading = asyncio.create_task(read_then_wait())
    await started.wait()
    assert store.engine.pool.checkedout() == 1
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert store.engine.pool.checkedout() == 0
    await store.save_webhooks([b"{}"], 1.0)  # the store goes on working


async def test_a_connection_whose_giving_back_is_cancelled_is_discarded_not_stranded(store: GatewayStore) -> None:
    """A second cancellation, landing while the connection goes back to the pool (on PostgreSQL, while it
    rolls back): the pool counts it back all the same, and the store goes on working."""
    for _ in range(3):
        connection = await store.engine.connect()
        await connection.execute(sa.select(inbox.c.id))
        giving_back = asyncio.create_task(connection.close())
        await asyncio.sleep(0)
        giving_back.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await giving_back
        # On PostgreSQL the cancellation lands in the rollback; SQLite's connection was back before it came.
        assert giving_back.cancelled() == (store.engine.dialect.name == "postgresql")
        assert store.engine.pool.checkedout() == 0
    await store.save_webhooks([b"{}"], 1.0)
    async with store.connect() as connection:
        assert (await connection.execute(sa.select(sa.func.count()).select_from(inbox))).scalar_one() == 1
