"""Reads the guests' free entry points from the store: their messages from an ad or a Page button (recorded by
the inbox processing) and the business's first accepted message after each, for `window.EntryPoints`."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloudapi.window import ENTRY_POINT_REPLY, ENTRY_POINT_WINDOW, EntryPoints, first_replies
from connectors.whatsapp.store import entry_points, messages

REACH = (ENTRY_POINT_REPLY + ENTRY_POINT_WINDOW).total_seconds()
"""A referral older than this before a message cannot make it free."""


async def entry_points_of(
    connection: AsyncConnection, business_id: str, wa_ids: Sequence[str] | None, since: float, until: float
) -> dict[str, EntryPoints]:
    """The entry points of the number's guests (`wa_ids`, or all) that may cover a message sent in
    [since, until]; guests with none are left out, which is nearly everyone: one indexed read then."""
    query = sa.select(entry_points.c.wa_id, entry_points.c.referred_at).where(
        entry_points.c.business_id == business_id,
        entry_points.c.referred_at >= since - REACH,
        entry_points.c.referred_at <= until,
    )
    if wa_ids is not None:
        query = query.where(entry_points.c.wa_id.in_(list(wa_ids)))
    referrals: dict[str, list[int]] = {}
    for row in await connection.execute(query.order_by(entry_points.c.referred_at)):
        referrals.setdefault(row.wa_id, []).append(int(row.referred_at))
    if not referrals:
        return {}
    earliest = min(times[0] for times in referrals.values())
    sends: dict[str, list[float]] = {}
    replies = await connection.execute(
        sa.select(messages.c.wa_id, messages.c.created_at)
        .where(
            messages.c.direction == "outbound",
            messages.c.business_id == business_id,
            messages.c.wa_id.in_(list(referrals)),
            messages.c.state == "accepted",
            messages.c.created_at >= earliest,
        )
        .order_by(messages.c.created_at)
    )
    for row in replies:
        sends.setdefault(row.wa_id, []).append(row.created_at)
    return {
        wa_id: EntryPoints(tuple(times), first_replies(times, sends.get(wa_id, [])))
        for wa_id, times in referrals.items()
    }
