"""The gateway reads the reservation settings from the action server's variables, once, with their checks."""

from __future__ import annotations

import pytest

from connectors.whatsapp.settings import SettingsError, load_settings

META = {"WHATSAPP_APP_SECRET": "s", "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_ACCESS_TOKEN": "a"}


def test_the_gateway_reads_the_same_reservation_variables_as_the_action_server() -> None:
    settings = load_settings(None, {**META, "RESERVATIONS_BACKEND": "http", "PMS_API_URL": "https://pms.example/api/"})
    assert settings.hotel.reservations_backend == "http"
    assert settings.hotel.pms_api_url == "https://pms.example/api"
    assert load_settings(None, META).hotel.reservations_backend == "sqlite"


def test_an_unusable_reservation_setting_stops_the_gateway_with_its_name() -> None:
    with pytest.raises(SettingsError, match="PMS_API_URL"):
        load_settings(None, {**META, "RESERVATIONS_BACKEND": "http"})
    with pytest.raises(SettingsError, match="RESERVATIONS_BACKEND"):
        load_settings(None, {**META, "RESERVATIONS_BACKEND": "excel"})
