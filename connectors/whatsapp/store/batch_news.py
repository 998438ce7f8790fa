"""What a batch of webhooks carries beside guest messages and statuses, recorded in the batch's transaction:
the guests' edits and deletions (`amendments`), their marketing preferences (`guest_preferences`) and the
account's events (`account_events`). Like the messages, none can be fetched from Meta again, so each commits
with its webhook's "processed" mark or not at all.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store.account_events import record_account_events
from connectors.whatsapp.store.amendments import record_amendments
from connectors.whatsapp.store.guest_preferences import record_marketing_preferences
from connectors.whatsapp.store.records import BatchContents


async def record_news(connection: AsyncConnection, contents: BatchContents, now: float) -> None:
    """Record the batch's amendments, preferences and account events; no statement at all for a batch that
    has none, as nearly every batch of guest messages."""
    if contents.amendments:
        await record_amendments(connection, contents.amendments, now)
    if contents.preferences:
        await record_marketing_preferences(connection, contents.preferences, now)
    if contents.account_events:
        await record_account_events(connection, contents.account_events, now)
