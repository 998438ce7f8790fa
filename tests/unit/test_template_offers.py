"""The templates offered to an agent: approved only, the guest's language first, parameters pre-filled."""

from __future__ import annotations

import json
from datetime import date

from cloudapi.templates import CatalogTemplate
from connectors.whatsapp.agents import guest_reservation, known_values, offers
from hotel.facts import load_hotels
from hotel.reservations import SqliteReservations
from hotel.settings import DEFAULT_SEED_FILE
from tests.support import ROOT

CATALOG = [
    CatalogTemplate.from_graph(t)
    for t in json.loads((ROOT / "sandbox" / "data" / "catalog.json").read_text())["business_accounts"][0]["templates"]
]
TODAY = date(2026, 11, 25)


async def test_offers_put_the_guests_language_first_and_fill_what_is_known() -> None:
    hotel = load_hotels()["1000000001"]
    reservation = await guest_reservation(
        SqliteReservations.seeded(DEFAULT_SEED_FILE), "1000000001", "447700900123", TODAY
    )
    values = known_values("en", hotel, reservation, "Olly")
    found = offers(CATALOG, "en", values)
    languages = [o.language for o in found]
    assert languages == sorted(languages, key=lambda lang: lang != "en")
    reminder = next(o for o in found if o.name == "reservation_reminder" and o.language == "en")
    assert reminder.parameters == ("Oliver", "2 Dec 2026", "Hotel Mirador del Puerto")
    offer = next(o for o in found if o.name == "winter_offer" and o.language == "en")
    assert offer.parameters == ("Oliver", None), "a discount is the agent's to type"
    assert all(t.approved for t in CATALOG if any(o.name == t.name and o.language == t.language for o in found))


async def test_a_pending_amount_and_link_come_from_the_reservation_as_the_hotel_writes_them() -> None:
    reservation = await guest_reservation(
        SqliteReservations.seeded(DEFAULT_SEED_FILE), "1000000001", "34612345678", TODAY
    )
    values = known_values("es", load_hotels()["1000000001"], reservation, None)
    assert values["guest_name"] == "Lucía"
    assert values["arrival_date"] == "18/12/2026"
    assert values["amount_pending"] == "289.40 EUR"
    assert values["payment_link"] == "https://pay.example.com/MDP-4F7K2Q"


def test_without_a_reservation_the_profile_name_and_the_hotel_fill_what_they_can() -> None:
    values = known_values("es", load_hotels()["1000000002"], None, "Ana María")
    assert values == {
        "guest_name": "Ana",
        "hotel_name": "Casa Alameda",
        "hotel_address": "Calle Alameda de Hércules 30, 41002 Sevilla",
        "check_in_time": "14:00",
    }
