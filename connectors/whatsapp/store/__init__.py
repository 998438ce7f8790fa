"""The gateway store: raw webhooks (the inbox), messages in both directions with their statuses, and
conversations with their window, on SQLite or PostgreSQL through SQLAlchemy 1.4's async core.

`schema` holds the tables, `records` the typed records the store takes and gives, `engine` the engine and
SQLite's writer queue, `gateway_store` the reads and writes, `dispatches` the guest messages on their way to
the bot and the processes alive, `deliveries` what the statuses say of a send.
It imports nothing of the gateway above it but `cloudapi` (what WhatsApp is), so every package may use it.
"""

from connectors.whatsapp.store.deliveries import Delivery, delivery_of
from connectors.whatsapp.store.dispatches import DispatchStore, owner_of
from connectors.whatsapp.store.engine import StoreClosedError, engine_for
from connectors.whatsapp.store.gateway_store import GatewayStore
from connectors.whatsapp.store.records import (
    BatchContents,
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
    inbox,
    messages,
    metadata,
    statuses,
)
from connectors.whatsapp.store.statements import Upsert

__all__ = [
    "STATUS_RANK",
    "BatchContents",
    "Delivery",
    "DispatchStore",
    "GatewayStore",
    "InboundRecord",
    "LastInbound",
    "OutboundRecord",
    "PendingDispatch",
    "SendSlot",
    "StatusRecord",
    "StoreClosedError",
    "Upsert",
    "conversations",
    "delivery_of",
    "engine_for",
    "entry_points",
    "inbox",
    "messages",
    "metadata",
    "owner_of",
    "statuses",
    "stored_error",
]
