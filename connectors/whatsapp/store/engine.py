"""The SQLAlchemy engine of a store URL, and SQLite's one writer per file in this process.

SQLite gets WAL, a short busy timeout and statements in the event loop's thread (`sqlite_driver`);
PostgreSQL a pool that recycles connections after 30 minutes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from connectors.whatsapp.store.sqlite_driver import InlineDBAPI
from connectors.whatsapp.store.writer_queue import WriterQueue

SQLITE_BUSY_SECONDS = 5.0
"""How long a SQLite write waits for another connection's write lock before it fails; `?timeout=` on the URL
(seconds, as Python's sqlite3 takes it) sets another."""


class StoreClosedError(RuntimeError):
    """The store was closed (the server is stopping): nothing more is written or read."""


def engine_for(url: str) -> AsyncEngine:
    """An async engine for `url`; SQLite gets WAL and a busy timeout so several processes can share it.

    SQLite connections are pooled too: opening one costs a thread and three PRAGMAs, a few milliseconds on
    every message's path otherwise, and statements run in the event loop's thread (`sqlite_driver`). Each
    pooled aiosqlite connection owns a (non-daemon) thread, so the store refuses new connections
    once closed (see `GatewayStore.close`), or a late query would keep the process from exiting."""
    if url.startswith("sqlite"):
        # In memory, SQLAlchemy's own StaticPool keeps the one database alive.
        pool = (
            {} if url.endswith(":memory:") else {"poolclass": AsyncAdaptedQueuePool, "pool_size": 5, "max_overflow": 10}
        )
        busy_seconds = float(make_url(url).query.get("timeout", SQLITE_BUSY_SECONDS))
        engine = create_async_engine(url, connect_args={"timeout": busy_seconds}, module=InlineDBAPI(), **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Statements run in the event loop (sqlite_driver): waiting for another process's write lock
            # holds the loop, so the wait is short and a write that still finds it taken fails (and is retried).
            cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)


_WRITERS: dict[str, WriterQueue] = {}


def writers_of(engine: AsyncEngine) -> WriterQueue:
    """One writer queue per SQLite file in this process, however many stores open it (several gateways in
    one test, or a restart): statements run in the event loop (`sqlite_driver`), so a writer waiting in
    SQLite's busy handler for another writer of the same loop would wait for its whole busy timeout."""
    database = engine.url.database or ""
    if database in ("", ":memory:"):
        return WriterQueue()
    return _WRITERS.setdefault(str(Path(database).resolve()), WriterQueue())
