"""How the Rasa channel presents a guest's WhatsApp message to the bot: the text Rasa processes and the
metadata it stores with the user message.

This is a choice of this channel, not WhatsApp knowledge, so it lives with the channel rather than in
`cloudapi.inbound`, which only says what Meta sent. It stays pure (no Rasa import), so that what the bot
gets from each Meta-shaped message can be tested without Rasa; the assistant's domain must list the intents
of `INTENT_TRIGGERS`.
"""

from collections.abc import Mapping
from dataclasses import asdict
from types import MappingProxyType
from typing import Any, Final

from cloudapi.inbound import (
    Contacts,
    Content,
    Edit,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    Order,
    Reaction,
    Revoke,
    System,
    TemplateButton,
    Text,
    Unknown,
    Unsupported,
)

INTENT_TRIGGERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "location": "/share_location",
        "media": "/send_media",
        "reaction": "/react",
        "contacts": "/share_contact",
        "order": "/place_order",
        "unsupported": "/unsupported_message",
    }
)
"""The intent Rasa is given for a message that carries no text of its own; the assistant's domain must list
these intents. "unsupported" covers everything the bot cannot act on, a removed reaction included."""


def _guest_text(text: str) -> str:
    """Text the guest typed, unable to act as an intent: Rasa reads a message starting with "/" as
    `/intent{"slot": ...}`, which would let any guest trigger intents and set slots. The leading slashes are
    dropped, so NLU reads the words."""
    return text.lstrip().lstrip("/")


def rasa_text(message: InboundMessage) -> str:
    """The text Rasa processes for `message`.

    Guest-typed text (a text body, a media caption) goes as it is, minus leading slashes; the ids of our own
    buttons and list rows, and template quick-reply payloads, go verbatim so that `/intent{...}` payloads
    round-trip; every other message becomes the intent from `INTENT_TRIGGERS`.
    """
    match message.content:
        case Text(body=body):
            return _guest_text(body)
        case InteractiveReply(kind="button_reply" | "list_reply", id=reply_id):
            return reply_id
        case TemplateButton(payload=payload, text=text):
            return payload or _guest_text(text)
        case Media(caption=caption) if caption and caption.strip():
            return _guest_text(caption)
        case Media():
            return INTENT_TRIGGERS["media"]
        case Location():
            return INTENT_TRIGGERS["location"]
        case Reaction(emoji=emoji) if emoji:
            return INTENT_TRIGGERS["reaction"]
        case Contacts():
            return INTENT_TRIGGERS["contacts"]
        case Order():
            return INTENT_TRIGGERS["order"]
        case _:
            return INTENT_TRIGGERS["unsupported"]


_CONTENT_KEYS: Final = MappingProxyType(
    {
        Text: "text",
        InteractiveReply: "interactive",
        TemplateButton: "button",
        Location: "location",
        Contacts: "contacts",
        Media: "media",
        Reaction: "reaction",
        Order: "order",
        System: "system",
        Edit: "edit",
        Revoke: "revoke",
        Unsupported: "unsupported",
        Unknown: "unknown",
    }
)


def _jsonable(value: Any) -> Any:
    """`asdict` output with tuples as lists and mappings as dicts, so the tracker store can write it."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _content_detail(content: Content) -> dict[str, Any]:
    """The type-specific detail of a message; for Unknown content the raw item is left out of the tracker
    (it stays in the gateway store), only its type is kept."""
    if isinstance(content, Unknown):
        return {"type": content.type}
    detail: dict[str, Any] = _jsonable(asdict(content))
    return detail


def rasa_metadata(message: InboundMessage) -> dict[str, Any]:
    """The metadata Rasa stores with the user message: who wrote to which number, when, in reply to what, and
    the detail of the message's type under its own key (e.g. `location`, `media`, `reaction`)."""
    content = message.content
    media = content if isinstance(content, Media) else None
    return {
        "waba_id": message.waba_id,
        "phone_number_id": message.phone_number_id,
        "display_phone_number": message.display_phone_number,
        "wa_id": message.wa_id,
        "user_id": message.user_id,
        "username": message.username,
        "profile_name": message.profile_name,
        "message_id": message.message_id,
        "timestamp": message.timestamp,
        "type": message.type,
        "reply_to": message.context.message_id if message.context else None,
        "context": _jsonable(asdict(message.context)) if message.context else None,
        "referral": _jsonable(asdict(message.referral)) if message.referral else None,
        "media_id": media.media_id if media else None,
        "media_mime_type": media.mime_type if media else None,
        _CONTENT_KEYS[type(content)]: _content_detail(content),
        "errors": [_jsonable(asdict(error)) for error in message.errors],
    }
