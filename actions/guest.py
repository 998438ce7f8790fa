"""What the WhatsApp channel tells the actions about the guest, read from the user message's metadata.

The channel (`connectors.whatsapp.bot_input.rasa_metadata`) stores who wrote to which hotel number with every user
message; Rasa hands it to the actions as `tracker.latest_message["metadata"]`. Everything here is pure so that
it is tested without a tracker, and tolerant: a message typed in `rasa shell` has no metadata at all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

MAX_NAME_LENGTH: Final = 40
"""A WhatsApp profile name is whatever the guest typed in their settings; a greeting uses at most this much."""


def _text_or_none(value: Any) -> str | None:
    """`value` when it is a non-blank string: metadata comes from JSON, so anything may be missing or odd."""
    return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class Guest:
    """The guest and the hotel number they wrote to, as far as the channel knows them."""

    wa_id: str | None
    phone_number_id: str | None
    profile_name: str | None

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Guest:
        metadata = metadata if isinstance(metadata, Mapping) else {}
        return cls(
            wa_id=_text_or_none(metadata.get("wa_id")),
            phone_number_id=_text_or_none(metadata.get("phone_number_id")),
            profile_name=_text_or_none(metadata.get("profile_name")),
        )

    @classmethod
    def of_conversation(cls, sender_id: str | None, metadata: Mapping[str, Any] | None) -> Guest:
        """The guest of a conversation: the metadata of their message, completed from the Rasa sender id
        `<phone_number_id>:<wa_id>` (what a `trigger_intent` call, which carries no metadata, has alone)."""
        guest = cls.from_metadata(metadata)
        business, separator, wa_id = (sender_id or "").partition(":")
        if not separator or not business.isdigit() or not wa_id.isdigit():
            return guest
        return cls(
            wa_id=guest.wa_id or wa_id,
            phone_number_id=guest.phone_number_id or business,
            profile_name=guest.profile_name,
        )

    @property
    def first_name(self) -> str | None:
        """The first word of the profile name, without control or format characters, for a friendly greeting;
        None when there is nothing printable to greet."""
        if not self.profile_name:
            return None
        printable = "".join(c for c in self.profile_name if unicodedata.category(c)[0] != "C")
        words = printable.split()
        return words[0][:MAX_NAME_LENGTH] if words else None


def last_message_timestamp(events: Sequence[Mapping[str, Any]]) -> int | None:
    """WhatsApp's timestamp (Unix seconds) of the guest's latest message, from the metadata the channel stores
    with each user message: the customer service window runs 24 hours from it. An intent triggered through
    Rasa's API has no such metadata and is skipped; None when the guest never wrote through the channel."""
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        metadata = event.get("metadata")
        value = metadata.get("timestamp") if isinstance(metadata, Mapping) else None
        if isinstance(value, int | str) and str(value).isdigit():
            return int(value)
    return None


EXTERNAL_PREFIX: Final = "EXTERNAL: "
"""How Rasa writes the text of an intent triggered through its API (`trigger_intent`): never the guest's words."""


def typed_text(text: str | None) -> str:
    """The words the guest typed in a user message's text, or "" for an intent the channel or an automation
    triggered.

    The channel sends non-text messages (a location, a photo, a reaction) and our own buttons as `/intent`
    texts, and strips the leading "/" from what guests type, so a text starting with "/" carries no language;
    nor does "EXTERNAL: EXTERNAL_payment_request", Rasa's text for a `trigger_intent` call.
    """
    return "" if not text or text.startswith(("/", EXTERNAL_PREFIX)) else text
