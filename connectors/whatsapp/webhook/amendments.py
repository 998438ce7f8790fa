"""A guest's edit or deletion of their message (`edit`, `revoke`), taken out of a batch before its guest
messages become turns: neither is a message to answer (the bot answered the original already, and a deleted
message must not be acted on), so each becomes an `Amendment` the store keeps beside the message it names.
Pure.
"""

from __future__ import annotations

from dataclasses import replace

from cloudapi.inbound import Content, Edit, InboundMessage, Media, Revoke, Text, WebhookBatch
from cloudapi.user_ids import conversation_key
from connectors.whatsapp.store import Amendment


def edited_text(content: Content) -> str | None:
    """What the guest now says in an edited message, as they typed it: a text's body or a media's caption;
    None for content with no text (Meta's edits carry one of those two)."""
    if isinstance(content, Text):
        return content.body
    if isinstance(content, Media):
        return content.caption
    return None


def amendment_of(message: InboundMessage) -> Amendment | None:
    """The amendment an `edit` or `revoke` message makes; None for any other message."""
    content = message.content
    if isinstance(content, Edit):
        kind, original, text = "edit", content.original_message_id, edited_text(content.content)
    elif isinstance(content, Revoke):
        kind, original, text = "revoke", content.original_message_id, None
    else:
        return None
    return Amendment(
        business_id=message.phone_number_id,
        wa_id=conversation_key(message.wa_id, message.user_id) or "",
        wamid=message.message_id,
        original_wamid=original,
        kind=kind,
        text=text,
        wa_timestamp=message.timestamp,
    )


def without_amendments(batch: WebhookBatch) -> tuple[WebhookBatch, list[Amendment]]:
    """The batch without its edits and revokes, and their amendments; a batch with none (nearly all) is
    returned as it is."""
    if not any(isinstance(message.content, Edit | Revoke) for message in batch.messages):
        return batch, []
    kept: list[InboundMessage] = []
    amendments: list[Amendment] = []
    for message in batch.messages:
        amendment = amendment_of(message)
        if amendment is None:
            kept.append(message)
        else:
            amendments.append(amendment)
    return replace(batch, messages=tuple(kept)), amendments
