"""The gateway store: raw webhooks (the inbox), messages in both directions with their statuses, and
conversations with their window, on SQLite or PostgreSQL through SQLAlchemy 1.4's async core.

`schema` holds the tables, `records` the typed records the store takes and gives, `engine` the engine and
SQLite's writer queue, `gateway_store` the reads and writes, `dispatches` the guest messages on their way to
the bot and the processes alive, `deliveries` what the statuses say of a send, `guest_ids` the ids of one
guest filed under their key; beside them, recorded with each batch of webhooks (`batch_news`): `amendments`
(guests' edits and deletions), `guest_preferences` (marketing stopped or resumed in WhatsApp) and
`account_events`.
It imports nothing of the gateway above it but `cloudapi` (what WhatsApp is), so every package may use it.
"""

from connectors.whatsapp.store.account_events import AccountEvent, account_events
from connectors.whatsapp.store.amendments import Amendment, message_amendments
from connectors.whatsapp.store.deliveries import Delivery, delivery_of
from connectors.whatsapp.store.dispatches import INTAKE, DispatchStore, owner_of
from connectors.whatsapp.store.engine import StoreClosedError, engine_for
from connectors.whatsapp.store.gateway_store import GatewayStore
from connectors.whatsapp.store.guest_preferences import MarketingPreference, marketing_preferences, marketing_stopped
from connectors.whatsapp.store.records import (
    BatchContents,
    GuestIds,
    InboundRecord,
    LastInbound,
    OutboundRecord,
    PendingDispatch,
    SendSlot,
    StatusRecord,
    stored_error,
)
from connectors.whatsapp.store.schema import (
    STATUS_RANK,
    conversations,
    entry_points,
    guest_id,
    inbox,
    messages,
    metadata,
    statuses,
)
from connectors.whatsapp.store.statements import Upsert

__all__ = [
    "INTAKE",
    "STATUS_RANK",
    "AccountEvent",
    "Amendment",
    "BatchContents",
    "Delivery",
    "DispatchStore",
    "GatewayStore",
    "GuestIds",
    "InboundRecord",
    "LastInbound",
    "MarketingPreference",
    "OutboundRecord",
    "PendingDispatch",
    "SendSlot",
    "StatusRecord",
    "StoreClosedError",
    "Upsert",
    "account_events",
    "conversations",
    "delivery_of",
    "engine_for",
    "entry_points",
    "guest_id",
    "inbox",
    "marketing_preferences",
    "marketing_stopped",
    "message_amendments",
    "messages",
    "metadata",
    "owner_of",
    "statuses",
    "stored_error",
]
