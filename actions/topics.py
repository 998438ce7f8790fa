"""The answers to the questions beyond the basics (pets, a late check-out, the pool, an airport transfer...),
and the honest answer to a question the hotel's facts do not cover.

One action answers every topic intent (`ask_<topic>`, one per `hotel.facts.TOPICS` entry) from the hotel's
own sentence: the hotel files hold the facts, so a new topic is a line in each file and examples in the
training data, never a new action. Where a hotel has not written a topic, or the guest asks about something
no topic covers (`ask_other_topic`), the assistant does not guess: it says it will ask reception, and hands
the thread to a person with the reason `unanswered_question`, the guest's question being the thread's last
message.
"""

from __future__ import annotations

from typing import Final

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import GuestAction, Turn, hand_off, utter
from hotel import answers
from hotel.facts import TOPICS

TOPIC_INTENTS: Final = {f"ask_{name}": name for name in TOPICS}


def topic_of(intent: str | None) -> str | None:
    """The topic an intent asks about (`ask_pool` -> `pool`); None for any other intent."""
    return TOPIC_INTENTS.get(intent or "")


class ActionAnswerTopic(GuestAction):
    """The hotel's sentence on the topic the guest asked about; reception is asked when there is none."""

    def name(self) -> str:
        return "action_answer_topic"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        name = topic_of((tracker.latest_message.get("intent") or {}).get("name"))
        found = answers.topic(turn.hotel, name, turn.language) if name else None
        if found is None:
            return hand_off(dispatcher, turn, "unanswered_question")
        utter(dispatcher, found)
        return []


class ActionAskReception(GuestAction):
    """A question about something the hotel's facts do not cover: no guess, reception answers it."""

    def name(self) -> str:
        return "action_ask_reception"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        return hand_off(dispatcher, turn, "unanswered_question")
