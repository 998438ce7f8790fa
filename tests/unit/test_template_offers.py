"""The templates offered to an agent: approved only, the guest's language first, parameters pre-filled."""

from __future__ import annotations

import json

from actions.hotels import load_hotels
from actions.template_choice import CatalogTemplate
from connectors.whatsapp.guest_reservations import SampleReservations
from connectors.whatsapp.template_offers import known_values, offers
from tests.support import ROOT

CATALOG = [
    CatalogTemplate.from_graph(t)
    for t in json.loads((ROOT / "sandbox" / "data" / "catalog.json").read_text())["business_accounts"][0]["templates"]
]


def test_offers_put_the_guests_language_first_and_fill_what_is_known() -> None:
    hotel = load_hotels()["1000000001"]
    reservation = SampleReservations().find("1000000001", "447700900123")
    values = known_values("en", hotel, reservation, "Olly")
    found = offers(CATALOG, "en", values)
    languages = [o.language for o in found]
    assert languages == sorted(languages, key=lambda lang: lang != "en")
    reminder = next(o for o in found if o.name == "reservation_reminder" and o.language == "en")
    assert reminder.parameters == ("Oliver", "2 Dec 2026", "Hotel Mirador del Puerto")
    offer = next(o for o in found if o.name == "winter_offer" and o.language == "en")
    assert offer.parameters == ("Oliver", None), "a discount is the agent's to type"
    assert all(t.approved for t in CATALOG if any(o.name == t.name and o.language == t.language for o in found))


def test_without_a_reservation_the_profile_name_and_the_hotel_fill_what_they_can() -> None:
    values = known_values("es", load_hotels()["1000000002"], None, "Ana María")
    assert values == {
        "guest_name": "Ana",
        "hotel_name": "Casa Alameda",
        "hotel_address": "Calle Alameda de Hércules 30, 41002 Sevilla",
        "check_in_time": "14:00",
    }


def test_a_guest_with_stays_at_two_hotels_gets_the_one_of_the_hotel_they_write_to() -> None:
    lookup = SampleReservations()
    assert lookup.find("1000000001", "34612345678").booking_code == "MDP-4F7K2Q"
    assert lookup.find("1000000002", "34612345678").booking_code == "CAL-2B6N4R"
    assert lookup.find("1000000002", "447700900123") is None
