"""The custom actions of the assistant: language detection, greetings, the answers to hotel questions, the
booking code look-up, the hand-off to a person, and the messages automations trigger.

Each action reads the tracker and the channel's metadata, delegates every decision to a pure function
(`hotel.language`, `actions.guest`, `hotel.answers`, `hotel.template_choice`) and answers with
responses from `domain.yml`, never with literal text: the domain holds both languages of every answer, and
Rasa picks the variation matching the `language` slot. No action lets an error end the conversation: a
reservation source that is down or slow gets a polite answer and an error in the log.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import CatalogUnavailableError, GraphTemplateCatalog
from actions.guest import Guest, last_message_timestamp, typed_text
from actions.settings import ActionSettings
from cloudapi.graph import GraphClient
from cloudapi.window import window_state
from hotel import answers
from hotel.answers import Answer
from hotel.facts import Hotel, load_hotels
from hotel.language import detect_language, language_of_number
from hotel.reservations import (
    Reservation,
    ReservationRepository,
    ReservationsUnavailableError,
    current_or_next,
    find_booking_code,
    repository_from_settings,
)
from hotel.template_choice import ChoiceError, FreeText, choose_message

log = logging.getLogger(__name__)

LANGUAGE_SLOT = "language"
BOOKING_CODE_SLOT = "booking_code"
PENDING_QUESTION_SLOT = "pending_question"


@dataclass(frozen=True)
class Services:
    """What the actions share for the life of the action server, built once from the environment."""

    hotels: dict[str, Hotel]
    reservations: ReservationRepository
    catalog: GraphTemplateCatalog


_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        settings = ActionSettings.from_env()
        _services = Services(
            hotels=load_hotels(settings.hotel.facts_dir),
            reservations=repository_from_settings(settings.hotel),
            catalog=GraphTemplateCatalog(GraphClient(settings.graph) if settings.graph else None),
        )
    return _services


def reset_services() -> None:
    """Forget the services so the next action builds them from the environment again (tests change it)."""
    global _services
    _services = None


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Turn:
    """Who the action speaks to and for which hotel, in which language, and when."""

    guest: Guest
    hotel: Hotel
    language: str
    now: datetime
    last_message_at: int | None
    """WhatsApp's timestamp of the guest's latest message; None when they never wrote through WhatsApp."""
    queued: bool = False
    """The thread waits in the agents' queue (the gateway's metadata says so): reception already has it."""

    @property
    def window_open(self) -> bool:
        return window_state(self.last_message_at, self.now.timestamp()).open

    @classmethod
    def of(cls, tracker: Tracker) -> Turn:
        guest = Guest.of_conversation(tracker.sender_id, tracker.latest_message.get("metadata"))
        hotels = services().hotels
        # A conversation outside WhatsApp (`rasa shell`, the REST channel) names no hotel: the first one answers.
        hotel = hotels.get(guest.phone_number_id or "") or hotels[min(hotels)]
        language = tracker.get_slot(LANGUAGE_SLOT) or language_of_number(guest.wa_id)
        queued = (tracker.latest_message.get("metadata") or {}).get("handoff") == "queue"
        return cls(guest, hotel, language, utcnow(), last_message_timestamp(tracker.events), queued)


async def find_reservation(tracker: Tracker, turn: Turn) -> Reservation | None:
    """The stay the guest asks about: the booking code they gave in this conversation, else the current or
    next stay under their WhatsApp number at the hotel they wrote to."""
    repository = services().reservations
    code = tracker.get_slot(BOOKING_CODE_SLOT)
    if code:
        return await repository.by_code(turn.hotel.phone_number_id, code)
    if not turn.guest.wa_id:
        return None
    stays = await repository.for_guest(turn.hotel.phone_number_id, turn.guest.wa_id)
    return current_or_next(stays, turn.hotel.local_now(turn.now).date())


def utter(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    dispatcher.utter_message(response=answer.response, **answer.values)


def hand_off(dispatcher: CollectingDispatcher, turn: Turn, reason: str) -> list[EventType]:
    """The hand-off contract with the gateway: tell the guest, instruct the gateway. The bot is not paused:
    while the thread waits in the queue it still answers what it knows; the gateway pauses the conversation
    when an agent takes it over."""
    utter(dispatcher, answers.handoff(turn.hotel, turn.now, turn.language, reason))
    dispatcher.utter_message(json_message={"gateway": {"handoff": {"reason": reason}}})
    log.info("conversation handed to a person (%s) at %s", reason, turn.hotel.phone_number_id)
    return []


class ActionDetectLanguage(Action):
    """Fills the `language` slot through its custom slot mapping: Rasa's `action_extract_slots` runs this after
    every user message, before the next action is predicted, so each answer is in the language just written."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        previous = tracker.get_slot(LANGUAGE_SLOT)
        guest = Guest.of_conversation(tracker.sender_id, tracker.latest_message.get("metadata"))
        language = detect_language(typed_text(tracker.latest_message.get("text")), previous, guest.wa_id)
        # An unchanged language adds no event, so the tracker records only real switches.
        return [] if language == previous else [SlotSet(LANGUAGE_SLOT, language)]


class GuestAction(Action, ABC):
    """An action that answers the guest: the window is checked first, and failures become polite answers.

    When the guest's last message is over 24 hours old (a reply processed late), a free-form answer would be
    refused by WhatsApp, so the approved `reopen_conversation` template is sent in its place: the guest taps
    or writes, the window opens, and the question can be answered."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        turn = Turn.of(tracker)
        if turn.last_message_at is not None and not turn.window_open:
            reservation = await self._reservation_or_none(tracker, turn)
            name = reservation.first_name if reservation else (turn.guest.first_name or "")
            await send_for_purpose(
                dispatcher, turn, "reopen_conversation", {"guest_name": name, "hotel_name": turn.hotel.name}
            )
            return []
        try:
            return await self.answer(dispatcher, tracker, turn)
        except ReservationsUnavailableError as error:
            log.error("%s: the reservations cannot be read: %s", self.name(), error)
            dispatcher.utter_message(response="utter_reservations_unavailable")
            return []

    @abstractmethod
    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]: ...

    @staticmethod
    async def _reservation_or_none(tracker: Tracker, turn: Turn) -> Reservation | None:
        try:
            return await find_reservation(tracker, turn)
        except ReservationsUnavailableError as error:
            log.error("the reservations cannot be read: %s", error)
            return None


class ActionGreet(GuestAction):
    """Greets the guest by name: the reservation's when the number has one here, else the WhatsApp profile's."""

    def name(self) -> str:
        return "action_greet"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        reservation = await self._reservation_or_none(tracker, turn)
        name = reservation.first_name if reservation else turn.guest.first_name
        if name:
            dispatcher.utter_message(response="utter_greet_by_name", name=name, hotel=turn.hotel.name)
        else:
            dispatcher.utter_message(response="utter_greet", hotel=turn.hotel.name)
        return []


class HotelFactAction(GuestAction):
    """A question the hotel's facts answer, with the guest's dates when their stay is known."""

    uses_reservation = False

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        reservation = await find_reservation(tracker, turn) if self.uses_reservation else None
        utter(dispatcher, self.fact(turn, reservation))
        return []

    @abstractmethod
    def fact(self, turn: Turn, reservation: Reservation | None) -> Answer: ...


class ActionAnswerCheckinTime(HotelFactAction):
    uses_reservation = True

    def name(self) -> str:
        return "action_answer_checkin_time"

    def fact(self, turn: Turn, reservation: Reservation | None) -> Answer:
        return answers.checkin_time(turn.hotel, reservation, turn.language)


class ActionAnswerCheckoutTime(HotelFactAction):
    uses_reservation = True

    def name(self) -> str:
        return "action_answer_checkout_time"

    def fact(self, turn: Turn, reservation: Reservation | None) -> Answer:
        return answers.checkout_time(turn.hotel, reservation, turn.language)


class ActionAnswerAddress(HotelFactAction):
    def name(self) -> str:
        return "action_answer_address"

    def fact(self, turn: Turn, reservation: Reservation | None) -> Answer:
        return answers.address(turn.hotel)


class ActionAnswerWifi(HotelFactAction):
    def name(self) -> str:
        return "action_answer_wifi"

    def fact(self, turn: Turn, reservation: Reservation | None) -> Answer:
        return answers.wifi(turn.hotel)


class ActionAnswerParking(HotelFactAction):
    def name(self) -> str:
        return "action_answer_parking"

    def fact(self, turn: Turn, reservation: Reservation | None) -> Answer:
        return answers.parking(turn.hotel, turn.language)


class ActionAnswerBreakfast(HotelFactAction):
    def name(self) -> str:
        return "action_answer_breakfast"

    def fact(self, turn: Turn, reservation: Reservation | None) -> Answer:
        return answers.breakfast(turn.hotel, turn.language)


def reservation_answer(question: str, turn: Turn, reservation: Reservation) -> Answer:
    """The answer to a question about the guest's own stay (`question` is the intent that asked it)."""
    if question == "ask_payment_status":
        return answers.payment_status(reservation)
    if question == "ask_payment_link":
        return answers.payment_link(reservation)
    if question == "ask_cancellation_policy":
        return answers.cancellation_policy(turn.hotel, reservation, turn.now, turn.language)
    return answers.reservation_details(turn.hotel, reservation, turn.language)


class ReservationAction(GuestAction):
    """A question only the guest's reservation answers: without one under their number, the assistant asks
    for the booking code and remembers the question, answered once the code is found."""

    question = "ask_reservation"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        reservation = await find_reservation(tracker, turn)
        if reservation is None:
            if self.question == "ask_cancellation_policy":
                utter(dispatcher, answers.cancellation_policy(turn.hotel, None, turn.now, turn.language))
            dispatcher.utter_message(response="utter_ask_booking_code", hotel=turn.hotel.name)
            return [SlotSet(PENDING_QUESTION_SLOT, self.question)]
        utter(dispatcher, reservation_answer(self.question, turn, reservation))
        return []


class ActionAnswerReservation(ReservationAction):
    question = "ask_reservation"

    def name(self) -> str:
        return "action_answer_reservation"


class ActionAnswerPaymentStatus(ReservationAction):
    question = "ask_payment_status"

    def name(self) -> str:
        return "action_answer_payment_status"


class ActionAnswerPaymentLink(ReservationAction):
    question = "ask_payment_link"

    def name(self) -> str:
        return "action_answer_payment_link"


class ActionAnswerCancellationPolicy(ReservationAction):
    question = "ask_cancellation_policy"

    def name(self) -> str:
        return "action_answer_cancellation_policy"


class ActionLookupBookingCode(GuestAction):
    """Finds the reservation by the code the guest wrote, at the hotel they wrote to only, and answers the
    question that made the assistant ask for it (or shows the stay)."""

    def name(self) -> str:
        return "action_lookup_booking_code"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        code = self._code(tracker)
        if code is None:
            dispatcher.utter_message(response="utter_ask_booking_code", hotel=turn.hotel.name)
            return []
        reservation = await services().reservations.by_code(turn.hotel.phone_number_id, code)
        if reservation is None:
            dispatcher.utter_message(response="utter_booking_code_not_found", code=code, hotel=turn.hotel.name)
            return []
        question = tracker.get_slot(PENDING_QUESTION_SLOT) or "ask_reservation"
        dispatcher.utter_message(response="utter_booking_found", name=reservation.first_name, code=code)
        utter(dispatcher, reservation_answer(question, turn, reservation))
        return [SlotSet(BOOKING_CODE_SLOT, reservation.booking_code), SlotSet(PENDING_QUESTION_SLOT, None)]

    @staticmethod
    def _code(tracker: Tracker) -> str | None:
        """The code NLU extracted, else one in the text (NLU may have heard the intent but missed the entity)."""
        extracted = next(tracker.get_latest_entity_values("booking_code"), None)
        return find_booking_code(str(extracted)) if extracted else find_booking_code(tracker.latest_message.get("text"))


class ActionRequestHuman(GuestAction):
    """The guest asked for a person: the answer says when one will write, then the gateway takes over."""

    def name(self) -> str:
        return "action_request_human"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        return hand_off(dispatcher, turn, "guest_asked")


def consecutive_fallbacks(events: list[dict[str, Any]]) -> int:
    """How many of the guest's latest messages in a row the assistant did not understand."""
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionFallback(GuestAction):
    """Asks the guest to rephrase; when the assistant has not understood twice in a row, a person takes over.
    While the thread already waits for a person, the guest is told reception has it and will answer."""

    def name(self) -> str:
        return "action_fallback"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn) -> list[EventType]:
        if turn.queued:
            utter(dispatcher, answers.waiting_for_reception(turn.hotel, turn.now, turn.language))
            return []
        if consecutive_fallbacks(tracker.events) < 2:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(response="utter_fallback_handoff")
        return hand_off(dispatcher, turn, "bot_fallback")


async def send_for_purpose(dispatcher: CollectingDispatcher, turn: Turn, purpose: str, values: dict[str, str]) -> bool:
    """Sends `purpose`'s message: free text while the guest's window is open, the approved template (as a
    `custom` WhatsApp message object) once it has lapsed. Returns whether something was sent; what stops it
    (no approved template, the template list unreadable) is logged as an error."""
    try:
        catalog = () if turn.window_open else await services().catalog.templates(turn.hotel.business_account_id)
        choice = choose_message(purpose, turn.language, turn.window_open, catalog, values)
    except (CatalogUnavailableError, ChoiceError) as error:
        log.error("%s for %s cannot be sent: %s", purpose, turn.hotel.phone_number_id, error)
        return False
    if isinstance(choice, FreeText):
        dispatcher.utter_message(text=choice.text)
    else:
        dispatcher.utter_message(json_message=choice.message())
    return True


class ExternalMessageAction(Action, ABC):
    """A message an automation asks for through Rasa's `trigger_intent` (a reminder, a payment request): the
    guest may not have written for days, so the window decides between free text and a template."""

    purpose = "reservation_reminder"

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        turn = Turn.of(tracker)
        try:
            reservation = await find_reservation(tracker, turn)
        except ReservationsUnavailableError as error:
            log.error("%s: the reservations cannot be read, nothing sent: %s", self.name(), error)
            return []
        if reservation is None:
            log.warning(
                "%s: no reservation for this guest at %s, nothing sent", self.name(), turn.hotel.phone_number_id
            )
            return []
        values = self.values(turn, reservation)
        if values is not None:
            await send_for_purpose(dispatcher, turn, self.purpose, values)
        return []

    @abstractmethod
    def values(self, turn: Turn, reservation: Reservation) -> dict[str, str] | None:
        """The purpose's values for this stay; None when there is nothing to send (it is logged why)."""


class ActionSendReservationReminder(ExternalMessageAction):
    purpose = "reservation_reminder"

    def name(self) -> str:
        return "action_send_reservation_reminder"

    def values(self, turn: Turn, reservation: Reservation) -> dict[str, str] | None:
        return {
            "guest_name": reservation.first_name,
            "arrival_date": answers.format_date(reservation.arrival, turn.language),
            "hotel_name": turn.hotel.name,
        }


class ActionSendPaymentRequest(ExternalMessageAction):
    purpose = "payment_request"

    def name(self) -> str:
        return "action_send_payment_request"

    def values(self, turn: Turn, reservation: Reservation) -> dict[str, str] | None:
        if reservation.pending <= 0 or not reservation.payment_link:
            log.info("%s: %s has nothing pending, nothing sent", self.name(), reservation.booking_code)
            return None
        return {
            "guest_name": reservation.first_name,
            "amount_pending": answers.format_money(reservation.pending, reservation.currency),
            "payment_link": reservation.payment_link,
        }
