"""A guest who wants their stay changed or cancelled: the assistant changes nothing itself, a person does.

Changing dates, adding a bed or a guest, a special request, a cancellation: each needs the hotel's system and
someone's judgement, so the guest is told who handles it and when (from reception's hours), and the thread goes
to the agents' queue with the reason `change_request`, the guest's request being its last message. A
cancellation first gets the policy for the guest's stay (free until when, or that the free period has passed),
so the guest knows what it costs before a person writes.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import GuestAction, Turn, hand_off, utter
from hotel import answers


class ActionRequestChange(GuestAction):
    """New dates, another room, one more guest, an extra bed, a special request: over to reception."""

    def name(self) -> str:
        return "action_request_change"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        return hand_off(dispatcher, turn, "change_request")


class ActionRequestCancellation(GuestAction):
    """The cancellation policy for the guest's stay (or the hotel's, when no stay is known), then reception."""

    def name(self) -> str:
        return "action_request_cancellation"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        reservation = await self._reservation_or_none(tracker, turn)
        utter(dispatcher, answers.cancellation_policy(turn.hotel, reservation, turn.now, turn.language))
        return hand_off(dispatcher, turn, "change_request")
