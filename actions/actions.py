"""The custom actions of the assistant: language detection, the greeting by name, and the request for a person.

Each action reads the tracker and the channel's metadata, delegates every decision to a pure function
(`actions.language`, `actions.guest`) and answers with responses from `domain.yml`, never with literal text:
the domain holds both languages of every answer, and Rasa picks the variation matching the `language` slot.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.guest import Guest, typed_text
from actions.language import detect_language

LANGUAGE_SLOT = "language"


def _guest(tracker: Tracker) -> Guest:
    return Guest.from_metadata(tracker.latest_message.get("metadata"))


class ActionDetectLanguage(Action):
    """Fills the `language` slot through its custom slot mapping: Rasa's `action_extract_slots` runs this after
    every user message, before the next action is predicted, so each answer is in the language just written."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        previous = tracker.get_slot(LANGUAGE_SLOT)
        language = detect_language(typed_text(tracker.latest_message.get("text")), previous, _guest(tracker).wa_id)
        # An unchanged language adds no event, so the tracker records only real switches.
        return [] if language == previous else [SlotSet(LANGUAGE_SLOT, language)]


class ActionGreet(Action):
    """Greets the guest by the first word of their WhatsApp profile name when the channel sent one."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        name = _guest(tracker).first_name
        if name:
            dispatcher.utter_message(response="utter_greet_by_name", name=name)
        else:
            dispatcher.utter_message(response="utter_greet")
        return []


class ActionRequestHuman(Action):
    """Tells the guest that a person will answer. An action rather than a rule's response because the hand-off
    to the front desk (pausing the bot, flagging the thread for the agents) belongs here."""

    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_human_handoff")
        return []
