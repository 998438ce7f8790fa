"""The handoff flag in the gateway store: one row per conversation (who holds it, since when, why) and a
table of every change, the thread's audit trail next to `messages.origin`.

Every change is a compare-and-set UPDATE (`WHERE holder = <the holder just read>`), so two gateway
processes on one database never both win: the loser re-reads and decides again under the rules of
`handoff_rules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.handoff.rules import BOT, Handoff
from connectors.whatsapp.store import GatewayStore, Upsert, guest_id, metadata

COMPARE_AND_SET_ATTEMPTS = 5

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("business_id", sa.String(32), primary_key=True),
    sa.Column("wa_id", guest_id(), primary_key=True),
    sa.Column("holder", sa.String(96), nullable=False),
    sa.Column("reason", sa.String(32)),
    sa.Column("since", sa.Float),
    sa.Column("last_agent_at", sa.Float),
    sa.Index("ix_handoffs_holder", "holder"),
)

handoff_events = sa.Table(
    "handoff_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", guest_id(), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("from_holder", sa.String(96), nullable=False),
    sa.Column("to_holder", sa.String(96), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(96), nullable=False),
    sa.Index("ix_handoff_events_thread", "business_id", "wa_id", "id"),
)


@dataclass(frozen=True)
class HandoffEvent:
    """One change of holder: who moved the thread from whom to whom, and why."""

    id: int
    business_id: str
    wa_id: str
    at: float
    from_holder: str
    to_holder: str
    reason: str
    actor: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "business_id": self.business_id,
            "wa_id": self.wa_id,
            "at": self.at,
            "from": self.from_holder,
            "to": self.to_holder,
            "reason": self.reason,
            "actor": self.actor,
        }


@dataclass(frozen=True)
class HandoffChange:
    """The outcome of a change: the flag before and after, and whether this call changed it."""

    before: Handoff
    after: Handoff

    @property
    def changed(self) -> bool:
        return self.before.holder != self.after.holder


class HandoffStore:
    """The handoff tables on the gateway store's engine."""

    def __init__(self, store: GatewayStore) -> None:
        self._store = store
        dialect = store.engine.dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        self._ensure_row = Upsert(insert(handoffs).on_conflict_do_nothing(), dialect)

    async def get(self, business_id: str, wa_id: str) -> Handoff:
        async with self._store.connect() as connection:
            return await _read(connection, business_id, wa_id)

    async def change(
        self,
        business_id: str,
        wa_id: str,
        to_holder: str,
        allowed_from: Sequence[str],
        reason: str,
        actor: str,
        now: float,
    ) -> HandoffChange:
        """Move the thread to `to_holder` if its holder is one of `allowed_from` (unchanged otherwise)."""
        for _ in range(COMPARE_AND_SET_ATTEMPTS):
            async with self._store.transaction() as connection:
                await self._ensure_row.run(connection, {"business_id": business_id, "wa_id": wa_id, "holder": BOT})
                before = await _read(connection, business_id, wa_id)
                if before.holder not in allowed_from or before.holder == to_holder:
                    return HandoffChange(before, before)
                values = {"holder": to_holder, "reason": None if to_holder == BOT else reason}
                values["since"] = now
                values["last_agent_at"] = None
                result = await connection.execute(
                    handoffs.update().where(_key(business_id, wa_id), handoffs.c.holder == before.holder).values(values)
                )
                if result.rowcount != 1:
                    continue
                await connection.execute(
                    handoff_events.insert().values(
                        business_id=business_id,
                        wa_id=wa_id,
                        at=now,
                        from_holder=before.holder,
                        to_holder=to_holder,
                        reason=reason,
                        actor=actor,
                    )
                )
                return HandoffChange(before, await _read(connection, business_id, wa_id))
        raise RuntimeError(f"the handoff of {business_id}:{wa_id} kept changing under this process")

    async def agent_answered(self, business_id: str, wa_id: str, holder: str, now: float) -> None:
        """Remember the holder's answer, so an idle release counts from it."""
        async with self._store.transaction() as connection:
            await connection.execute(
                handoffs.update().where(_key(business_id, wa_id), handoffs.c.holder == holder).values(last_agent_at=now)
            )

    async def held(self) -> list[Handoff]:
        """Every held conversation (the idle release looks at these)."""
        async with self._store.connect() as connection:
            rows = await connection.execute(sa.select(handoffs).where(handoffs.c.holder != BOT))
            return [_handoff(row) for row in rows]

    async def events_of(self, business_id: str, wa_id: str) -> list[HandoffEvent]:
        query = sa.select(handoff_events).where(
            handoff_events.c.business_id == business_id, handoff_events.c.wa_id == wa_id
        )
        async with self._store.connect() as connection:
            return [_event(row) for row in await connection.execute(query.order_by(handoff_events.c.id))]

    async def events_after(self, cursor: int, limit: int = 200) -> list[HandoffEvent]:
        query = sa.select(handoff_events).where(handoff_events.c.id > cursor).order_by(handoff_events.c.id).limit(limit)
        async with self._store.connect() as connection:
            return [_event(row) for row in await connection.execute(query)]

    async def last_event_id(self) -> int:
        async with self._store.connect() as connection:
            found = (await connection.execute(sa.select(sa.func.max(handoff_events.c.id)))).scalar()
        return int(found or 0)


def _key(business_id: str, wa_id: str) -> Any:
    return (handoffs.c.business_id == business_id) & (handoffs.c.wa_id == wa_id)


_READ = sa.select(handoffs).where(handoffs.c.business_id == sa.bindparam("b"), handoffs.c.wa_id == sa.bindparam("w"))
"""Built once: every guest message and every bot answer reads its thread's handoff."""


async def _read(connection: AsyncConnection, business_id: str, wa_id: str) -> Handoff:
    row = (await connection.execute(_READ, {"b": business_id, "w": wa_id})).first()
    return Handoff(business_id, wa_id) if row is None else _handoff(row)


def _handoff(row: Any) -> Handoff:
    return Handoff(row.business_id, row.wa_id, row.holder, row.reason, row.since, row.last_agent_at)


def _event(row: Any) -> HandoffEvent:
    return HandoffEvent(
        row.id, row.business_id, row.wa_id, row.at, row.from_holder, row.to_holder, row.reason, row.actor
    )
