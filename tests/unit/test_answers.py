"""The answers to hotel questions, from the sample hotels' facts and reservations, in both languages."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from hotel import answers
from hotel.answers import Answer
from hotel.facts import load_hotels
from hotel.reservations import Reservation
from hotel.settings import DEFAULT_SEED_FILE

HOTELS = load_hotels()
MIRADOR, ALAMEDA = HOTELS["1000000001"], HOTELS["1000000002"]
RESERVATIONS = {
    r["booking_code"]: Reservation.from_mapping(r)
    for r in json.loads(DEFAULT_SEED_FILE.read_text(encoding="utf-8"))["reservations"]
}
LUCIA_MIRADOR, OLIVER, LUCIA_ALAMEDA = (
    RESERVATIONS["MDP-4F7K2Q"],
    RESERVATIONS["MDP-8H3L9X"],
    RESERVATIONS["CAL-2B6N4R"],
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("language", "date", "moment"),
    [
        ("es", "18 de diciembre de 2026", "16 de diciembre de 2026 a las 15:00"),
        ("en", "18 December 2026", "16 December 2026 at 15:00"),
    ],
)
def test_dates_read_naturally_in_each_language(language: str, date: str, moment: str) -> None:
    assert answers.format_date(LUCIA_MIRADOR.arrival, language) == date
    assert answers.format_moment(datetime(2026, 12, 16, 15, 0), language) == moment


def test_money_keeps_two_decimals_and_the_currency() -> None:
    assert answers.format_money(Decimal("289.4"), "EUR") == "289.40 EUR"


@pytest.mark.parametrize(("hotel", "check_in", "check_out"), [(MIRADOR, "15:00", "12:00"), (ALAMEDA, "14:00", "11:00")])
def test_check_in_and_out_times_of_each_hotel(hotel, check_in: str, check_out: str) -> None:
    assert answers.checkin_time(hotel, None, "es") == Answer(
        "utter_checkin_time", {"hotel": hotel.name, "time": check_in}
    )
    assert answers.checkout_time(hotel, None, "en").values["time"] == check_out


def test_check_in_with_a_known_stay_gives_its_date() -> None:
    answer = answers.checkin_time(MIRADOR, LUCIA_MIRADOR, "es")
    assert answer.response == "utter_checkin_time_for_stay"
    assert answer.values == {"hotel": "Hotel Mirador del Puerto", "time": "15:00", "date": "18 de diciembre de 2026"}
    out = answers.checkout_time(ALAMEDA, LUCIA_ALAMEDA, "en")
    assert out.values == {"hotel": "Casa Alameda", "time": "11:00", "date": "11 January 2027"}


def test_address_wifi_parking_breakfast_come_from_the_hotel_files() -> None:
    assert answers.address(MIRADOR).values["address"] == "Paseo Marítimo 12, 29016 Málaga"
    assert answers.address(ALAMEDA).values["map_url"].startswith("https://www.google.com/maps/")
    assert answers.wifi(MIRADOR).values == {"network": "Mirador-Guest", "password": "puerto2026"}
    assert answers.wifi(ALAMEDA).values == {"network": "Alameda-WiFi", "password": "azahar24"}
    assert "18 EUR" in answers.parking(MIRADOR, "en").values["parking"]
    assert "Plaza de Armas" in answers.parking(ALAMEDA, "es").values["parking"]
    assert "07:30 a 10:30" in answers.breakfast(MIRADOR, "es").values["breakfast"]
    assert "12 EUR per person" in answers.breakfast(ALAMEDA, "en").values["breakfast"]


def test_free_cancellation_ends_the_hotels_hours_before_check_in_time_on_arrival_day() -> None:
    # Mirador: 48 h before 18 Dec 15:00 Madrid (UTC+1) = 16 Dec 14:00 UTC
    assert answers.free_cancellation_deadline(MIRADOR, LUCIA_MIRADOR) == utc("2026-12-16T14:00:00")
    # Alameda: 24 h before 9 Jan 14:00 Madrid = 8 Jan 13:00 UTC
    assert answers.free_cancellation_deadline(ALAMEDA, LUCIA_ALAMEDA) == utc("2027-01-08T13:00:00")


@pytest.mark.parametrize(
    ("now", "language", "response", "deadline"),
    [
        ("2026-11-25T10:00:00", "es", "utter_cancellation_free_until", "16 de diciembre de 2026 a las 15:00"),
        ("2026-12-16T13:59:59", "en", "utter_cancellation_free_until", "16 December 2026 at 15:00"),
        ("2026-12-16T14:00:00", "en", "utter_cancellation_period_passed", None),
        ("2026-12-20T09:00:00", "es", "utter_cancellation_period_passed", None),
    ],
)
def test_cancellation_against_the_arrival_date(now: str, language: str, response: str, deadline: str | None) -> None:
    answer = answers.cancellation_policy(MIRADOR, LUCIA_MIRADOR, utc(now), language)
    assert answer.response == response
    assert answer.values.get("deadline") == deadline
    assert answer.values["hours"] == "48"
    assert answer.values["code"] == "MDP-4F7K2Q"


def test_cancellation_without_a_stay_states_the_policy() -> None:
    answer = answers.cancellation_policy(ALAMEDA, None, utc("2026-11-25T10:00:00"), "es")
    assert answer == Answer("utter_cancellation_policy", {"hotel": "Casa Alameda", "hours": "24"})


def test_reservation_details_in_each_language() -> None:
    es = answers.reservation_details(MIRADOR, LUCIA_MIRADOR, "es").values
    en = answers.reservation_details(MIRADOR, LUCIA_MIRADOR, "en").values
    assert es["room"] == "Doble, vistas al mar"
    assert en["room"] == "Double, sea view"
    assert (en["arrival"], en["departure"], en["nights"], en["name"]) == (
        "18 December 2026",
        "21 December 2026",
        "3",
        "Lucía",
    )


def test_payment_pending_gives_the_link_and_paid_says_so() -> None:
    pending = answers.payment_status(LUCIA_MIRADOR)
    assert pending.response == "utter_payment_pending_with_link"
    assert pending.values == {
        "code": "MDP-4F7K2Q", "total": "389.40 EUR", "paid": "100.00 EUR", "pending": "289.40 EUR",
        "link": "https://pay.example.com/MDP-4F7K2Q",
    }  # fmt: skip
    assert answers.payment_status(OLIVER) == Answer(
        "utter_payment_complete", {"code": "MDP-8H3L9X", "total": "612.00 EUR"}
    )
    link = answers.payment_link(LUCIA_ALAMEDA)
    assert link.response == "utter_payment_link"
    assert link.values["pending"] == "142.00 EUR"
    assert answers.payment_link(OLIVER).response == "utter_payment_complete"


def test_payment_pending_without_a_link_points_to_reception() -> None:
    no_link = Reservation(**{**LUCIA_MIRADOR.__dict__, "payment_link": None})
    assert answers.payment_status(no_link).response == "utter_payment_pending_at_reception"
    assert answers.payment_link(no_link).response == "utter_payment_pending_at_reception"


@pytest.mark.parametrize(
    ("hotel", "now", "response", "opens"),
    [
        (MIRADOR, "2026-11-25T02:00:00", "utter_human_handoff", None),  # 24-hour reception
        (ALAMEDA, "2026-11-25T12:00:00", "utter_human_handoff", None),  # 13:00 in Seville
        (ALAMEDA, "2026-11-25T23:30:00", "utter_human_handoff_reception_closed", "08:00"),  # 00:30 in Seville
        (ALAMEDA, "2026-11-25T06:59:59", "utter_human_handoff_reception_closed", "08:00"),  # 07:59
    ],
)
def test_handoff_says_when_a_person_answers(hotel, now: str, response: str, opens: str | None) -> None:
    answer = answers.handoff(hotel, utc(now), "en")
    assert answer.response == response
    assert answer.values.get("opens") == opens
    assert answer.values["hours"] == ("24 hours" if hotel is MIRADOR else "08:00-23:00")
