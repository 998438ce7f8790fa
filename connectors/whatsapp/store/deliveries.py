"""What WhatsApp's status webhooks say of the business's sends: the highest status of each, its error if it
failed and its pricing, read from the statuses themselves (the source of truth), so a status that raced ahead
of its send's record still counts. The outbox and the cost report read it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cloudapi.errors import ErrorInfo
from cloudapi.inbound import Pricing, parse_pricing
from connectors.whatsapp.store.records import stored_error
from connectors.whatsapp.store.schema import STATUS_RANK, statuses


@dataclass(frozen=True)
class Delivery:
    """The highest status WhatsApp reported for one message, its error if it failed, and its pricing."""

    status: str
    error: ErrorInfo | None
    pricing: Pricing | None


async def delivery_of(connection: AsyncConnection, wamids: Sequence[str]) -> dict[str, Delivery]:
    """Read from the status webhooks themselves (the source of truth), so a status that raced ahead of its
    send's record still counts."""
    found: dict[str, Delivery] = {}
    for start in range(0, len(wamids), 500):
        rows = await connection.execute(
            sa.select(statuses).where(statuses.c.wamid.in_(list(wamids[start : start + 500])))
        )
        for row in rows:
            pricing = parse_pricing(json.loads(row.pricing)) if row.pricing else None
            known = found.get(row.wamid)
            if known is None or STATUS_RANK.get(row.status, 0) > STATUS_RANK.get(known.status, 0):
                error = stored_error(row.error_code, row.error_title, row.error_details)
                found[row.wamid] = Delivery(row.status, error, pricing or (known and known.pricing))
            elif pricing and known.pricing is None:
                found[row.wamid] = Delivery(known.status, known.error, pricing)
    return found
