"""Guest messages on their way to the bot, and the gateway processes alive to give them.

A recorded guest message is claimed for the bot by the process that recorded it (`claimed_by`, its owner
and a batch number). That process beats in `workers` every few seconds; when it stops beating (SIGKILL, a
lost machine), any live process takes its unfinished messages over at once, each by a compare-and-set on
the claim it saw, so once across processes. `turn_started_at` is set before the bot is given a message: a
message taken over with it set may have had its turn already (the channel asks Rasa's tracker).

An intake process (one that runs no turns) hands what it recorded over by claiming it again as
`intake:<its claim>`: no process beats as `intake`, so those messages are free for the first process running
turns that looks for them.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.whatsapp.store.gateway_store import GatewayStore
from connectors.whatsapp.store.records import PendingDispatch
from connectors.whatsapp.store.schema import messages, workers
from connectors.whatsapp.store.statements import Upsert

INTAKE = "intake"
"""The owner of every claim an intake process makes: never alive, so any process running turns may take it."""
_UNFINISHED = (messages.c.direction == "inbound") & (messages.c.state == "dispatched")

# Built once: these run on every guest message's way to the bot, and building a statement costs SQLAlchemy
# more than running it (`python -m benchmarks.store_statements`).
_CONVERSATION_UNFINISHED = (
    sa.select(messages)
    .where(_UNFINISHED, messages.c.business_id == sa.bindparam("b"), messages.c.wa_id == sa.bindparam("w"))
    .order_by(messages.c.wa_timestamp, messages.c.id)
)
_FROM_INTAKE = (
    sa.select(messages.c.business_id, messages.c.wa_id)
    .where(_UNFINISHED, messages.c.claimed_by.startswith(f"{INTAKE}:", autoescape=True))
    .distinct()
)
_FREE_FOR_TURNS = (
    messages.update()
    .where(_UNFINISHED, messages.c.claimed_by == sa.bindparam("c"))
    .values(claimed_by=sa.bindparam("freed"))
)
_TAKE_OVER = (
    messages.update()
    .where(_UNFINISHED, messages.c.wamid == sa.bindparam("m"), messages.c.claimed_by == sa.bindparam("seen"))
    .values(claimed_by=sa.bindparam("c"), claimed_at=sa.bindparam("t"))
)
_START_TURN = (
    messages.update()
    .where(_UNFINISHED, messages.c.wamid == sa.bindparam("m"), messages.c.turn_started_at.is_(None))
    .values(turn_started_at=sa.bindparam("t"))
)


def owner_of(claim: str) -> str:
    """The process of a claim `<owner>:<batch>`."""
    return claim.split(":", 1)[0]


class DispatchStore:
    """The reads and writes of guest messages between their record and the bot's answer."""

    def __init__(self, store: GatewayStore) -> None:
        self._store = store
        insert = postgresql_insert if store.engine.dialect.name == "postgresql" else sqlite_insert
        beat = insert(workers)
        self._beat = Upsert(
            beat.on_conflict_do_update(index_elements=["owner"], set_={"seen_at": beat.excluded.seen_at}),
            store.engine.dialect.name,
        )

    async def unfinished(self, conversation: tuple[str, str]) -> list[PendingDispatch]:
        """A conversation's guest messages the bot has not finished with, in WhatsApp's order (its timestamp,
        then the order they were recorded in)."""
        business_id, wa_id = conversation
        async with self._store.connect() as connection:
            rows = await connection.execute(_CONVERSATION_UNFINISHED, {"b": business_id, "w": wa_id})
            return [_pending(row) for row in rows]

    async def orphaned(self, live: set[str]) -> list[tuple[str, str]]:
        """The conversations with an unfinished guest message claimed by a process not in `live`."""
        query = sa.select(messages.c.business_id, messages.c.wa_id, messages.c.claimed_by).where(_UNFINISHED).distinct()
        async with self._store.connect() as connection:
            rows = (await connection.execute(query)).all()
        return sorted({(r.business_id, r.wa_id) for r in rows if owner_of(r.claimed_by or "") not in live})

    async def from_intake(self) -> list[tuple[str, str]]:
        """The conversations with a guest message an intake process recorded and no process has taken yet."""
        async with self._store.connect() as connection:
            return sorted((row.business_id, row.wa_id) for row in await connection.execute(_FROM_INTAKE))

    async def free_for_turns(self, claim: str) -> None:
        """An intake process is done with the batch of `claim`: its unfinished guest messages are free for the
        processes that run turns."""
        await self._store.write(_FREE_FOR_TURNS, {"c": claim, "freed": f"{INTAKE}:{claim}"})

    async def take_over(self, item: PendingDispatch, token: str, now: float) -> bool:
        """Claim `item` for this process, if its claim is still the one seen (once across processes)."""
        taken = {"m": item.wamid, "seen": item.claimed_by, "c": token, "t": now}
        return await self._store.write(_TAKE_OVER, taken) == 1

    async def start_turn(self, wamid: str, now: float) -> None:
        """The bot is about to be given this message: after a crash, its turn may have run."""
        await self._store.write(_START_TURN, {"m": wamid, "t": now})

    async def beat(self, owner: str, now: float, timeout: float) -> None:
        """This process is alive; the rows of processes long gone are dropped (a missing row is a dead one)."""
        async with self._store.transaction() as connection:
            await self._beat.run(connection, {"owner": owner, "seen_at": now})
            await connection.execute(workers.delete().where(workers.c.seen_at < now - max(100 * timeout, 3600)))

    async def live_owners(self, now: float, timeout: float) -> set[str]:
        query = sa.select(workers.c.owner).where(workers.c.seen_at >= now - timeout)
        async with self._store.connect() as connection:
            return set((await connection.execute(query)).scalars())

    async def forget(self, owner: str) -> None:
        """A process stopping cleanly: what it left is taken over at once, without waiting for its timeout."""
        async with self._store.transaction() as connection:
            await connection.execute(workers.delete().where(workers.c.owner == owner))


def _pending(row: Any) -> PendingDispatch:
    return PendingDispatch(
        row.wamid,
        row.business_id,
        row.wa_id,
        row.text or "",
        json.loads(row.meta or "{}"),
        row.wa_timestamp,
        claimed_by=row.claimed_by or "",
        resumed=row.turn_started_at is not None,
    )
