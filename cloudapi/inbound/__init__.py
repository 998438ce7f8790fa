"""What a WhatsApp Cloud API webhook POST carries, parsed into typed, frozen values.

`messages` holds the values (message contents, guest messages, delivery statuses, errors, template updates,
the `WebhookBatch` of one POST) and `parsing` the tolerant parser `parse_webhook`, which never raises. They are
re-exported here so that importers name the package, not its layout. The package imports nothing of the
project but `cloudapi.errors`: it is pure WhatsApp knowledge, testable on Meta-shaped payloads alone. How the
Rasa channel presents a message to the bot is `connectors.whatsapp.bot_input`.
"""

from cloudapi.inbound.messages import (
    Contact,
    ContactPhone,
    Contacts,
    Content,
    Conversation,
    DeliveryStatus,
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
    StatusUpdate,
    System,
    TemplateButton,
    TemplateStatusUpdate,
    Text,
    Unknown,
    UnknownChange,
    Unsupported,
    WebhookBatch,
    WebhookError,
)
from cloudapi.inbound.parsing import parse_pricing, parse_webhook

__all__ = [
    "Contact",
    "ContactPhone",
    "Contacts",
    "Content",
    "Conversation",
    "DeliveryStatus",
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
    "StatusUpdate",
    "System",
    "TemplateButton",
    "TemplateStatusUpdate",
    "Text",
    "Unknown",
    "UnknownChange",
    "Unsupported",
    "WebhookBatch",
    "WebhookError",
    "parse_pricing",
    "parse_webhook",
]
