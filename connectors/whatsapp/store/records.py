"""The records the store takes and gives: frozen dataclasses, so what crosses from the webhook processor,
the sender and the outbox into the store is typed. Raw JSON stays raw only where it is stored as it came
(a guest message's object and the metadata given to the bot; a business message's body).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
class LastInbound:
    """WhatsApp's timestamp and id of a guest's newest message to one business number."""

    at: int
    wamid: str | None


@dataclass(frozen=True)
class BatchContents:
    """What a batch of stored webhooks carries, as the processor interprets it."""

    inbound: list[InboundRecord]
    statuses: list[StatusRecord]
    finished: list[tuple[int, str, str | None]]


@dataclass(frozen=True)
class PendingDispatch:
    """A recorded guest message the bot has not been given yet."""

    wamid: str
    business_id: str
    wa_id: str
    text: str
    meta: dict[str, Any]
    wa_timestamp: int
