"""Reads a hotel number's month of outbound messages from the store for the cost report, each template send
with the category its template had when it was sent (a category Meta changed since reprices no earlier send)."""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from cloudapi.phones import region_of_wa_id
from cloudapi.templates import CatalogTemplate
from cloudapi.window import WINDOW
from connectors.whatsapp.costs.entry_points import entry_points_of
from connectors.whatsapp.costs.reports import SentMessage
from connectors.whatsapp.store import GatewayStore, delivery_of, messages
from connectors.whatsapp.templates import CategoryChange, category_at

DELIVERED = ("delivered", "read", "played")


async def month_messages(
    store: GatewayStore,
    business_id: str,
    since: float,
    until: float,
    templates: Sequence[CatalogTemplate],
    category_changes: Mapping[tuple[str, str], Sequence[CategoryChange]] | None = None,
) -> list[SentMessage]:
    """Every outbound message the number got accepted in [since, until), priced by kind (a template by its
    category at the time, from `category_changes`), window and free entry point."""
    categories = {(t.name, t.language): t.category for t in templates}
    changes = category_changes or {}
    window = WINDOW.total_seconds()
    async with store.connect() as connection:
        sent = (
            await connection.execute(
                sa.select(
                    messages.c.id,
                    messages.c.wamid,
                    messages.c.wa_id,
                    messages.c.type,
                    messages.c.body,
                    messages.c.created_at,
                ).where(
                    messages.c.direction == "outbound",
                    messages.c.business_id == business_id,
                    messages.c.state.in_(["accepted", "failed"]),
                    messages.c.wamid.is_not(None),
                    messages.c.created_at >= since,
                    messages.c.created_at < until,
                )
            )
        ).all()
        inbound: dict[str, list[int]] = {}
        rows = await connection.execute(
            sa.select(messages.c.wa_id, messages.c.wa_timestamp)
            .where(
                messages.c.direction == "inbound",
                messages.c.business_id == business_id,
                messages.c.wa_timestamp >= since - window,
                messages.c.wa_timestamp < until,
            )
            .order_by(messages.c.wa_timestamp)
        )
        for row in rows:
            inbound.setdefault(row.wa_id, []).append(row.wa_timestamp)
        deliveries = await delivery_of(connection, [row.wamid for row in sent])
        referred = await entry_points_of(connection, business_id, None, since, until)
    result = []
    for row in sent:
        kind = "service"
        if row.type == "template":
            template = json.loads(row.body or "{}").get("template") or {}
            key = (template.get("name"), (template.get("language") or {}).get("code", ""))
            current = categories.get(key)
            kind = category_at(changes.get(key, ()), current, row.created_at).lower() if current else "unknown"
        times = inbound.get(row.wa_id, [])
        newest = bisect.bisect_right(times, row.created_at)
        delivery = deliveries.get(row.wamid)
        in_window = newest > 0 and row.created_at - times[newest - 1] <= window
        result.append(
            SentMessage(
                id=row.id,
                wamid=row.wamid,
                at=row.created_at,
                wa_id=row.wa_id,
                region=region_of_wa_id(row.wa_id),
                kind=kind,
                in_window=in_window,
                in_entry_point=row.wa_id in referred and referred[row.wa_id].open_at(row.created_at),
                delivered=delivery is not None and delivery.status in DELIVERED,
                reported=delivery.pricing if delivery else None,
            )
        )
    return result
