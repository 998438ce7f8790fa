"""The gateway store: raw webhooks (the inbox), messages in both directions with their statuses, and
conversations with their window.

One schema on SQLite (the embedded default) and PostgreSQL (to scale out), through SQLAlchemy 1.4's async
core. Every claim that must hold across processes (a webhook processed once, a message given to the bot
once) is a conditional UPDATE or a unique index, never process memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 9}
"""Outbound statuses only move up this ladder: a late `delivered` never overwrites `read`; `failed` is final."""

metadata = sa.MetaData()

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", sa.Float),
    sa.Column("processed_at", sa.Float),
    sa.Column("error", sa.Text),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("business_id", sa.String(32), primary_key=True),
    sa.Column("wa_id", sa.String(64), primary_key=True),
    sa.Column("profile_name", sa.String(256)),
    sa.Column("last_inbound_at", sa.BigInteger),
    sa.Column("updated_at", sa.Float, nullable=False),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", sa.String(64), nullable=False),
    sa.Column("wamid", sa.String(256)),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("meta", sa.Text),
    sa.Column("wa_timestamp", sa.BigInteger),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("claimed_at", sa.Float),
    sa.Column("status", sa.String(16)),
    sa.Column("status_rank", sa.Integer, nullable=False, default=0),
    sa.Column("status_at", sa.BigInteger),
    sa.Column("error_code", sa.Integer),
    sa.Column("error_title", sa.Text),
    sa.Column("error_details", sa.Text),
    sa.Column("blocked_reason", sa.Text),
    sa.Column("pricing", sa.Text),
    sa.Column("origin", sa.String(64)),
    sa.Index("ix_messages_wamid", "direction", "wamid", unique=True),
    sa.Index("ix_messages_thread", "business_id", "wa_id", "id"),
    sa.Index("ix_messages_state", "direction", "state"),
)

statuses = sa.Table(
    "statuses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wamid", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("wa_timestamp", sa.BigInteger),
    sa.Column("recipient_id", sa.String(64)),
    sa.Column("error_code", sa.Integer),
    sa.Column("error_title", sa.Text),
    sa.Column("error_details", sa.Text),
    sa.Column("pricing", sa.Text),
    sa.Column("conversation", sa.Text),
    sa.Column("callback_data", sa.Text),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Index("ix_statuses_wamid_status", "wamid", "status", unique=True),
)


@dataclass(frozen=True)
class InboundRecord:
    """A guest message as the processor records it."""

    business_id: str
    wa_id: str
    wamid: str
    type: str
    text: str
    body: dict[str, Any]
    meta: dict[str, Any]
    wa_timestamp: int
    profile_name: str | None


@dataclass(frozen=True)
class OutboundRecord:
    """A business message after its send: accepted (with a wamid), failed (with the error) or blocked."""

    business_id: str
    wa_id: str
    type: str
    text: str
    body: dict[str, Any]
    state: str
    origin: str
    wamid: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    blocked_reason: str | None = None


@dataclass(frozen=True)
class StatusRecord:
    wamid: str
    status: str
    wa_timestamp: int
    recipient_id: str | None
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    pricing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class PendingDispatch:
    """A recorded guest message the bot has not been given yet."""

    wamid: str
    business_id: str
    wa_id: str
    text: str
    meta: dict[str, Any]
    wa_timestamp: int


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def engine_for(url: str) -> AsyncEngine:
    """An async engine for `url`; SQLite gets WAL and a busy timeout so several processes can share it."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


class GatewayStore:
    """Durable state of the gateway; every method is one short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> GatewayStore:
        return cls(engine_for(url))

    async def create_schema(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

    async def close(self) -> None:
        await self.engine.dispose()

    # --- the inbox -------------------------------------------------------------------------------------

    async def save_webhook(self, body: bytes, now: float) -> int:
        """Store a verified webhook before it is acknowledged; returns its inbox id."""
        async with self.engine.begin() as connection:
            result = await connection.execute(inbox.insert().values(received_at=now, body=body, state="pending"))
            return int(result.inserted_primary_key[0])

    async def claim_webhook(self, inbox_id: int, owner: str, now: float, lease: float) -> bytes | None:
        """Take a webhook for processing unless another process holds a live claim on it."""
        claimable = sa.or_(
            inbox.c.state == "pending", sa.and_(inbox.c.state == "processing", inbox.c.claimed_at < now - lease)
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(
                inbox.update()
                .where(inbox.c.id == inbox_id, claimable)
                .values(state="processing", claimed_by=owner, claimed_at=now)
            )
            if result.rowcount != 1:
                return None
            return (await connection.execute(sa.select(inbox.c.body).where(inbox.c.id == inbox_id))).scalar_one()

    async def finish_webhook(self, inbox_id: int, now: float, state: str = "done", error: str | None = None) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                inbox.update().where(inbox.c.id == inbox_id).values(state=state, processed_at=now, error=error)
            )

    async def unfinished_webhooks(self, now: float, lease: float) -> list[int]:
        """Webhooks stored but not processed: pending, or claimed by a process that stopped."""
        stale = sa.and_(inbox.c.state == "processing", inbox.c.claimed_at < now - lease)
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(inbox.c.id).where(sa.or_(inbox.c.state == "pending", stale)).order_by(inbox.c.id)
            )
            return [row.id for row in rows]

    async def inbox_counts(self) -> dict[str, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(sa.select(inbox.c.state, sa.func.count()).group_by(inbox.c.state))
            return {row[0]: row[1] for row in rows}

    # --- guest messages ----------------------------------------------------------------------------------

    async def record_inbound(self, record: InboundRecord, now: float) -> bool:
        """Record a guest message and move the conversation's window; False if it was already recorded."""
        async with self.engine.begin() as connection:
            insert = self._insert(messages).values(
                direction="inbound",
                business_id=record.business_id,
                wa_id=record.wa_id,
                wamid=record.wamid,
                type=record.type,
                text=record.text,
                body=_dumps(record.body),
                meta=_dumps(record.meta),
                wa_timestamp=record.wa_timestamp,
                created_at=now,
                state="received",
                status_rank=0,
                origin="guest",
            )
            result = await connection.execute(insert.on_conflict_do_nothing())
            if result.rowcount != 1:
                return False
            await connection.execute(self._conversation_upsert(record, now))
        return True

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
        insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        return insert(table)

    def _conversation_upsert(self, record: InboundRecord, now: float) -> Any:
        """Create the conversation or move its window forward; an older message never moves it back."""
        insert = self._insert(conversations).values(
            business_id=record.business_id,
            wa_id=record.wa_id,
            profile_name=record.profile_name,
            last_inbound_at=record.wa_timestamp,
            updated_at=now,
        )
        current = conversations.c.last_inbound_at
        latest = sa.case(
            (sa.or_(current.is_(None), insert.excluded.last_inbound_at > current), insert.excluded.last_inbound_at),
            else_=current,
        )
        return insert.on_conflict_do_update(
            index_elements=["business_id", "wa_id"],
            set_={
                "last_inbound_at": latest,
                "profile_name": sa.func.coalesce(insert.excluded.profile_name, conversations.c.profile_name),
                "updated_at": insert.excluded.updated_at,
            },
        )

    async def claim_dispatch(self, wamid: str, now: float, lease: float) -> bool:
        """Take a recorded guest message for the bot, once across processes (again only past the lease)."""
        claimable = sa.or_(
            messages.c.state == "received",
            sa.and_(messages.c.state == "dispatched", messages.c.claimed_at < now - lease),
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(
                messages.update()
                .where(messages.c.direction == "inbound", messages.c.wamid == wamid, claimable)
                .values(state="dispatched", claimed_at=now)
            )
            return result.rowcount == 1

    async def finish_dispatch(self, wamid: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                messages.update()
                .where(messages.c.direction == "inbound", messages.c.wamid == wamid)
                .values(state="handled")
            )

    async def pending_dispatches(
        self, now: float, lease: float, conversation: tuple[str, str] | None = None
    ) -> list[PendingDispatch]:
        """Guest messages recorded but not yet handed to the bot, oldest WhatsApp timestamp first."""
        stale = sa.and_(messages.c.state == "dispatched", messages.c.claimed_at < now - lease)
        query = (
            sa.select(messages)
            .where(messages.c.direction == "inbound", sa.or_(messages.c.state == "received", stale))
            .order_by(messages.c.wa_timestamp, messages.c.id)
        )
        if conversation is not None:
            query = query.where(messages.c.business_id == conversation[0], messages.c.wa_id == conversation[1])
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            PendingDispatch(r.wamid, r.business_id, r.wa_id, r.text or "", json.loads(r.meta or "{}"), r.wa_timestamp)
            for r in rows
        ]

    async def last_inbound_at(self, business_id: str, wa_id: str) -> int | None:
        """WhatsApp's timestamp of the guest's last message to this number: the window starts there."""
        key = (conversations.c.business_id == business_id) & (conversations.c.wa_id == wa_id)
        async with self.engine.connect() as connection:
            return (await connection.execute(sa.select(conversations.c.last_inbound_at).where(key))).scalar()

    async def newer_inbound_exists(self, business_id: str, wa_id: str, wamid: str) -> bool:
        """Has the guest written again since `wamid`? Then a reply should quote the message it answers."""
        async with self.engine.connect() as connection:
            anchor = (
                await connection.execute(
                    sa.select(messages.c.id).where(messages.c.direction == "inbound", messages.c.wamid == wamid)
                )
            ).scalar()
            if anchor is None:
                return False
            newer = sa.select(messages.c.id).where(
                messages.c.direction == "inbound",
                messages.c.business_id == business_id,
                messages.c.wa_id == wa_id,
                messages.c.id > anchor,
            )
            return (await connection.execute(newer.limit(1))).first() is not None

    # --- business messages and statuses ------------------------------------------------------------------

    async def record_outbound(self, record: OutboundRecord, now: float) -> int:
        """Record a send's outcome; statuses that raced ahead of the send's answer are applied at once."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                messages.insert().values(
                    direction="outbound",
                    business_id=record.business_id,
                    wa_id=record.wa_id,
                    wamid=record.wamid,
                    type=record.type,
                    text=record.text,
                    body=_dumps(record.body),
                    created_at=now,
                    state=record.state,
                    status_rank=0,
                    error_code=record.error_code,
                    error_title=record.error_title,
                    error_details=record.error_details,
                    blocked_reason=record.blocked_reason,
                    origin=record.origin,
                )
            )
            message_id = int(result.inserted_primary_key[0])
            if record.wamid:
                early = await connection.execute(sa.select(statuses).where(statuses.c.wamid == record.wamid))
                for row in early:
                    await self._raise_status(connection, _status_from_row(row))
            return message_id

    async def apply_status(self, record: StatusRecord, now: float) -> bool:
        """Keep a status (once per wamid and status) and move its message up the ladder; False if a duplicate."""
        async with self.engine.begin() as connection:
            insert = self._insert(statuses).values(
                wamid=record.wamid,
                status=record.status,
                wa_timestamp=record.wa_timestamp,
                recipient_id=record.recipient_id,
                error_code=record.error_code,
                error_title=record.error_title,
                error_details=record.error_details,
                pricing=_dumps(record.pricing),
                conversation=_dumps(record.conversation),
                callback_data=record.callback_data,
                received_at=now,
            )
            result = await connection.execute(insert.on_conflict_do_nothing())
            if result.rowcount != 1:
                return False
            await self._raise_status(connection, record)
        return True

    async def _raise_status(self, connection: AsyncConnection, record: StatusRecord) -> None:
        rank = STATUS_RANK.get(record.status, 0)
        target = (messages.c.direction == "outbound") & (messages.c.wamid == record.wamid)
        values: dict[str, Any] = {"status": record.status, "status_rank": rank, "status_at": record.wa_timestamp}
        if record.status == "failed":
            values.update(
                state="failed",
                error_code=record.error_code,
                error_title=record.error_title,
                error_details=record.error_details,
            )
        await connection.execute(messages.update().where(target, messages.c.status_rank < rank).values(**values))
        if record.pricing is not None:
            await connection.execute(messages.update().where(target).values(pricing=_dumps(record.pricing)))

    async def thread(self, business_id: str, wa_id: str) -> list[dict[str, Any]]:
        """Every message of a conversation, oldest first, as plain rows (for the API and the tests)."""
        query = (
            sa.select(messages)
            .where(messages.c.business_id == business_id, messages.c.wa_id == wa_id)
            .order_by(messages.c.id)
        )
        async with self.engine.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(query)]

    async def statuses_of(self, wamids: Sequence[str]) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(sa.select(statuses).where(statuses.c.wamid.in_(list(wamids))))
            return [dict(row._mapping) for row in rows]


def _status_from_row(row: Any) -> StatusRecord:
    return StatusRecord(
        wamid=row.wamid,
        status=row.status,
        wa_timestamp=row.wa_timestamp,
        recipient_id=row.recipient_id,
        error_code=row.error_code,
        error_title=row.error_title,
        error_details=row.error_details,
        pricing=json.loads(row.pricing) if row.pricing else None,
    )
