"""The gateway store's reads and upserts on SQLite, beside SQLAlchemy's usual way of making the same ones, in
the same run: microseconds of CPU per call, and how many connections a hundred reads at once hold.

- A read (the guest's last message, asked before every answer): the store's, a statement built once and
  a connection given back at once (`GatewayStore.connect`), against the statement built at each call in
  `async with engine.connect()`.
- An upsert (each bot answer's thread): the store's `Upsert`, compiled once, against the dialect's
  `INSERT ... ON CONFLICT` construct, which SQLAlchemy 1.4 compiles at every execution.
- A hundred reads at once: how many connections they hold at the same time (SQLAlchemy's own context manager
  gives each back in a task of its own, so they pile up while the event loop is busy).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.whatsapp.store import GatewayStore, conversations
from connectors.whatsapp.store.statements import LAST_INBOUND, Statements

CALLS = 3000
READERS = 100


async def _per_call(work: Callable[[], Awaitable[object]]) -> float:
    """Microseconds of this process's CPU per call, after a warm-up."""
    for _ in range(200):
        await work()
    started = time.process_time()
    for _ in range(CALLS):
        await work()
    return (time.process_time() - started) / CALLS * 1e6


async def _most_held(store: GatewayStore, read: Callable[[str], Awaitable[object]]) -> int:
    held = {"now": 0, "most": 0}

    def out(*_: object) -> None:
        held["now"] += 1
        held["most"] = max(held["most"], held["now"])

    def back(*_: object) -> None:
        held["now"] -= 1

    event.listen(store.engine.sync_engine, "checkout", out)
    event.listen(store.engine.sync_engine, "checkin", back)
    try:
        await asyncio.gather(*(read(str(n)) for n in range(READERS)))
    finally:
        event.remove(store.engine.sync_engine, "checkout", out)
        event.remove(store.engine.sync_engine, "checkin", back)
    return held["most"]


async def _run(folder: Path) -> None:
    store = GatewayStore.from_url(f"sqlite+aiosqlite:///{folder / 'gateway.db'}")
    await store.create_schema()
    touch = sqlite_insert(conversations)
    construct = touch.on_conflict_do_update(
        index_elements=["business_id", "wa_id"], set_={"updated_at": touch.excluded.updated_at}
    )
    upsert = Statements("sqlite").touch_conversation
    row = {"business_id": "1000000001", "wa_id": "34612345678", "updated_at": 1.0}

    async def usual_read(wa_id: str = "34612345678") -> object:
        query = sa.select(conversations.c.last_inbound_at, conversations.c.last_inbound_wamid).where(
            conversations.c.business_id == "1000000001", conversations.c.wa_id == wa_id
        )
        async with store.engine.connect() as connection:
            return (await connection.execute(query)).first()

    async def store_read(wa_id: str = "34612345678") -> object:
        async with store.connect() as connection:
            return (await connection.execute(LAST_INBOUND, {"b": "1000000001", "w": wa_id})).first()

    async def usual_upsert() -> None:
        async with store.transaction() as connection:
            await connection.execute(construct, row)

    async def store_upsert() -> None:
        async with store.transaction() as connection:
            await upsert.run(connection, row)

    try:
        print(f"Gateway store statements on SQLite: CPU per call, {CALLS} calls each")
        for label, usual, ours in (("read", usual_read, store_read), ("upsert", usual_upsert, store_upsert)):
            baseline, figure = await _per_call(usual), await _per_call(ours)
            print(f"  {label:<7} SQLAlchemy's usual way (baseline) {baseline:7.1f} µs   store {figure:7.1f} µs", end="")
            print(f"   ({figure / baseline:.2f}x)")
        usual_held, store_held = await _most_held(store, usual_read), await _most_held(store, store_read)
        held = f"{usual_held} connections the usual way, {store_held} the store's"
        print(f"  {READERS} reads at once hold at most {held}")
    finally:
        await store.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(Path(folder)))


if __name__ == "__main__":
    main()
