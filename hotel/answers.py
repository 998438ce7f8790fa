"""What the assistant answers to each hotel question, as pure functions of the hotel's facts, the guest's
reservation (when known), the guest's language and the current time.

Each function returns an `Answer`: the name of a response in `domain.yml` and the values it is filled with.
The domain holds the sentences in both languages (Rasa picks the variation by the `language` slot); this
module decides which sentence applies and formats dates, times and amounts the way a reader of that
language expects them. No rasa-sdk import, so every answer is tested without a tracker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date as Date  # noqa: N812 - `date` is a good local variable name
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Final

from hotel.facts import Hotel
from hotel.reservations import Reservation

MONTHS_ES: Final = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()  # noqa: SIM905
)
MONTHS_EN: Final = (
    "January February March April May June July August September October November December".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Answer:
    """A response of the domain and the values of its `{placeholders}`."""

    response: str
    values: Mapping[str, str] = field(default_factory=dict)


def format_date(day: Date, language: str) -> str:
    """18 de diciembre de 2026 / 18 December 2026: unambiguous in both languages (never 12/18 vs 18/12)."""
    if language == "es":
        return f"{day.day} de {MONTHS_ES[day.month - 1]} de {day.year}"
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def format_moment(moment: datetime, language: str) -> str:
    """A date and a clock time: 16 de diciembre de 2026 a las 15:00 / 16 December 2026 at 15:00."""
    joiner = " a las " if language == "es" else " at "
    return format_date(moment.date(), language) + joiner + format_clock(moment.time())


def format_clock(moment: time) -> str:
    return moment.strftime("%H:%M")


def format_money(amount: Decimal, currency: str) -> str:
    """289.40 EUR: the way the hotel's confirmations and payment page write amounts, in both languages."""
    return f"{amount.quantize(Decimal('0.01'))} {currency}"


def checkin_time(hotel: Hotel, reservation: Reservation | None, language: str) -> Answer:
    values = {"hotel": hotel.name, "time": format_clock(hotel.check_in_from)}
    if reservation is None:
        return Answer("utter_checkin_time", values)
    return Answer("utter_checkin_time_for_stay", {**values, "date": format_date(reservation.arrival, language)})


def checkout_time(hotel: Hotel, reservation: Reservation | None, language: str) -> Answer:
    values = {"hotel": hotel.name, "time": format_clock(hotel.check_out_until)}
    if reservation is None:
        return Answer("utter_checkout_time", values)
    return Answer("utter_checkout_time_for_stay", {**values, "date": format_date(reservation.departure, language)})


def address(hotel: Hotel) -> Answer:
    return Answer("utter_address", {"hotel": hotel.name, "address": hotel.address, "map_url": hotel.map_url})


def wifi(hotel: Hotel) -> Answer:
    return Answer("utter_wifi", {"network": hotel.wifi_network, "password": hotel.wifi_password})


def parking(hotel: Hotel, language: str) -> Answer:
    return Answer("utter_parking", {"hotel": hotel.name, "parking": hotel.parking.in_language(language)})


def breakfast(hotel: Hotel, language: str) -> Answer:
    return Answer("utter_breakfast", {"hotel": hotel.name, "breakfast": hotel.breakfast.in_language(language)})


def free_cancellation_deadline(hotel: Hotel, reservation: Reservation) -> datetime:
    """The last moment a cancellation is free: `free_cancellation_hours` before the arrival, the arrival
    being the check-in time of the arrival day in the hotel's own timezone."""
    arrival = datetime.combine(reservation.arrival, hotel.check_in_from, tzinfo=hotel.timezone)
    return arrival - timedelta(hours=hotel.free_cancellation_hours)


def cancellation_policy(hotel: Hotel, reservation: Reservation | None, now: datetime, language: str) -> Answer:
    """The policy, and for a known stay whether it can still be cancelled for free and until when."""
    hours = str(hotel.free_cancellation_hours)
    if reservation is None:
        return Answer("utter_cancellation_policy", {"hotel": hotel.name, "hours": hours})
    deadline = free_cancellation_deadline(hotel, reservation)
    values = {"hours": hours, "code": reservation.booking_code, "arrival": format_date(reservation.arrival, language)}
    if now < deadline:
        return Answer("utter_cancellation_free_until", {**values, "deadline": format_moment(deadline, language)})
    return Answer("utter_cancellation_period_passed", values)


def reservation_details(hotel: Hotel, reservation: Reservation, language: str) -> Answer:
    return Answer(
        "utter_reservation_details",
        {
            "name": reservation.first_name,
            "code": reservation.booking_code,
            "hotel": hotel.name,
            "arrival": format_date(reservation.arrival, language),
            "departure": format_date(reservation.departure, language),
            "nights": str(reservation.nights),
            "room": reservation.room(language),
        },
    )


def payment_status(reservation: Reservation) -> Answer:
    total = format_money(reservation.total, reservation.currency)
    if reservation.pending == 0:
        return Answer("utter_payment_complete", {"code": reservation.booking_code, "total": total})
    values = {
        "code": reservation.booking_code,
        "total": total,
        "paid": format_money(reservation.paid, reservation.currency),
        "pending": format_money(reservation.pending, reservation.currency),
    }
    if reservation.payment_link:
        return Answer("utter_payment_pending_with_link", {**values, "link": reservation.payment_link})
    return Answer("utter_payment_pending_at_reception", values)


def payment_link(reservation: Reservation) -> Answer:
    """The link when something is pending; otherwise that nothing is (a link to pay nothing helps no one)."""
    if reservation.pending > 0 and reservation.payment_link:
        pending = format_money(reservation.pending, reservation.currency)
        return Answer(
            "utter_payment_link",
            {"code": reservation.booking_code, "pending": pending, "link": reservation.payment_link},
        )
    return payment_status(reservation)


def topic(hotel: Hotel, name: str, language: str) -> Answer | None:
    """The hotel's own sentence on `name` (a `TOPICS` entry), or None when its file says nothing on it."""
    sentence = hotel.topics.get(name)
    if sentence is None:
        return None
    return Answer("utter_hotel_topic", {"hotel": hotel.name, "answer": sentence.in_language(language)})


HANDOFF_RESPONSES: Final = {
    "unanswered_question": ("utter_question_for_reception", "utter_question_for_reception_reception_closed"),
    "change_request": ("utter_change_request", "utter_change_request_reception_closed"),
}
"""The sentences (reception staffed, reception closed) that tell the guest a person takes over, by the
hand-off's reason where the reason is the assistant's own and the guest should hear it; "of course" else."""
HANDOFF_OF_COURSE: Final = ("utter_human_handoff", "utter_human_handoff_reception_closed")


def handoff(hotel: Hotel, now: datetime, language: str, reason: str = "guest_asked") -> Answer:
    """That a person will answer: at once when reception is staffed, else when it opens."""
    return _from_reception(hotel, now, language, *HANDOFF_RESPONSES.get(reason, HANDOFF_OF_COURSE))


def waiting_for_reception(hotel: Hotel, now: datetime, language: str) -> Answer:
    """A message the assistant cannot answer while the thread waits for a person: reception has it."""
    return _from_reception(hotel, now, language, "utter_waiting_for_reception", "utter_waiting_for_reception_closed")


def _from_reception(hotel: Hotel, now: datetime, language: str, staffed: str, closed: str) -> Answer:
    """A sentence that says reception will write: `staffed` with its hours, or `closed` with when it opens."""
    values = {"hotel": hotel.name, "hours": hotel.reception_hours(language)}
    if hotel.reception_open_at(now):
        return Answer(staffed, values)
    return Answer(closed, {**values, "opens": format_clock(hotel.reception_opens)})
