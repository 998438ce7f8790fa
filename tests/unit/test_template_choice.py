"""Template choice: every purpose x language x window state, against the sandbox's own catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudapi.templates import CatalogTemplate
from hotel.template_choice import PURPOSES, ChoiceError, FreeText, TemplateChoice, choose_message

CATALOG_FILE = Path(__file__).resolve().parents[2] / "sandbox" / "data" / "catalog.json"
CATALOG = [
    CatalogTemplate.from_graph(item)
    for item in json.loads(CATALOG_FILE.read_text())["business_accounts"][0]["templates"]
]
VALUES = {
    "guest_name": "Lucía",
    "arrival_date": "18/12/2026",
    "hotel_name": "Hotel Mirador del Puerto",
    "amount_pending": "289.40 EUR",
    "payment_link": "https://pay.example.com/MDP-4F7K2Q",
    "check_in_time": "15:00",
    "hotel_address": "Paseo Marítimo 12, 29016 Málaga",
    "discount_percent": "15",
}


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_an_open_window_gets_free_text_in_the_guests_language(purpose: str, language: str) -> None:
    choice = choose_message(purpose, language, True, CATALOG, VALUES)
    assert isinstance(choice, FreeText)
    assert choice.text.startswith("Hola Lucía" if language == "es" else "Hello Lucía")
    assert "{" not in choice.text
    assert choice.message()["text"]["body"] == choice.text


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_a_closed_window_gets_the_approved_template_with_parameters_in_order(purpose: str, language: str) -> None:
    choice = choose_message(purpose, language, False, CATALOG, VALUES)
    spec = PURPOSES[purpose]
    assert isinstance(choice, TemplateChoice)
    assert (choice.name, choice.language) == (spec.template, language)
    assert choice.parameters == tuple(VALUES[name] for name in spec.parameters)
    template = next(t for t in CATALOG if t.name == choice.name and t.language == language)
    assert template.parameter_count == len(choice.parameters)
    assert choice.category == ("MARKETING" if purpose == "winter_offer" else "UTILITY")
    body = choice.message()["template"]
    assert body["language"] == {"code": language}
    assert [p["text"] for p in body["components"][0]["parameters"]] == list(choice.parameters)


def test_a_template_not_approved_in_the_guests_language_falls_back_to_the_other() -> None:
    paused_es = [
        CatalogTemplate(t.name, t.language, t.category, "PAUSED" if t.language == "es" else t.status, t.body)
        for t in CATALOG
    ]
    choice = choose_message("payment_request", "es", False, paused_es, VALUES)
    assert isinstance(choice, TemplateChoice)
    assert choice.language == "en"


def test_no_approved_version_at_all_is_a_reason_not_a_send() -> None:
    rejected = [CatalogTemplate(t.name, t.language, t.category, "REJECTED", t.body) for t in CATALOG]
    with pytest.raises(ChoiceError, match="no APPROVED version"):
        choose_message("reservation_reminder", "en", False, rejected, VALUES)


def test_missing_values_and_unknown_purposes_are_named() -> None:
    with pytest.raises(ChoiceError, match="needs amount_pending, payment_link"):
        choose_message("payment_request", "en", False, CATALOG, {"guest_name": "Oliver"})
    with pytest.raises(ChoiceError, match="unknown purpose 'birthday'"):
        choose_message("birthday", "en", True, CATALOG, VALUES)
