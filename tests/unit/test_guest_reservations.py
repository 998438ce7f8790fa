"""The reservation the agents' API shows: chosen from the shared repository, shaped as the API's JSON, and
none (with an error in the log) when the reservation source is down."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from connectors.whatsapp.agents import guest_reservation, reservation_json, reservation_threads
from hotel.reservations import HttpReservations, SqliteReservations
from hotel.settings import DEFAULT_SEED_FILE
from tests.support import free_port

MIRADOR, ALAMEDA = "1000000001", "1000000002"
LUCIA = "34612345678"
TODAY = date(2026, 11, 25)


@pytest.fixture
def sqlite() -> SqliteReservations:
    return SqliteReservations.seeded(DEFAULT_SEED_FILE)


async def test_a_guest_with_stays_at_two_hotels_gets_the_one_of_the_hotel_they_write_to(
    sqlite: SqliteReservations,
) -> None:
    assert (await guest_reservation(sqlite, MIRADOR, LUCIA, TODAY)).booking_code == "MDP-4F7K2Q"
    assert (await guest_reservation(sqlite, ALAMEDA, LUCIA, TODAY)).booking_code == "CAL-2B6N4R"
    assert await guest_reservation(sqlite, MIRADOR, "33612345678", TODAY) is None


async def test_the_api_json_keeps_its_field_names_with_room_and_amounts_for_the_reader(
    sqlite: SqliteReservations,
) -> None:
    reservation = await guest_reservation(sqlite, MIRADOR, LUCIA, TODAY)
    assert reservation_json(reservation, "en") == {
        "booking_code": "MDP-4F7K2Q",
        "business_id": MIRADOR,
        "guest_name": "Lucía Fernández",
        "wa_id": LUCIA,
        "arrival": "2026-12-18",
        "departure": "2026-12-21",
        "room": "Double, sea view",
        "total": "389.40 EUR",
        "paid": "100.00 EUR",
        "pending": "289.40 EUR",
        "payment_link": "https://pay.example.com/MDP-4F7K2Q",
    }
    assert reservation_json(reservation, "es")["room"] == "Doble, vistas al mar"


async def test_the_search_gives_the_conversations_of_matching_reservations(sqlite: SqliteReservations) -> None:
    assert sorted(await reservation_threads(sqlite, {MIRADOR, ALAMEDA}, "fernandez")) == [
        (MIRADOR, LUCIA),
        (ALAMEDA, LUCIA),
    ]
    assert await reservation_threads(sqlite, {MIRADOR}, "cal-2b6") == []


async def test_a_pms_that_is_down_gives_no_reservation_and_an_error_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = HttpReservations(f"http://127.0.0.1:{free_port()}", timeout_seconds=1)
    try:
        with caplog.at_level(logging.ERROR, logger="connectors.whatsapp.agents.guest_reservations"):
            assert await guest_reservation(down, MIRADOR, LUCIA, TODAY) is None
            assert await reservation_threads(down, {MIRADOR}, "Lucía") == []
    finally:
        await down.close()
    assert [r.getMessage() for r in caplog.records] == [
        f"reservation of a guest of {MIRADOR} unavailable: the PMS cannot be reached (ConnectError)",
        "reservation search unavailable: the PMS cannot be reached (ConnectError)",
    ]
