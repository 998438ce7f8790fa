"""What a WhatsApp Cloud API webhook carries, as frozen values: message contents, guest messages, delivery
statuses, errors, and the `WebhookBatch` of one POST (the template, account and preference news it may also
carry are `cloudapi.inbound.account_updates`).

The values are plain data without behaviour, apart from what follows from their fields (`Reaction.removed`),
so that the gateway, the automations and the tests can build and compare them freely; how they are read from
Meta's JSON is `cloudapi.inbound.parsing`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from cloudapi.errors import ErrorInfo
from cloudapi.inbound.account_updates import (
    AccountUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
    UserPreference,
)

# --- message content -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A plain text message."""

    body: str


@dataclass(frozen=True)
class InteractiveReply:
    """The guest's answer to an interactive message.

    For `button_reply` and `list_reply`, `id` is the payload of the chosen button or row as the bot sent it.
    A WhatsApp Flow answer (`nfm_reply`) has no id: `id` holds the flow's `name`, `title` its `body` and
    `response_json` the submitted form, still as the JSON string Meta sends.
    """

    kind: Literal["button_reply", "list_reply", "nfm_reply"]
    id: str
    title: str
    description: str | None = None
    response_json: str | None = None


@dataclass(frozen=True)
class TemplateButton:
    """A press on a template's quick-reply button: `payload` is the one set when the template was sent."""

    payload: str
    text: str


@dataclass(frozen=True)
class Location:
    """A shared location; name, address and url are set for a place, not for a bare pin."""

    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ContactPhone:
    """One phone number of a shared contact card; `wa_id` is set when the number is on WhatsApp."""

    phone: str
    wa_id: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class Contact:
    """One shared contact card, reduced to what a hotel can use: the name and the phone numbers."""

    formatted_name: str
    phones: tuple[ContactPhone, ...] = ()


@dataclass(frozen=True)
class Contacts:
    """One or more shared contact cards."""

    cards: tuple[Contact, ...]


@dataclass(frozen=True)
class Media:
    """An image, audio, video, document or sticker. `media_id` can be downloaded for 7 days; `url`, when Meta
    sends it, for 5 minutes with the access token."""

    kind: Literal["image", "audio", "video", "document", "sticker"]
    media_id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    animated: bool = False
    url: str | None = None


@dataclass(frozen=True)
class Reaction:
    """An emoji reaction to `message_id`; an empty `emoji` means the guest removed their reaction."""

    message_id: str
    emoji: str

    @property
    def removed(self) -> bool:
        return not self.emoji


@dataclass(frozen=True)
class OrderItem:
    """One line of a catalog order."""

    product_retailer_id: str
    quantity: int
    item_price: float | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Order:
    """A cart sent from the business's catalog."""

    catalog_id: str
    items: tuple[OrderItem, ...]
    text: str | None = None


@dataclass(frozen=True)
class System:
    """A notice from WhatsApp about the guest's identity, by `kind`:

    - `user_changed_number`: `new_wa_id` is the guest's new number; a new number also means a new
      business-scoped user id, `new_user_id` (and `new_parent_user_id` where parent ids are enabled).
    - `user_changed_user_id`: the guest's business-scoped user id changed to `new_user_id`, with no phone
      number; `previous_user_id` is the old one where Meta names it (else it is the message's `user_id`).
    - `customer_identity_changed`: the guest's identity key changed (a new phone or reinstall).
    """

    body: str | None
    kind: str | None
    new_wa_id: str | None = None
    new_user_id: str | None = None
    new_parent_user_id: str | None = None
    previous_user_id: str | None = None


@dataclass(frozen=True)
class Unsupported:
    """A message WhatsApp itself could not pass on (a poll, a view-once photo...); `kind` is what Meta calls
    it, and the reason is in the message's errors (e.g. 131051)."""

    kind: str | None
    error_codes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Unknown:
    """A message of a type this parser does not know yet, or whose content is malformed; `raw` is the whole
    message item as Meta sent it."""

    type: str
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Edit:
    """The guest edited their message `original_message_id` (within 15 minutes; Meta sends this to
    Coexistence numbers, those also used in the WhatsApp Business app). `content` is the new content, read
    like any message's: Text for a text, Media for a new caption; Unknown when it is not readable."""

    original_message_id: str
    content: "Content"


@dataclass(frozen=True)
class Revoke:
    """The guest deleted their message `original_message_id` for everyone (within two days; Coexistence
    numbers only): what it said should no longer be shown or acted on."""

    original_message_id: str


Content = (
    Text
    | InteractiveReply
    | TemplateButton
    | Location
    | Contacts
    | Media
    | Reaction
    | Order
    | System
    | Unsupported
    | Edit
    | Revoke
    | Unknown
)


# --- messages, statuses and the rest of a delivery ---------------------------------------------------------


@dataclass(frozen=True)
class ReferredProduct:
    """The catalog product the guest asked about via a product's "Message business" button."""

    catalog_id: str | None
    product_retailer_id: str | None


@dataclass(frozen=True)
class MessageContext:
    """What the message refers to: `message_id` (sent by `sender`) for a quoted reply, a forward, or a product."""

    message_id: str | None = None
    sender: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: ReferredProduct | None = None


@dataclass(frozen=True)
class Referral:
    """The Click-to-WhatsApp ad or post the guest came from (on their first message); it opens a free entry
    point, so it matters for costs."""

    source_url: str | None = None
    source_type: str | None = None
    source_id: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    ctwa_clid: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """One message from a guest to a business number.

    `wa_id` is the guest's phone number id; from 2026 a guest with a username may arrive with only a
    business-scoped `user_id` (BSUID), so either may be None but never both; `parent_user_id` is the id shared
    by linked business portfolios, where Meta enabled them, and `username` the guest's WhatsApp username, if
    they adopted one (`cloudapi.user_ids.conversation_key` says which id keys the conversation). `timestamp`
    is WhatsApp's, in Unix seconds: the customer service window is measured from it.
    """

    waba_id: str | None
    phone_number_id: str
    display_phone_number: str | None
    wa_id: str | None
    user_id: str | None
    profile_name: str | None
    message_id: str
    timestamp: int
    type: str
    content: Content
    context: MessageContext | None = None
    referral: Referral | None = None
    errors: tuple[ErrorInfo, ...] = ()
    username: str | None = None
    parent_user_id: str | None = None


class DeliveryStatus(str, Enum):
    """The status of a message the business sent; a value Meta adds later is kept as UNKNOWN, its text in
    `StatusUpdate.raw_status`."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Conversation:
    """The billing conversation a status belongs to (omitted by Meta from v24.0 outside free entry points)."""

    id: str | None
    expiration_timestamp: int | None
    origin_type: str | None

    def as_json(self) -> dict[str, Any]:
        """As the gateway stores it beside the status."""
        return {"id": self.id, "expiration_timestamp": self.expiration_timestamp, "origin": self.origin_type}


@dataclass(frozen=True)
class Pricing:
    """How Meta prices the message; `billable` is being deprecated in favour of `type` plus `category`."""

    billable: bool | None
    pricing_model: str | None
    type: str | None
    category: str | None

    @property
    def charged(self) -> bool | None:
        """Whether Meta charges the message: `billable` where Meta still sends it, else whether `type` is
        `regular` (the other types are free); None when the object says neither."""
        if self.billable is not None:
            return self.billable
        return None if self.type is None else self.type == "regular"

    def as_json(self) -> dict[str, Any]:
        """Meta's pricing object, as the gateway stores it and its API shows it; `parse_pricing` reads it back."""
        return {
            "billable": self.billable,
            "pricing_model": self.pricing_model,
            "type": self.type,
            "category": self.category,
        }


@dataclass(frozen=True)
class StatusUpdate:
    """A status of a message the business sent; pricing may ride on any of its statuses, or on none.

    `recipient_id` is the guest's phone number when the message was sent to it (or the group id), and may be
    absent for a message sent to a business-scoped user id; `recipient_user_id` is the guest's BSUID (Meta's
    page promises it for sends to a BSUID, partners report it on other statuses too), `recipient_parent_user_id`
    the parent id where enabled. A `failed` status may name neither.
    """

    waba_id: str | None
    phone_number_id: str | None
    message_id: str
    status: DeliveryStatus
    raw_status: str
    timestamp: int
    recipient_id: str | None
    biz_opaque_callback_data: str | None = None
    conversation: Conversation | None = None
    pricing: Pricing | None = None
    errors: tuple[ErrorInfo, ...] = ()
    recipient_user_id: str | None = None
    recipient_parent_user_id: str | None = None


@dataclass(frozen=True)
class WebhookError:
    """An error Meta reported for a business number outside any message or status (`value.errors`)."""

    waba_id: str | None
    phone_number_id: str | None
    error: ErrorInfo


@dataclass(frozen=True)
class UnknownChange:
    """Part of a delivery the parser could not use: a change with a field it does not handle, or a malformed
    body, entry, change or item. `path` locates it (e.g. `entry[0].changes[1].value.messages[2]`), `reason` says
    what was wrong, and `raw` is the JSON as Meta sent it, to be stored and logged."""

    field: str | None
    path: str
    reason: str
    raw: Any


@dataclass(frozen=True)
class WebhookBatch:
    """Everything one webhook POST carried, in delivery order within each kind: guest messages, statuses and
    errors (field `messages`), template reviews (`template_updates`), quality scores and categories, account
    events, the guests' own marketing preferences (`preferences`), and what could not be read (`unknown`)."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    errors: tuple[WebhookError, ...] = ()
    template_updates: tuple[TemplateStatusUpdate, ...] = ()
    unknown: tuple[UnknownChange, ...] = ()
    preferences: tuple[UserPreference, ...] = ()
    template_quality_updates: tuple[TemplateQualityUpdate, ...] = ()
    template_category_updates: tuple[TemplateCategoryUpdate, ...] = ()
    account_updates: tuple[AccountUpdate, ...] = ()
