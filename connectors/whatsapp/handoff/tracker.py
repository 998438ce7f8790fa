"""What the handoff needs of the bot's conversation store: a way to pause and resume a conversation.

A protocol, so the handoff imports nothing of Rasa; the channel plugs in Rasa's trackers
(`connectors.whatsapp.tracker_control`), and a gateway with no Rasa agent (tests, benchmarks) has `NoTracker`.
"""

from __future__ import annotations

import logging
from typing import Protocol

__all__ = ["NoTracker", "TrackerControl"]

log = logging.getLogger(__name__)


class TrackerControl(Protocol):
    async def set_paused(self, sender_id: str, paused: bool) -> None:
        """Append `ConversationPaused` or `ConversationResumed` unless the tracker is already so."""


class NoTracker:
    """No Rasa agent in this process: there is no tracker to pause."""

    async def set_paused(self, sender_id: str, paused: bool) -> None:
        log.debug("no Rasa agent in this process; tracker of %s left as it is", sender_id)
