"""A bot turn that kept failing is not silence: the guest is told, in their language, that reception will
answer, and the thread waits in the agents' queue with reason `bot_error`."""

from __future__ import annotations

import logging
from typing import Final

from connectors.whatsapp.handoff.handoffs import Handoffs
from connectors.whatsapp.handoff.rules import HandoffRequest
from connectors.whatsapp.sending import Recipient, Sender
from connectors.whatsapp.store import PendingDispatch
from hotel.language import Language, detect_language

__all__ = ["BOT_ERROR", "FailedTurns", "apology"]

log = logging.getLogger(__name__)
BOT_ERROR: Final = "bot_error"

_APOLOGIES: Final[dict[Language, str]] = {
    "es": "Perdona, ahora mismo no puedo responderte. Ya he avisado a recepción: te contestarán por aquí en breve.",
    "en": "Sorry, I can't answer that right now. I've let reception know, and they'll reply here shortly.",
}


def apology(language: Language) -> str:
    return _APOLOGIES[language]


class FailedTurns:
    """What the gateway does with a guest message the bot failed on every time."""

    def __init__(self, handoffs: Handoffs, sender: Sender) -> None:
        self._handoffs = handoffs
        self._sender = sender

    async def __call__(self, item: PendingDispatch) -> None:
        """Queue the thread first (an agent sees it even if the apology cannot go out), then apologise, under
        a key of its own so a crash and a retry never send it twice."""
        recipient = Recipient(item.business_id, item.wa_id)
        await self._handoffs.bot_hands_over(recipient, HandoffRequest(BOT_ERROR))
        language = detect_language(item.text, None, item.wa_id)
        body = {"type": "text", "text": {"body": apology(language)}}
        outcome = await self._sender.send(recipient, body, origin="gateway", key=f"reply:{item.wamid}#{BOT_ERROR}")
        log.info("message %s handed to reception after the bot failed on it (apology %s)", item.wamid, outcome.state)
