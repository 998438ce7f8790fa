"""Agents' texts waiting for a closed window to reopen: the agent asked for `reopen`, the hotel's
`reopen_conversation` template went out, and the text is delivered the moment the guest answers.

Claimed with a conditional UPDATE (`waiting` -> `sending` with the claimer's token), so with several
gateway processes each text is sent once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from connectors.whatsapp.store import GatewayStore, guest_id, metadata

held_replies = sa.Table(
    "held_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", guest_id(), nullable=False),
    sa.Column("origin", sa.String(96), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("sent_at", sa.Float),
    sa.Column("wamid", sa.String(256)),
    sa.Index("ix_held_replies_thread", "business_id", "wa_id", "state"),
)

_ANY_WAITING = (
    sa.select(held_replies.c.id)
    .where(
        held_replies.c.business_id == sa.bindparam("b"),
        held_replies.c.wa_id == sa.bindparam("w"),
        held_replies.c.state == "waiting",
    )
    .limit(1)
)
"""Built once: every guest message asks it on its way to the bot."""


@dataclass(frozen=True)
class HeldReply:
    id: int
    business_id: str
    wa_id: str
    origin: str
    text: str
    created_at: float
    state: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "origin": self.origin,
            "text": self.text,
            "created_at": self.created_at,
            "state": self.state,
        }


class HeldReplies:
    def __init__(self, store: GatewayStore) -> None:
        self._store = store

    async def add(self, business_id: str, wa_id: str, origin: str, text: str, now: float) -> HeldReply:
        async with self._store.transaction() as connection:
            result = await connection.execute(
                held_replies.insert().values(
                    business_id=business_id, wa_id=wa_id, origin=origin, text=text, created_at=now, state="waiting"
                )
            )
        return HeldReply(int(result.inserted_primary_key[0]), business_id, wa_id, origin, text, now, "waiting")

    async def any_waiting(self, business_id: str, wa_id: str) -> bool:
        """A read, so the common case (nothing held) costs no write on the guest message's path."""
        async with self._store.connect() as connection:
            return (await connection.execute(_ANY_WAITING, {"b": business_id, "w": wa_id})).first() is not None

    async def claim(self, business_id: str, wa_id: str, token: str) -> list[HeldReply]:
        """The conversation's waiting texts, oldest first, now claimed by `token` (once across processes)."""
        key = (held_replies.c.business_id == business_id) & (held_replies.c.wa_id == wa_id)
        async with self._store.transaction() as connection:
            await connection.execute(
                held_replies.update()
                .where(key, held_replies.c.state == "waiting")
                .values(state="sending", claimed_by=token)
            )
            rows = await connection.execute(
                sa.select(held_replies)
                .where(key, held_replies.c.claimed_by == token, held_replies.c.state == "sending")
                .order_by(held_replies.c.id)
            )
            return [_reply(row) for row in rows]

    async def finish(self, reply_id: int, state: str, wamid: str | None, now: float) -> None:
        async with self._store.transaction() as connection:
            await connection.execute(
                held_replies.update().where(held_replies.c.id == reply_id).values(state=state, wamid=wamid, sent_at=now)
            )

    async def waiting(self, business_id: str, wa_id: str) -> list[HeldReply]:
        query = sa.select(held_replies).where(
            held_replies.c.business_id == business_id,
            held_replies.c.wa_id == wa_id,
            held_replies.c.state == "waiting",
        )
        async with self._store.connect() as connection:
            return [_reply(row) for row in await connection.execute(query.order_by(held_replies.c.id))]


def _reply(row: Any) -> HeldReply:
    return HeldReply(row.id, row.business_id, row.wa_id, row.origin, row.text, row.created_at, row.state)
