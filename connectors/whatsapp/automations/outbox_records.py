"""The outbound queue's records: what the API queues (`NewMessage`), what a worker claims (`QueuedMessage`)
and makes of it (`Outcome`), and what the API shows of a message (`OutboxEntry`) and a batch (`Batch`), so
no row of the queue crosses a module as a dict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from cloudapi.errors import ErrorInfo
from connectors.whatsapp.costs import Charge
from connectors.whatsapp.store import Delivery, OutboundRecord, stored_error

__all__ = [
    "CALLBACK_PREFIX",
    "LANE_MARKETING",
    "LANE_REPLY",
    "LANE_TRANSACTIONAL",
    "Batch",
    "NewMessage",
    "OutboxEntry",
    "Outcome",
    "QueuedMessage",
    "State",
    "entry_from_row",
]

State = Literal["queued", "sending", "sent", "failed", "held", "cancelled", "refused"]
LANE_REPLY, LANE_TRANSACTIONAL, LANE_MARKETING = 0, 1, 2
CALLBACK_PREFIX = "gw:"
"""`biz_opaque_callback_data` of an automation send: the prefix and the outbox id, echoed in every status."""


@dataclass(frozen=True)
class NewMessage:
    """A message the API accepted, ready to queue."""

    business_id: str
    wa_id: str
    region: str
    origin: str
    body: dict[str, Any]
    lane: int
    urgent: bool
    due_at: float
    state: State
    purpose: str | None = None
    purpose_values: dict[str, str] | None = None
    language: str | None = None
    template_name: str | None = None
    template_language: str | None = None
    category: str | None = None
    in_window: bool | None = None
    charge: Charge | None = None
    error_title: str | None = None


@dataclass(frozen=True)
class QueuedMessage:
    """A claimed row, as the dispatcher works on it."""

    id: int
    business_id: str
    wa_id: str
    region: str
    origin: str
    body: dict[str, Any]
    lane: int
    attempts: int
    purpose: str | None
    purpose_values: dict[str, str] | None
    language: str | None
    template_name: str | None
    template_language: str | None
    category: str | None
    batch_id: str | None

    @property
    def callback_data(self) -> str:
        return f"{CALLBACK_PREFIX}{self.id}"


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed message."""

    id: int
    state: State
    record: OutboundRecord | None = None
    """The message-log row to write (a send that reached WhatsApp's answer), if any."""
    wamid: str | None = None
    due_at: float | None = None
    attempts: int | None = None
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    sent_at: float | None = None
    in_window: bool | None = None
    charge: Charge | None = None
    body: dict[str, Any] | None = None
    category: str | None = None
    template_name: str | None = None
    template_language: str | None = None


@dataclass(frozen=True)
class Batch:
    """A batch as the API shows it: its messages are read beside it."""

    id: str
    business_id: str
    total: int
    created_at: float


@dataclass(frozen=True)
class OutboxEntry:
    """One automation message as the API shows it: its queue row, its price, and what WhatsApp's status
    webhooks said of it once it went (the source of truth: a status that raced ahead of the send counts)."""

    id: int
    batch_id: str | None
    business_id: str
    wa_id: str
    body: Mapping[str, Any]
    """The message body as it was queued (raw Cloud API JSON, stored as such)."""
    purpose: str | None
    template_name: str | None
    template_language: str | None
    category: str | None
    state: str
    """The queue's state: queued, held, sending, sent, failed, cancelled."""
    attempts: int
    wamid: str | None
    due_at: float
    sent_at: float | None
    refusal: ErrorInfo | None
    """The Cloud API's answer when it refused the send."""
    charge: Charge | None
    delivery: Delivery | None

    @property
    def shown_state(self) -> str:
        """The queue's state, or once WhatsApp accepted the message, its delivery status."""
        if self.state == "sent" and self.delivery is not None and self.delivery.status:
            return self.delivery.status
        return self.state

    @property
    def error(self) -> ErrorInfo | None:
        """WhatsApp's error: the failed status's, else the refusal's."""
        if self.delivery is not None and self.delivery.error is not None:
            return self.delivery.error
        return self.refusal


def entry_from_row(row: Any, delivery: Delivery | None) -> OutboxEntry:
    charge = None
    if row.charge_kind is not None:
        amount = None if row.charge_amount is None else Decimal(row.charge_amount)
        charge = Charge(
            row.charge_kind,
            row.charge_market,
            bool(row.charge_billable),
            amount,
            row.charge_currency,
            row.charge_reason,
            category=row.charge_kind,
        )
    return OutboxEntry(
        id=row.id,
        batch_id=row.batch_id,
        business_id=row.business_id,
        wa_id=row.wa_id,
        body=json.loads(row.body) if row.body else {},
        purpose=row.purpose,
        template_name=row.template_name,
        template_language=row.template_language,
        category=row.category,
        state=row.state,
        attempts=row.attempts,
        wamid=row.wamid,
        due_at=row.due_at,
        sent_at=row.sent_at,
        refusal=stored_error(row.error_code, row.error_title, row.error_details),
        charge=charge,
        delivery=delivery,
    )
