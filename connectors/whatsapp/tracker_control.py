"""Pausing and resuming the Rasa tracker of a held conversation, so the bot cannot answer even if a guest
message slips through to it (Rasa predicts nothing for a paused tracker).

The channel's blueprint runs inside Rasa's Sanic app, where Rasa keeps its agent in `app.ctx.agent`; the
events are appended under Rasa's conversation lock, as Rasa itself does. Where no Rasa agent runs (the
gateway on a plain Sanic app in tests, benchmarks), the handoff's `NoTracker` says so explicitly: the handoff
flag in the gateway store still keeps the bot away from held threads. This is Rasa glue: the handoff package
knows only its `TrackerControl` protocol.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed, UserUttered

from connectors.whatsapp.handoff import NoTracker, TrackerControl

log = logging.getLogger(__name__)


class RasaTrackers:
    """The trackers of the Rasa agent serving this app, found at each call (a model reload replaces it)."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def set_paused(self, sender_id: str, paused: bool) -> None:
        agent = getattr(self._app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            log.warning(
                "Rasa has no agent loaded; the tracker of a handed-over thread was not %s",
                "paused" if paused else "resumed",
            )
            return
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
            if tracker.is_paused() == paused:
                return
            tracker.update(ConversationPaused() if paused else ConversationResumed())
            await agent.tracker_store.save(tracker)

    async def turn_responses(self, sender_id: str, message_id: str) -> list[dict[str, Any]] | None:
        """What the bot said in its turn on the guest message `message_id` (Rasa keeps the message id on the
        user event), in order; None when the tracker has no such turn (it never ran, or Rasa stopped before
        saving it: Rasa saves a tracker once, at the end of a turn)."""
        agent = getattr(self._app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return None
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            return None
        responses: list[dict[str, Any]] | None = None
        for event in tracker.events:
            if isinstance(event, UserUttered):
                if responses is not None:
                    break
                if event.message_id == message_id:
                    responses = []
            elif responses is not None and isinstance(event, BotUttered):
                responses.append(event.message())
        return responses


def tracker_control_for(app: Any) -> TrackerControl:
    """Rasa's trackers when the app runs a Rasa agent, otherwise `NoTracker`."""
    return RasaTrackers(app) if hasattr(app.ctx, "agent") else NoTracker()
