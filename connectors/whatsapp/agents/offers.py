"""Which templates an agent may send to a guest, with their parameters filled in where the gateway knows
them (the guest's reservation, the hotel's facts). Pure.

The order is the console's: approved templates in the guest's language first, then the others, each by
name. A parameter the gateway cannot know (a discount percent) is left `None` for the agent to type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cloudapi.templates import CatalogTemplate
from hotel.answers import format_money
from hotel.facts import Hotel
from hotel.reservations import Reservation
from hotel.template_choice import PURPOSES

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class TemplateOffer:
    name: str
    language: str
    category: str
    body: str
    parameter_names: tuple[str, ...]
    parameters: tuple[str | None, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "body": self.body,
            "parameter_names": list(self.parameter_names),
            "parameters": list(self.parameters),
        }


def known_values(
    language: str, hotel: Hotel | None, reservation: Reservation | None, profile_name: str | None
) -> dict[str, str]:
    """What the gateway knows of the guest and the hotel, by the parameter names of `PURPOSES`."""
    values: dict[str, str] = {}
    name = reservation.guest_name if reservation else profile_name
    if name and name.split():
        values["guest_name"] = name.split()[0]
    if hotel is not None:
        values["hotel_name"] = hotel.name
        values["hotel_address"] = hotel.address
        values["check_in_time"] = hotel.check_in_from.strftime("%H:%M")
    if reservation is not None:
        values["arrival_date"] = stay_date(reservation.arrival, language)
        values["amount_pending"] = format_money(reservation.pending, reservation.currency)
        if reservation.payment_link:
            values["payment_link"] = reservation.payment_link
    return values


def stay_date(day: date, language: str) -> str:
    """A date of a stay as a guest reads it: 05/03/2026 in Spanish, 5 Mar 2026 in English."""
    return day.strftime("%d/%m/%Y") if language == "es" else f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def offers(catalog: Iterable[CatalogTemplate], language: str, values: Mapping[str, str]) -> list[TemplateOffer]:
    """The approved templates, the guest's language first, parameters pre-filled from `values`."""
    found = []
    for template in catalog:
        if not template.approved:
            continue
        spec = PURPOSES.get(template.name)
        names = spec.parameters if spec else tuple(f"{n + 1}" for n in range(template.parameter_count))
        names = names[: template.parameter_count] if template.parameter_count else names
        found.append(
            TemplateOffer(
                template.name,
                template.language,
                template.category,
                template.body,
                names,
                tuple(values.get(name) for name in names),
            )
        )
    return sorted(found, key=lambda o: (o.language != language, o.name, o.language))


def find_offer(catalog: Iterable[CatalogTemplate], name: str, language: str) -> CatalogTemplate | None:
    """The approved template `name` in `language`, if the catalog has it."""
    return next((t for t in catalog if t.name == name and t.language == language and t.approved), None)
