"""Guests' edits and deletions as the agents' API shows them, applied to stored messages as they are read
(`store.amendments` keeps them apart, so an amendment that came before its message applies all the same).

Every message the API serves has `edited` (the newest edit's text and WhatsApp time, or null; the message's
own `text` stays the original), `deleted` and `deleted_at`. A deleted message keeps its place in the thread
but no longer serves its text, nor any edit's: the guest took it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store import message_amendments, messages

_AMENDMENT_COLUMNS = (
    message_amendments.c.business_id,
    message_amendments.c.original_wamid,
    message_amendments.c.kind,
    message_amendments.c.text,
    message_amendments.c.wa_timestamp,
)


def amended(message: Mapping[str, Any], amendments: Sequence[Any]) -> dict[str, Any]:
    """`message` (as the API shows it) with its amendments applied: rows of `message_amendments`."""
    revokes = [a for a in amendments if a.kind == "revoke"]
    if revokes:
        deleted_at = min(a.wa_timestamp for a in revokes)
        return {**message, "text": None, "edited": None, "deleted": True, "deleted_at": deleted_at}
    edits = [a for a in amendments if a.kind == "edit"]
    newest = max(edits, key=lambda a: a.wa_timestamp, default=None)
    edited = None if newest is None else {"text": newest.text, "at": newest.wa_timestamp}
    return {**message, "edited": edited, "deleted": False, "deleted_at": None}


async def with_amendments(connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their amendments applied; one query for the guest messages among them (none when there
    are none)."""
    wamids = sorted({row["wamid"] for row in rows if row["direction"] == "inbound" and row["wamid"]})
    found: dict[tuple[str, str], list[Any]] = {}
    if wamids:
        query = sa.select(*_AMENDMENT_COLUMNS).where(message_amendments.c.original_wamid.in_(wamids))
        for amendment in await connection.execute(query):
            found.setdefault((amendment.business_id, amendment.original_wamid), []).append(amendment)
    return [amended(row, found.get((row["business_id"], row["wamid"]), ())) for row in rows]


def revoked(message: Any) -> Any:
    """SQL: whether the guest deleted `message` (the messages table or an alias of it)."""
    return sa.exists().where(
        message_amendments.c.business_id == message.c.business_id,
        message_amendments.c.original_wamid == message.c.wamid,
        message_amendments.c.kind == "revoke",
        message.c.direction == "inbound",
    )


def edited_to(message: Any, pattern: str) -> Any:
    """SQL: whether an edit of `message` says what `pattern` (a lower-case LIKE pattern) matches."""
    return sa.exists().where(
        message_amendments.c.business_id == message.c.business_id,
        message_amendments.c.original_wamid == message.c.wamid,
        message_amendments.c.kind == "edit",
        sa.func.lower(message_amendments.c.text).like(pattern, escape="\\"),
    )


async def amendments_after(connection: AsyncConnection, cursor: int, limit: int = 200) -> list[dict[str, Any]]:
    """New amendments of stored guest messages, with the thread of their message, for the event stream (one
    of a message not stored yet shows once the message comes, with it)."""
    query = (
        sa.select(
            message_amendments.c.id,
            message_amendments.c.kind,
            message_amendments.c.wa_timestamp,
            message_amendments.c.original_wamid,
            messages.c.id.label("message_id"),
            messages.c.business_id,
            messages.c.wa_id,
        )
        .join(
            messages,
            (messages.c.business_id == message_amendments.c.business_id)
            & (messages.c.wamid == message_amendments.c.original_wamid)
            & (messages.c.direction == "inbound"),
        )
        .where(message_amendments.c.id > cursor)
        .order_by(message_amendments.c.id)
        .limit(limit)
    )
    return [
        {
            "id": row.id,
            "message_id": row.message_id,
            "business_id": row.business_id,
            "wa_id": row.wa_id,
            "wamid": row.original_wamid,
            "kind": row.kind,
            "at": row.wa_timestamp,
        }
        for row in await connection.execute(query)
    ]
