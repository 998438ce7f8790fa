"""Saved replies: per hotel, a short code an agent types after `/` in the console and the text it stands
for, with placeholders (`placeholders`) filled from the thread when it is used. Saving a code again
replaces its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.whatsapp.store import GatewayStore, Upsert, metadata

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
"""A code as stored, without its `/`: lower-case letters, digits, `_` and `-`, up to 32."""
MAX_TEXT = 4096
"""WhatsApp's limit for one text message's body."""

saved_replies = sa.Table(
    "saved_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(96), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_saved_replies_code", "business_id", "code", unique=True),
)


@dataclass(frozen=True)
class SavedReply:
    id: int
    business_id: str
    code: str
    text: str
    author: str
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "business_id": self.business_id,
            "code": self.code,
            "text": self.text,
            "author": self.author,
            "updated_at": self.updated_at,
        }


def normalized_code(code: str) -> str | None:
    """`/WiFi` -> `wifi`; None for a code that cannot be one."""
    bare = code.strip().removeprefix("/").lower()
    return bare if CODE.match(bare) else None


class SavedReplies:
    def __init__(self, store: GatewayStore) -> None:
        self._store = store
        dialect = store.engine.dialect.name
        statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(saved_replies)
        replaced = {column: statement.excluded[column] for column in ("text", "author", "updated_at")}
        self._save = Upsert(
            statement.on_conflict_do_update(index_elements=["business_id", "code"], set_=replaced), dialect
        )

    async def of(self, business_id: str) -> list[SavedReply]:
        query = sa.select(saved_replies).where(saved_replies.c.business_id == business_id)
        async with self._store.connect() as connection:
            return [_reply(row) for row in await connection.execute(query.order_by(saved_replies.c.code))]

    async def save(self, business_id: str, code: str, text: str, author: str, now: float) -> SavedReply:
        """Keep `text` under `code` at this hotel, replacing what the code held: one upsert, so two agents
        saving the same code at once end with one of the two texts, never an error."""
        values = {"text": text, "author": author, "updated_at": now}
        key = (saved_replies.c.business_id == business_id) & (saved_replies.c.code == code)
        async with self._store.transaction() as connection:
            await self._save.run(connection, {"business_id": business_id, "code": code, **values})
            row = (await connection.execute(sa.select(saved_replies).where(key))).one()
        return _reply(row)

    async def delete(self, business_id: str, code: str) -> bool:
        key = (saved_replies.c.business_id == business_id) & (saved_replies.c.code == code)
        async with self._store.transaction() as connection:
            return (await connection.execute(saved_replies.delete().where(key))).rowcount > 0


def _reply(row: Any) -> SavedReply:
    return SavedReply(row.id, row.business_id, row.code, row.text, row.author, row.updated_at)
