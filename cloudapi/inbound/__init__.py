"""What a WhatsApp Cloud API webhook POST carries, parsed into typed, frozen values.

`messages` holds the values of conversations (message contents, guest messages, delivery statuses, errors, the
`WebhookBatch` of one POST) and `account_updates` those of the account (template reviews, quality scores and
categories, account events, guests' marketing preferences). `parsing` holds the tolerant parser
`parse_webhook`, which never raises, helped by `readers` (JSON values), `content_parsing` (a message's content)
and `account_parsing` (the template and account fields). The public names are re-exported here so that
importers name the package, not its layout. The package imports nothing of the project but `cloudapi.errors`:
it is pure WhatsApp knowledge, testable on Meta-shaped payloads alone. How the Rasa channel presents a message
to the bot is `connectors.whatsapp.bot_input`.
"""

from cloudapi.inbound.account_updates import (
    AccountRestriction,
    AccountUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
    UserPreference,
    VolumeTier,
)
from cloudapi.inbound.messages import (
    Contact,
    ContactPhone,
    Contacts,
    Content,
    Conversation,
    DeliveryStatus,
    Edit,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    MessageContext,
    Order,
    OrderItem,
    Pricing,
    Reaction,
    Referral,
    ReferredProduct,
    Revoke,
    StatusUpdate,
    System,
    TemplateButton,
    Text,
    Unknown,
    UnknownChange,
    Unsupported,
    WebhookBatch,
    WebhookError,
)
from cloudapi.inbound.parsing import parse_pricing, parse_webhook

__all__ = [
    "AccountRestriction",
    "AccountUpdate",
    "Contact",
    "ContactPhone",
    "Contacts",
    "Content",
    "Conversation",
    "DeliveryStatus",
    "Edit",
    "InboundMessage",
    "InteractiveReply",
    "Location",
    "Media",
    "MessageContext",
    "Order",
    "OrderItem",
    "Pricing",
    "Reaction",
    "Referral",
    "ReferredProduct",
    "Revoke",
    "StatusUpdate",
    "System",
    "TemplateButton",
    "TemplateCategoryUpdate",
    "TemplateQualityUpdate",
    "TemplateStatusUpdate",
    "Text",
    "Unknown",
    "UnknownChange",
    "Unsupported",
    "UserPreference",
    "VolumeTier",
    "WebhookBatch",
    "WebhookError",
    "parse_pricing",
    "parse_webhook",
]
