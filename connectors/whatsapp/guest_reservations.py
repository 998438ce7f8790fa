"""The guest's reservation shown next to a thread and used to pre-fill template parameters.

A stand-in until the action server's reservation repository (`actions/reservations.py`, issue 5) can be
shared: the four sample reservations of the project's hotels (HOTELS.md), looked up by hotel and WhatsApp
number. `ReservationLookup` is the seam to swap it for the repository.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Protocol


@dataclass(frozen=True)
class GuestReservation:
    booking_code: str
    business_id: str
    guest_name: str
    wa_id: str
    arrival: date
    departure: date
    room: str
    total: str
    paid: str
    pending: str
    payment_link: str | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["arrival"], data["departure"] = self.arrival.isoformat(), self.departure.isoformat()
        return data


class ReservationLookup(Protocol):
    def find(self, business_id: str, wa_id: str) -> GuestReservation | None: ...

    def named(self, text: str) -> list[GuestReservation]:
        """Reservations whose guest name or booking code contains `text` (the agents' search)."""
        ...


SAMPLE_RESERVATIONS = (
    GuestReservation("MDP-4F7K2Q", "1000000001", "Lucía Fernández", "34612345678", date(2026, 12, 18),
                     date(2026, 12, 21), "Double, sea view", "389.40 EUR", "100.00 EUR", "289.40 EUR",
                     "https://pay.example.com/MDP-4F7K2Q"),
    GuestReservation("MDP-8H3L9X", "1000000001", "Oliver Bennett", "447700900123", date(2026, 12, 2),
                     date(2026, 12, 5), "Junior suite", "612.00 EUR", "612.00 EUR", "0.00 EUR", None),
    GuestReservation("CAL-2B6N4R", "1000000002", "Lucía Fernández", "34612345678", date(2027, 1, 9),
                     date(2027, 1, 11), "Single", "142.00 EUR", "0.00 EUR", "142.00 EUR",
                     "https://pay.example.com/CAL-2B6N4R"),
    GuestReservation("CAL-7Y1M5T", "1000000002", "Sophie Laurent", "33612345678", date(2026, 12, 27),
                     date(2026, 12, 30), "Double", "275.00 EUR", "275.00 EUR", "0.00 EUR", None),
)  # fmt: skip


class SampleReservations:
    """The sample reservations, newest arrival first when a guest has several at one hotel."""

    def find(self, business_id: str, wa_id: str) -> GuestReservation | None:
        mine = [r for r in SAMPLE_RESERVATIONS if r.business_id == business_id and r.wa_id == wa_id]
        return max(mine, key=lambda r: r.arrival, default=None)

    def named(self, text: str) -> list[GuestReservation]:
        wanted = _folded(text)
        return [r for r in SAMPLE_RESERVATIONS if wanted in _folded(r.guest_name) or wanted in _folded(r.booking_code)]


def _folded(text: str) -> str:
    """Lower case without accents, so "fernandez" finds "Fernández"."""
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))
