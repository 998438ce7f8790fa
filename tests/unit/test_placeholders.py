"""Saved replies' placeholders: which are known, and how a thread fills them (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cloudapi.window import window_state
from connectors.whatsapp.agents.desk import GuestContext
from connectors.whatsapp.agents.offers import known_values
from connectors.whatsapp.agents.placeholders import PLACEHOLDERS, fill, thread_values, unknown_placeholders
from hotel.facts import load_hotels
from hotel.reservations import Reservation

MIRADOR = "1000000001"
STAY = Reservation(
    "MDP-TEST01", MIRADOR, "Lucía Fernández", "34612345678", date(2026, 3, 5), date(2026, 3, 8),
    "Doble", "Double", "EUR", Decimal("300"), Decimal("100"), None,
)  # fmt: skip


def _context(language: str, reservation: Reservation | None) -> GuestContext:
    hotel = load_hotels()[MIRADOR]
    values = known_values(language, hotel, reservation, "Lu")
    return GuestContext(hotel, reservation, language, "Lu", window_state(None, 0), values)


def test_unknown_placeholders_are_named_once_in_order() -> None:
    assert unknown_placeholders("{guest_name} {roomz} {wifi} {roomz} {booking_code}") == ["roomz", "wifi"]
    assert unknown_placeholders("no placeholders, {Not_One}, { guest_name }") == []


def test_a_thread_with_a_reservation_fills_every_placeholder() -> None:
    values = thread_values(_context("en", STAY))
    assert set(values) == set(PLACEHOLDERS) - {"payment_link"}
    filled = fill("{guest_name} {booking_code} {departure_date} {room} {amount_pending} {check_out_until}", values)
    assert (
        filled.text == f"Lucía MDP-TEST01 8 Mar 2026 Double 200.00 EUR {load_hotels()[MIRADOR].check_out_until:%H:%M}"
    )
    assert filled.missing == ()
    assert fill("{arrival_date} {room}", thread_values(_context("es", STAY))).text == "05/03/2026 Doble"


def test_what_a_thread_cannot_know_stays_for_the_agent_to_type() -> None:
    filled = fill(
        "Hola {guest_name}, su reserva {booking_code} ({room}) {booking_code}", thread_values(_context("es", None))
    )
    assert filled.text == "Hola Lu, su reserva {booking_code} ({room}) {booking_code}"
    assert filled.missing == ("booking_code", "room")
