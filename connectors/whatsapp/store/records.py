"""The records the store takes and gives: frozen dataclasses, so what crosses from the webhook processor,
the sender and the outbox into the store is typed. Raw JSON stays raw only where it is stored as it came
(a guest message's object and the metadata given to the bot; a business message's body).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloudapi.errors import ErrorInfo
from cloudapi.inbound import Conversation, Pricing, Referral


@dataclass(frozen=True)
class InboundRecord:
    """A guest message as the processor records it: `meta` is what the bot is given with it (the channel's
    metadata, stored as it is); `referral` the ad or Page button it came from, which may open a free entry
    point."""

    business_id: str
    wa_id: str
    wamid: str
    type: str
    text: str
    meta: Mapping[str, Any]
    wa_timestamp: int
    profile_name: str | None
    referral: Referral | None = None


@dataclass(frozen=True)
class OutboundRecord:
    """A business message: `sending` (recorded before its Graph call), then accepted (with a wamid), failed
    (with the error), `unknown` (no answer came: its status webhooks will tell) or blocked. `send_key` is the
    send's own key, unique in the store (see `schema.messages`)."""

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
    send_key: str | None = None


@dataclass(frozen=True)
class SendSlot:
    """A send's row in the message log, found by its key: `earlier` is the state the row already had when the
    key was recorded before (a turn run again after a crash), None when this call recorded it."""

    message_id: int
    earlier: str | None = None
    wamid: str | None = None


@dataclass(frozen=True)
class StatusRecord:
    """A status webhook of a business message, with every error Meta listed (the first one is the message's
    error in the log) and its pricing and conversation objects."""

    wamid: str
    status: str
    wa_timestamp: int
    recipient_id: str | None
    errors: tuple[ErrorInfo, ...] = ()
    pricing: Pricing | None = None
    conversation: Conversation | None = None
    callback_data: str | None = None

    @property
    def error(self) -> ErrorInfo | None:
        return self.errors[0] if self.errors else None


def stored_error(code: int | None, title: str | None, details: str | None) -> ErrorInfo | None:
    """The error kept in a row's `error_code`, `error_title` and `error_details` columns, if it has one."""
    if code is None and title is None:
        return None
    return ErrorInfo(code, title, None, details, None)


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
    """A recorded guest message the bot has not finished with: `claimed_by` is the claim of the process that
    gives it to the bot; `resumed` says the bot was given it before, by a process that stopped (its turn may
    have run)."""

    wamid: str
    business_id: str
    wa_id: str
    text: str
    meta: dict[str, Any]
    wa_timestamp: int
    claimed_by: str = ""
    resumed: bool = False

    @property
    def conversation(self) -> tuple[str, str]:
        return (self.business_id, self.wa_id)
