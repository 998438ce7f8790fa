"""The records the store takes and gives: frozen dataclasses, so what crosses from the webhook processor,
the sender and the outbox into the store is typed. Raw JSON stays raw only where it is stored as it came
(a guest message's object and the metadata given to the bot; a business message's body).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloudapi.errors import ErrorInfo
from cloudapi.inbound import Conversation, Pricing, Referral

if TYPE_CHECKING:  # their modules build statements, which need these records: names for annotations only
    from connectors.whatsapp.store.account_events import AccountEvent
    from connectors.whatsapp.store.amendments import Amendment
    from connectors.whatsapp.store.guest_preferences import MarketingPreference


@dataclass(frozen=True)
class GuestIds:
    """Every id WhatsApp gave for the guest of one message: the phone number and the business-scoped user id
    (either may be missing, never both), a parent user id, the username; and, for a system message saying the
    guest changed number or user id, the new one. The store files them all under one guest (`guest_ids`)."""

    phone: str | None
    user_id: str | None
    parent_user_id: str | None = None
    username: str | None = None
    new_phone: str | None = None
    new_user_id: str | None = None

    @property
    def all(self) -> tuple[str, ...]:
        """The ids that name this guest, the phone number first (the key a new guest gets)."""
        ids = (self.phone, self.user_id, self.parent_user_id, self.new_phone, self.new_user_id)
        return tuple(dict.fromkeys(i for i in ids if i))


@dataclass(frozen=True)
class InboundRecord:
    """A guest message as the processor records it: `meta` is what the bot is given with it (the channel's
    metadata, stored as it is); `referral` the ad or Page button it came from, which may open a free entry
    point. `wa_id` is the guest's key: the phone number, else the user id, until the store files `ids`
    under the key the guest already has. `for_bot` is False for a message that only says something about the
    guest (a changed number), kept in the thread but never a turn."""

    business_id: str
    wa_id: str
    wamid: str
    type: str
    text: str
    meta: Mapping[str, Any]
    wa_timestamp: int
    profile_name: str | None
    referral: Referral | None = None
    ids: GuestIds | None = None
    for_bot: bool = True


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
    """WhatsApp's timestamp and id of a guest's newest message to one business number; `phone` the number
    WhatsApp last gave for them, which messages go to when the guest's key is another id."""

    at: int
    wamid: str | None
    phone: str | None = None


@dataclass(frozen=True)
class BatchContents:
    """What a batch of stored webhooks carries, as the processor interprets it: guest messages, statuses and
    each webhook's outcome, then what the store records beside them (`batch_news`): the guests' edits and
    deletions, their marketing preferences and the account's events."""

    inbound: list[InboundRecord]
    statuses: list[StatusRecord]
    finished: list[tuple[int, str, str | None]]
    amendments: list[Amendment] = field(default_factory=list)
    preferences: list[MarketingPreference] = field(default_factory=list)
    account_events: list[AccountEvent] = field(default_factory=list)


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
