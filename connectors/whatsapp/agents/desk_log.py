"""The front desk's own record of a thread, beside the messages and the handoff: internal notes, who is
assigned, and whether it is resolved, each change kept as a `desk_events` row (the thread's audit trail
next to `handoff_events`, and what the event stream sends as `desk`).

A note is never a message: it lives here, not in `messages`, so nothing that sends, counts unread or feeds
the bot ever sees it. "Resolved" is not a flag a guest's message must clear: `thread_desk.resolved_upto`
keeps the newest message id when an agent resolved the thread, and the thread is resolved while no guest
message is newer (`resolved_clause`), so the guest's next message reopens it with no write on its way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store import GatewayStore, Upsert, guest_id, messages, metadata

NOBODY = ""
"""The `assignee` filter for threads no agent is assigned."""
DeskKind = Literal["note", "assigned", "resolved"]

thread_desk = sa.Table(
    "thread_desk",
    metadata,
    sa.Column("business_id", sa.String(32), primary_key=True),
    sa.Column("wa_id", guest_id(), primary_key=True),
    sa.Column("assignee", sa.String(96)),
    sa.Column("resolved_upto", sa.Integer),
    sa.Index("ix_thread_desk_assignee", "assignee"),
)
"""One row per thread an agent assigned, resolved or noted; `assignee` a token name."""

desk_events = sa.Table(
    "desk_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", guest_id(), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(96), nullable=False),
    sa.Column("text", sa.Text),
    sa.Index("ix_desk_events_thread", "business_id", "wa_id", "id"),
)
"""`text` is a note's text, or the new assignee (null: unassigned); null for `resolved`."""


@dataclass(frozen=True)
class DeskEvent:
    id: int
    business_id: str
    wa_id: str
    at: float
    kind: str
    actor: str
    text: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "business_id": self.business_id,
            "wa_id": self.wa_id,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "text": self.text,
        }


def resolved_clause() -> Any:
    """SQL over `conversations` joined to `thread_desk`: resolved, and no guest message since."""
    newest_inbound = (
        sa.select(sa.func.coalesce(sa.func.max(messages.c.id), 0))
        .where(
            messages.c.business_id == thread_desk.c.business_id,
            messages.c.wa_id == thread_desk.c.wa_id,
            messages.c.direction == "inbound",
        )
        .correlate(thread_desk)
        .scalar_subquery()
    )
    return thread_desk.c.resolved_upto.is_not(None) & (newest_inbound <= thread_desk.c.resolved_upto)


def desk_filters(status: str | None, assignee: str | None, me: str) -> dict[str, str | None]:
    """The list's `status` (`open` by default: what agents work on) and `assignee` (`me`, `none` or a token
    name) query arguments, as `ConversationQuery` fields; ValueError says what to send."""
    if status not in (None, "open", "resolved", "all"):
        raise ValueError("status must be open, resolved or all")
    if assignee is not None and not assignee.strip():
        raise ValueError("assignee must be me, none or an agent's token name")
    named = {"me": me, "none": NOBODY}.get(assignee or "", assignee)
    return {"status": None if status == "all" else status or "open", "assignee": named}


class DeskLog:
    """Notes, assignment and resolving on the gateway store (every process shares it)."""

    def __init__(self, store: GatewayStore) -> None:
        self._store = store
        dialect = store.engine.dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert

        def setting(column: str) -> Upsert:
            """The thread's row with `column` set, created if it is the thread's first desk change."""
            statement = insert(thread_desk)
            return Upsert(
                statement.on_conflict_do_update(
                    index_elements=["business_id", "wa_id"], set_={column: statement.excluded[column]}
                ),
                dialect,
            )

        self._set = {column: setting(column) for column in ("assignee", "resolved_upto")}

    async def note(self, business_id: str, wa_id: str, actor: str, text: str, now: float) -> DeskEvent:
        async with self._store.transaction() as connection:
            return await self._record(connection, business_id, wa_id, "note", actor, text, now)

    async def assign(self, business_id: str, wa_id: str, actor: str, agent: str | None, now: float) -> DeskEvent:
        async with self._store.transaction() as connection:
            await self._set["assignee"].run(connection, {"business_id": business_id, "wa_id": wa_id, "assignee": agent})
            return await self._record(connection, business_id, wa_id, "assigned", actor, agent, now)

    async def resolve(self, business_id: str, wa_id: str, actor: str, now: float) -> DeskEvent:
        newest = sa.select(sa.func.coalesce(sa.func.max(messages.c.id), 0)).where(
            messages.c.business_id == business_id, messages.c.wa_id == wa_id
        )
        async with self._store.transaction() as connection:
            upto = (await connection.execute(newest)).scalar()
            row = {"business_id": business_id, "wa_id": wa_id, "resolved_upto": upto}
            await self._set["resolved_upto"].run(connection, row)
            return await self._record(connection, business_id, wa_id, "resolved", actor, None, now)

    @staticmethod
    async def _record(
        connection: AsyncConnection,
        business_id: str,
        wa_id: str,
        kind: DeskKind,
        actor: str,
        text: str | None,
        now: float,
    ) -> DeskEvent:
        """The change's row in the thread's audit trail, in the transaction that made it."""
        result = await connection.execute(
            desk_events.insert().values(business_id=business_id, wa_id=wa_id, at=now, kind=kind, actor=actor, text=text)
        )
        return DeskEvent(int(result.inserted_primary_key[0]), business_id, wa_id, now, kind, actor, text)

    async def events_of(self, business_id: str, wa_id: str) -> list[DeskEvent]:
        query = sa.select(desk_events).where(desk_events.c.business_id == business_id, desk_events.c.wa_id == wa_id)
        async with self._store.connect() as connection:
            return [_event(row) for row in await connection.execute(query.order_by(desk_events.c.id))]

    async def events_after(self, cursor: int, limit: int = 200) -> list[dict[str, Any]]:
        """For the event stream: the desk events after `cursor`, as JSON."""
        query = sa.select(desk_events).where(desk_events.c.id > cursor).order_by(desk_events.c.id).limit(limit)
        async with self._store.connect() as connection:
            return [_event(row).to_json() for row in await connection.execute(query)]

    async def last_event_id(self) -> int:
        async with self._store.connect() as connection:
            found = (await connection.execute(sa.select(sa.func.max(desk_events.c.id)))).scalar()
        return int(found or 0)


def _event(row: Any) -> DeskEvent:
    return DeskEvent(row.id, row.business_id, row.wa_id, row.at, row.kind, row.actor, row.text)
