"""The media records: one row per file the gateway keeps or tries to keep, on the store's shared metadata.

A guest's media message gets its row `pending` as soon as the keeper sees the message (or, after a crash, as
soon as a sweep finds a media message without a row): the row, not a task in memory, is what says a download
is owed, so a restart loses nothing. A row ends `kept` (its bytes in the media store under `storage_key`),
`refused` (past Meta's size limit for its kind: it would never fit), `failed` (the media id could not be
fetched in all the tries Meta's 7-day lifetime of a media id allows), or, once kept, `expired` (deleted by the
retention sweep). An agent's outbound attachment is kept in the same table (`direction` outbound), `kept` at
once, so one route serves both.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store import GatewayStore, Upsert, guest_id, messages, metadata

MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
MediaState = Literal["pending", "kept", "refused", "failed", "expired"]
MEDIA_URL = "/webhooks/whatsapp/api/v1/media/{id}"

media_files = sa.Table(
    "media_files",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", guest_id(), nullable=False),
    sa.Column("message_id", sa.Integer),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("graph_media_id", sa.String(128)),
    sa.Column("claimed_mime_type", sa.String(255)),
    sa.Column("expected_sha256", sa.String(128)),
    sa.Column("mime_type", sa.String(255)),
    sa.Column("size", sa.BigInteger),
    sa.Column("sha256", sa.String(64)),
    sa.Column("filename", sa.String(255)),
    sa.Column("caption", sa.Text),
    sa.Column("storage_key", sa.String(512)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.Float),
    sa.Column("claimed_until", sa.Float),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("kept_at", sa.Float),
    sa.Index("ix_media_files_message", "message_id", unique=True),
    sa.Index("ix_media_files_due", "state", "next_attempt_at"),
    sa.Index("ix_media_files_kept", "state", "kept_at"),
)
"""`id` is the public id in the agents' API (random, so one cannot guess another's); `message_id` the message
(`messages.id`) the file belongs to, at most one file each; `graph_media_id` WhatsApp's media id, `claimed_*`
what the webhook said of it, `mime_type`/`size`/`sha256` what was kept; `claimed_until` a download under way
(a process that dies mid-download lets the claim lapse, and another takes the row)."""


@dataclass(frozen=True)
class MediaRecord:
    """One row of `media_files`, as the keeper and the API read it."""

    id: str
    business_id: str
    wa_id: str
    message_id: int | None
    direction: str
    kind: str
    graph_media_id: str | None
    claimed_mime_type: str | None
    expected_sha256: str | None
    mime_type: str | None
    size: int | None
    sha256: str | None
    filename: str | None
    caption: str | None
    storage_key: str | None
    state: MediaState
    reason: str | None
    attempts: int
    created_at: float
    kept_at: float | None

    def to_json(self) -> dict[str, Any]:
        """The `media` object of a thread item."""
        return {
            "id": self.id,
            "kind": self.kind,
            "mime_type": self.mime_type or self.claimed_mime_type,
            "size": self.size,
            "sha256": self.sha256,
            "filename": self.filename,
            "caption": self.caption,
            "url": MEDIA_URL.format(id=self.id),
            "state": self.state,
            "reason": self.reason,
        }


def new_media_id() -> str:
    return uuid.uuid4().hex


def _record(row: Any) -> MediaRecord:
    return MediaRecord(**{name: row._mapping[name] for name in MediaRecord.__dataclass_fields__})


@functools.cache
def _new_pending(dialect_name: str) -> Upsert:
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    return Upsert(insert(media_files).on_conflict_do_nothing(index_elements=["message_id"]), dialect_name)


def pending_row(message: Mapping[str, Any], meta: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The pending row of a stored guest media message (`meta` its stored metadata, whose `media` part is the
    webhook's media object as `cloudapi.inbound.Media` read it)."""
    media = meta.get("media") if isinstance(meta.get("media"), dict) else {}
    return {
        "id": new_media_id(),
        "business_id": message["business_id"],
        "wa_id": message["wa_id"],
        "message_id": message["id"],
        "direction": "inbound",
        "kind": message["type"],
        "graph_media_id": media.get("media_id") or meta.get("media_id"),
        "claimed_mime_type": media.get("mime_type"),
        "expected_sha256": media.get("sha256"),
        "filename": media.get("filename"),
        "caption": media.get("caption"),
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


class MediaRecords:
    """Reads and writes of `media_files` on the gateway store."""

    def __init__(self, store: GatewayStore) -> None:
        self._store = store

    async def newest_message_id(self) -> int:
        async with self._store.connect() as connection:
            return int((await connection.execute(sa.select(sa.func.max(messages.c.id)))).scalar() or 0)

    async def unrecorded(
        self, since: float, wamids: Sequence[str] | None = None, after_id: int = 0
    ) -> list[dict[str, Any]]:
        """Guest media messages stored since `since` that have no row yet: of `wamids` only when given, else
        those past `after_id` (a range of the primary key, so a sweep reads only the newest messages)."""
        query = (
            sa.select(messages.c.id, messages.c.business_id, messages.c.wa_id, messages.c.type, messages.c.meta)
            .outerjoin(media_files, media_files.c.message_id == messages.c.id)
            .where(
                messages.c.direction == "inbound",
                messages.c.type.in_(MEDIA_KINDS),
                messages.c.created_at >= since,
                messages.c.id > after_id,
                media_files.c.id.is_(None),
            )
        )
        if wamids is not None:
            query = query.where(messages.c.wamid.in_(list(wamids)))
        async with self._store.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(query)]

    async def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """New rows; a message that got its row meanwhile (another process saw it too) keeps that one."""
        if not rows:
            return
        async with self._store.transaction() as connection:
            await _new_pending(connection.dialect.name).run(connection, list(rows))

    async def claim_due(self, now: float, lease: float, limit: int = 20) -> list[MediaRecord]:
        """Pending rows whose next attempt is due and that no live download holds, claimed for `lease` seconds:
        a conditional update per row, so two processes never download the same one."""
        due = sa.select(media_files.c.id).where(
            media_files.c.state == "pending",
            media_files.c.next_attempt_at <= now,
            sa.or_(media_files.c.claimed_until.is_(None), media_files.c.claimed_until < now),
        )
        claimed: list[MediaRecord] = []
        async with self._store.transaction() as connection:
            for (media_id,) in (await connection.execute(due.order_by(media_files.c.created_at).limit(limit))).all():
                taken = await connection.execute(
                    media_files.update()
                    .where(
                        media_files.c.id == media_id,
                        media_files.c.state == "pending",
                        sa.or_(media_files.c.claimed_until.is_(None), media_files.c.claimed_until < now),
                    )
                    .values(claimed_until=now + lease)
                )
                if taken.rowcount == 1:
                    claimed.append(await _get(connection, media_id))
        return claimed

    async def update(self, media_id: str, **values: Any) -> None:
        async with self._store.transaction() as connection:
            await connection.execute(media_files.update().where(media_files.c.id == media_id).values(**values))

    async def insert(self, row: dict[str, Any]) -> None:
        async with self._store.transaction() as connection:
            await connection.execute(media_files.insert().values(**row))

    async def get(self, media_id: str) -> MediaRecord | None:
        async with self._store.connect() as connection:
            row = (await connection.execute(sa.select(media_files).where(media_files.c.id == media_id))).first()
        return None if row is None else _record(row)

    async def kept_before(self, cutoff: float, limit: int = 200) -> list[MediaRecord]:
        query = (
            sa.select(media_files)
            .where(media_files.c.state == "kept", media_files.c.kept_at < cutoff)
            .order_by(media_files.c.kept_at)
            .limit(limit)
        )
        async with self._store.connect() as connection:
            return [_record(row) for row in await connection.execute(query)]


async def _get(connection: AsyncConnection, media_id: str) -> MediaRecord:
    row = (await connection.execute(sa.select(media_files).where(media_files.c.id == media_id))).one()
    return _record(row)


async def attach_media(connection: AsyncConnection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Thread items with their `media` (None for a message without a file), read on the caller's connection."""
    ids = [row["id"] for row in rows]
    found: dict[int, MediaRecord] = {}
    if ids:
        query = sa.select(media_files).where(media_files.c.message_id.in_(ids))
        records = [_record(row) for row in await connection.execute(query)]
        found = {record.message_id: record for record in records if record.message_id is not None}
    for row in rows:
        record = found.get(row["id"])
        row["media"] = record.to_json() if record else None
    return rows
