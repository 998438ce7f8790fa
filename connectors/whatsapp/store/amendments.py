"""Guests' edits and deletions of their own messages (`edit` and `revoke` webhooks), kept beside the messages
they amend and never given to the bot.

An amendment names its original by wamid. It is stored whether the original is stored or not: Meta does not
promise order, so an edit may arrive before the message it edits (or the original's webhook may still be in
Meta's retries). The agents' queries apply amendments as they read a thread (`agents.amendments`), so an
original that arrives later is shown edited or deleted at once, and nothing here rewrites a stored message:
its original text stays as it came. Each amendment is kept once, under its own wamid, so a redelivery changes
nothing; every edit is kept, and the newest by WhatsApp's timestamp is the one shown.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store.schema import guest_id, messages, metadata
from connectors.whatsapp.store.statements import Upsert

log = logging.getLogger(__name__)

message_amendments = sa.Table(
    "message_amendments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wamid", sa.String(256), nullable=False),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", guest_id(), nullable=False),
    sa.Column("original_wamid", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("wa_timestamp", sa.BigInteger, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Index("ix_message_amendments_wamid", "wamid", unique=True),
    sa.Index("ix_message_amendments_original", "business_id", "original_wamid"),
)
"""`wamid` is the edit's or revoke's own id; `original_wamid` the guest message it amends, at the same business
number; `text` an edit's new text (a text's body or a media's caption; None when the new content has none);
`wa_id` the guest as the webhook named them."""


@dataclass(frozen=True)
class Amendment:
    """A guest's edit of their message `original_wamid` (with its new `text`) or its deletion (`revoke`)."""

    business_id: str
    wa_id: str
    wamid: str
    original_wamid: str
    kind: Literal["edit", "revoke"]
    text: str | None
    wa_timestamp: int


@functools.cache
def _new_amendment(dialect_name: str) -> Upsert:
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    return Upsert(insert(message_amendments).on_conflict_do_nothing(index_elements=["wamid"]), dialect_name)


async def record_amendments(connection: AsyncConnection, amendments: Sequence[Amendment], now: float) -> None:
    """Keep each amendment once, inside the caller's transaction (the webhook batch's), and log it: an
    amendment of a message not stored (yet) at a warning, since agents see it only once the message comes."""
    rows = [
        {
            "wamid": a.wamid,
            "business_id": a.business_id,
            "wa_id": a.wa_id,
            "original_wamid": a.original_wamid,
            "kind": a.kind,
            "text": a.text,
            "wa_timestamp": a.wa_timestamp,
            "received_at": now,
        }
        for a in amendments
    ]
    await _new_amendment(connection.dialect.name).run(connection, rows)
    originals = sorted({a.original_wamid for a in amendments})
    stored = await connection.execute(
        sa.select(messages.c.business_id, messages.c.wamid).where(
            messages.c.direction == "inbound", messages.c.wamid.in_(originals)
        )
    )
    present = {(row.business_id, row.wamid) for row in stored}
    for a in amendments:
        if (a.business_id, a.original_wamid) in present:
            log.info("guest's %s %s of message %s recorded", a.kind, a.wamid, a.original_wamid)
        else:
            log.warning(
                "guest's %s %s names message %s, which is not stored (yet): kept, and shown when it is",
                a.kind,
                a.wamid,
                a.original_wamid,
            )
