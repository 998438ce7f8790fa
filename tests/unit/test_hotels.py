"""Hotel facts: the sample files hold HOTELS.md's facts, and a broken file names what is wrong."""

from __future__ import annotations

from datetime import datetime, time, timezone
from pathlib import Path

import pytest

from hotel.facts import HotelFactsError, load_hotels


def test_the_sample_hotels_hold_the_published_facts() -> None:
    hotels = load_hotels()
    mirador, alameda = hotels["1000000001"], hotels["1000000002"]
    assert (mirador.name, alameda.name) == ("Hotel Mirador del Puerto", "Casa Alameda")
    assert (mirador.check_in_from, mirador.check_out_until) == (time(15), time(12))
    assert (alameda.check_in_from, alameda.check_out_until) == (time(14), time(11))
    assert (mirador.wifi_network, mirador.wifi_password) == ("Mirador-Guest", "puerto2026")
    assert (alameda.wifi_network, alameda.wifi_password) == ("Alameda-WiFi", "azahar24")
    assert (mirador.free_cancellation_hours, alameda.free_cancellation_hours) == (48, 24)
    assert mirador.address == "Paseo Marítimo 12, 29016 Málaga"
    assert "Plaza de Armas" in alameda.parking.es
    assert "400 m" in alameda.parking.en
    assert "14 EUR" in mirador.breakfast.en
    assert "07:30" in mirador.breakfast.es


def test_reception_hours_in_the_hotels_own_time() -> None:
    hotels = load_hotels()
    mirador, alameda = hotels["1000000001"], hotels["1000000002"]
    assert mirador.reception_hours("en") == "24 hours"
    assert mirador.reception_hours("es") == "24 horas"
    assert alameda.reception_hours("es") == "08:00-23:00"
    late_in_seville = datetime(2026, 12, 1, 22, 30, tzinfo=timezone.utc)  # 23:30 in Madrid (CET)
    assert mirador.reception_open_at(late_in_seville)
    assert not alameda.reception_open_at(late_in_seville)
    assert alameda.reception_open_at(datetime(2026, 12, 1, 21, 30, tzinfo=timezone.utc))


def test_a_file_missing_a_fact_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "1000000009.yml").write_text('phone_number_id: "1000000009"\nname: Hostal\n')
    with pytest.raises(HotelFactsError, match=r"1000000009\.yml: the field 'address' is missing"):
        load_hotels(tmp_path)


def test_an_empty_folder_says_where_to_point(tmp_path: Path) -> None:
    with pytest.raises(HotelFactsError, match="HOTEL_FACTS_DIR"):
        load_hotels(tmp_path)
