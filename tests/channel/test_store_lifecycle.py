"""The store's end: a process whose store is closed can exit. Each pooled SQLite connection owns a (non-daemon)
aiosqlite thread, so a connection left open keeps the process alive after its work is done."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.whatsapp.store import GatewayStore, StoreClosedError, inbox
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
