"""The placeholders a saved reply may hold, and how they are filled from a thread. Pure.

`PLACEHOLDERS` is the whole list (the README's agents' API section repeats it): a saved reply naming any
other is refused when saved, so a typo shows then, not in front of a guest. A placeholder the gateway cannot
fill for this guest (no reservation found) is left as written and named in `missing`, for the agent to type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.whatsapp.agents.desk import GuestContext
from connectors.whatsapp.agents.offers import stay_date

PLACEHOLDERS: Mapping[str, str] = {
    "guest_name": "the guest's first name (the reservation's, else their WhatsApp profile's)",
    "booking_code": "the reservation's booking code",
    "arrival_date": "the reservation's arrival date, in the guest's language",
    "departure_date": "the reservation's departure date, in the guest's language",
    "room": "the reservation's room, in the guest's language",
    "amount_pending": "what is left to pay, e.g. 289.40 EUR",
    "payment_link": "the reservation's payment link",
    "hotel_name": "the hotel's name",
    "hotel_address": "the hotel's address",
    "check_in_from": "the hotel's check-in time, HH:MM",
    "check_out_until": "the hotel's check-out time, HH:MM",
    "wifi_network": "the hotel's Wi-Fi network",
    "wifi_password": "the hotel's Wi-Fi password",
    "breakfast_hours": "the hotel's breakfast hours",
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Filled:
    text: str
    missing: tuple[str, ...]


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders in `text` that are not in `PLACEHOLDERS`, in order of appearance."""
    found = [name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS]
    return list(dict.fromkeys(found))


def thread_values(context: GuestContext) -> dict[str, str]:
    """What this thread knows for each placeholder (absent: unknown for this guest)."""
    values = {k: v for k, v in context.template_values.items() if k in PLACEHOLDERS}
    hotel, reservation = context.hotel, context.reservation
    if hotel is not None:
        values.update(
            hotel_name=hotel.name,
            hotel_address=hotel.address,
            check_in_from=hotel.check_in_from.strftime("%H:%M"),
            check_out_until=hotel.check_out_until.strftime("%H:%M"),
            wifi_network=hotel.wifi_network,
            wifi_password=hotel.wifi_password,
            breakfast_hours=hotel.breakfast_hours,
        )
    if reservation is not None:
        values.update(
            booking_code=reservation.booking_code,
            departure_date=stay_date(reservation.departure, context.language),
            room=reservation.room_es if context.language == "es" else reservation.room_en,
        )
    return values


def fill(text: str, values: Mapping[str, str]) -> Filled:
    """`text` with every known placeholder replaced; the unknown ones stay and are listed."""
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name not in missing:
            missing.append(name)
        return match.group(0)

    return Filled(_PLACEHOLDER.sub(value, text), tuple(missing))
