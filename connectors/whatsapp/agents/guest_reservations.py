"""The guest's reservation as the agents' API shows it beside a thread, and the look-ups the API makes.

The reservations themselves come from the hotel domain's repository (`hotel.reservations`), built from
the same settings as the action server's, so an agent sees what the assistant tells the guest. This module
only chooses the stay to show, turns a `Reservation` into the API's JSON (the one place that shape is
made), and keeps a reservation source that cannot answer from breaking a thread view or a search: it logs
and answers none.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date
from typing import Any

from hotel.answers import format_money
from hotel.reservations import (
    Reservation,
    ReservationRepository,
    ReservationsUnavailableError,
    current_or_next,
)

log = logging.getLogger(__name__)


async def guest_reservation(
    repository: ReservationRepository, business_id: str, wa_id: str, today: date
) -> Reservation | None:
    """The stay under way or next to come of this guest at this hotel; None when there is none, or when the
    reservation source is down (logged), so the thread is still shown."""
    try:
        return current_or_next(await repository.for_guest(business_id, wa_id), today)
    except ReservationsUnavailableError as error:
        log.error("reservation of a guest of %s unavailable: %s", business_id, error)
        return None


async def reservation_threads(
    repository: ReservationRepository, hotels: Collection[str], text: str
) -> list[tuple[str, str]]:
    """(business_id, wa_id) of the guests whose reservation's name or booking code contains `text`; none
    when the reservation source is down (logged), so the search still finds messages and numbers."""
    try:
        found = await repository.search(hotels, text)
    except ReservationsUnavailableError as error:
        log.error("reservation search unavailable: %s", error)
        return []
    return [(r.phone_number_id, r.wa_id) for r in found if r.wa_id]


def reservation_json(reservation: Reservation, language: str) -> dict[str, Any]:
    """The API's `reservation` object (the console and the OpenAPI description read these names); the room
    in the guest's language, amounts as the hotel writes them (`289.40 EUR`)."""
    money = reservation.currency
    return {
        "booking_code": reservation.booking_code,
        "business_id": reservation.phone_number_id,
        "guest_name": reservation.guest_name,
        "wa_id": reservation.wa_id,
        "arrival": reservation.arrival.isoformat(),
        "departure": reservation.departure.isoformat(),
        "room": reservation.room(language),
        "total": format_money(reservation.total, money),
        "paid": format_money(reservation.paid, money),
        "pending": format_money(reservation.pending, money),
        "payment_link": reservation.payment_link,
    }
