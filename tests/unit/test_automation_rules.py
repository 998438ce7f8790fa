"""The pure rules behind the automations: guest numbers, opt-out words, quiet hours, prices by date, template
parameters, request validation."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudapi.inbound import parse_pricing
from cloudapi.phones import NumberError, parse_guest_number
from cloudapi.templates import CatalogTemplate, parameter_problems
from connectors.whatsapp.automations import (
    MessageRequest,
    confirmation,
    in_quiet_hours,
    is_opt_out,
    next_allowed,
    read_batch,
    read_message,
)
from connectors.whatsapp.costs import Charge, load_rate_card, price, reconcile
from connectors.whatsapp.settings.automation import (
    AutomationSettings,
    AutomationSettingsError,
    load_automation_settings,
)

MADRID = ZoneInfo("Europe/Madrid")
SETTINGS = AutomationSettings()
CARD = load_rate_card(SETTINGS.rate_card_path, SETTINGS.pricing_rules_path, SETTINGS.markets_path)
HOTELS = {"1000000001": object()}


def madrid(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=MADRID).timestamp()


@pytest.mark.parametrize(
    ("written", "wa_id", "region"),
    [
        ("+34 612 34 56 78", "34612345678", "ES"),
        ("0034 612-34-56-78", "34612345678", "ES"),
        ("34612345678", "34612345678", "ES"),
        ("+44 (0) 7700 900123", "447700900123", "GB"),
        ("+54 9 11 2345-6789", "5491123456789", "AR"),
    ],
)
def test_guest_numbers_in_human_formats(written: str, wa_id: str, region: str) -> None:
    number = parse_guest_number(written)
    assert (number.wa_id, number.region) == (wa_id, region)


@pytest.mark.parametrize("written", ["", "hello", "+34 12", "+999 1234567", "+34 612 34 56 78 99 99"])
def test_impossible_numbers_are_refused_with_a_reason(written: str) -> None:
    with pytest.raises(NumberError):
        parse_guest_number(written)


def _wa_id_or_reason(written: str) -> str:
    try:
        return parse_guest_number(written).wa_id
    except NumberError as error:
        return f"refused: {error}"


@given(st.text(max_size=40))
def test_any_text_either_parses_or_says_why(written: str) -> None:
    outcome = _wa_id_or_reason(written)
    assert outcome.isdigit() or (outcome.startswith("refused: ") and len(outcome) > len("refused: "))


@pytest.mark.parametrize(
    "text",
    [
        "BAJA",
        "baja.",
        "Stop",
        "STOP please",
        "No más mensajes",
        "no mas mensajes!",
        "Unsubscribe",
        "darme de baja por favor",
    ],
)
def test_opt_out_words_in_both_languages(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize(
    "text", ["Can I stop by reception?", "hola", "¿Dónde está la baja de la escalera?", "stop the car", ""]
)
def test_ordinary_messages_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)


def test_the_confirmation_speaks_the_guests_language() -> None:
    assert confirmation("es").startswith("Hecho")
    assert confirmation("en").startswith("Done")
    assert confirmation("fr") == confirmation("en")


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-12-01T21:59:00", "2026-12-01T21:59:00"),
        ("2026-12-01T22:00:00", "2026-12-02T08:00:00"),
        ("2026-12-01T23:30:00", "2026-12-02T08:00:00"),
        ("2026-12-02T03:00:00", "2026-12-02T08:00:00"),
        ("2026-12-02T08:00:00", "2026-12-02T08:00:00"),
        ("2027-03-28T01:30:00", "2027-03-28T08:00:00"),  # the night the clocks go forward
    ],
)
def test_quiet_hours_wait_for_the_morning_in_the_hotels_timezone(local: str, expected: str) -> None:
    assert next_allowed(madrid(local), MADRID, time(22), time(8)) == madrid(expected)


def test_quiet_hours_that_do_not_wrap_midnight() -> None:
    assert in_quiet_hours(time(14, 30), time(14), time(16))
    assert not in_quiet_hours(time(16), time(14), time(16))
    assert not in_quiet_hours(time(3), time(0), time(0))


UTC_SEPT = datetime.fromisoformat("2026-09-15T10:00:00+00:00").timestamp()
UTC_NOV = datetime.fromisoformat("2026-11-15T10:00:00+00:00").timestamp()


def test_the_rules_in_force_on_the_messages_day_decide_what_is_free() -> None:
    assert price(CARD, "service", "ES", True, UTC_SEPT, 5000).billable is False
    assert price(CARD, "utility", "ES", True, UTC_SEPT, 0).billable is False
    assert price(CARD, "service", "ES", True, UTC_NOV, 999).billable is False
    after_tier = price(CARD, "service", "ES", True, UTC_NOV, 1000)
    assert (after_tier.billable, after_tier.amount) == (True, Decimal("0.0172"))
    assert price(CARD, "utility", "ES", True, UTC_NOV, 0).amount == Decimal("0.0172")


def test_templates_are_priced_by_category_and_market() -> None:
    assert price(CARD, "MARKETING", "ES", False, UTC_NOV, 0) == Charge(
        "marketing", "Spain", True, Decimal("0.0509"), "EUR", "marketing rate, Spain"
    )
    assert price(CARD, "utility", "PT", False, UTC_NOV, 0).market == "Rest of Western Europe"
    unpriced = price(CARD, "marketing", "FR", False, UTC_NOV, 0)
    assert (unpriced.billable, unpriced.amount, unpriced.market) == (True, None, "Other")


def test_a_rate_applies_from_its_effective_date() -> None:
    before = price(CARD, "marketing", "NL", False, datetime.fromisoformat("2026-03-31T12:00:00+00:00").timestamp(), 0)
    after = price(CARD, "marketing", "NL", False, datetime.fromisoformat("2026-04-01T12:00:00+00:00").timestamp(), 0)
    assert before.amount is None
    assert after.amount == Decimal("0.1373")


def test_inside_a_free_entry_point_every_message_is_free_on_any_date() -> None:
    for kind, in_window, moment, used in [
        ("MARKETING", False, UTC_NOV, 0),
        ("utility", True, UTC_NOV, 0),
        ("service", True, UTC_NOV, 5000),
        ("authentication", False, UTC_SEPT, 0),
    ]:
        charge = price(CARD, kind, "ES", in_window, moment, used, entry_point=True)
        assert (charge.billable, charge.amount, charge.category) == (False, Decimal(0), "referral_conversion")
        assert charge.kind == kind.lower()
        assert "free entry point" in charge.reason
    assert price(CARD, "MARKETING", "ES", False, UTC_NOV, 0, entry_point=False).amount == Decimal("0.0509")


def test_meta_reports_a_free_entry_point_message_as_a_referral_conversion() -> None:
    ours = price(CARD, "marketing", "ES", False, UTC_NOV, 0, entry_point=True)
    meta = parse_pricing(
        {"billable": False, "pricing_model": "PMP", "type": "free_entry_point", "category": "referral_conversion"}
    )
    assert reconcile(ours, meta) == ()
    billed = price(CARD, "marketing", "ES", False, UTC_NOV, 0)
    assert reconcile(billed, meta) == (
        "category: expected marketing, WhatsApp says referral_conversion",
        "billable: expected True, WhatsApp says False",
    )


def test_reconciliation_names_each_difference() -> None:
    ours = Charge("utility", "Spain", True, Decimal("0.0172"), "EUR", "")
    assert reconcile(ours, parse_pricing({"billable": True, "category": "utility"})) == ()
    assert reconcile(ours, None) == ()
    assert reconcile(ours, parse_pricing({"type": "free_customer_service", "category": "marketing"})) == (
        "category: expected utility, WhatsApp says marketing",
        "billable: expected True, WhatsApp says False",
    )


TEMPLATE = CatalogTemplate("payment_request", "es", "UTILITY", "APPROVED", "Hola {{1}}, debe {{2}}: {{3}}")


def test_template_parameters_are_checked_like_the_cloud_api() -> None:
    assert parameter_problems(TEMPLATE, ("Lucía", "10 EUR", "https://pay")) == []
    assert parameter_problems(TEMPLATE, ("Lucía",)) == ["template payment_request (es) takes 3 body parameters, not 1"]
    assert "new lines" in parameter_problems(TEMPLATE, ("Lucía\n", "a", "b"))[0]
    assert "over 1024" in parameter_problems(TEMPLATE, ("x" * 1024, "a", "b"))[0]


def test_a_request_reads_into_a_typed_message() -> None:
    read = read_message(
        {
            "business": "1000000001",
            "to": "+44 7700 900123",
            "purpose": "winter_offer",
            "parameters": {"guest_name": "Oliver", "discount_percent": 15},
            "send_at": "2026-12-01T09:00:00Z",
        },
        HOTELS,
    )
    assert isinstance(read, MessageRequest)
    assert read.purpose_values == {"guest_name": "Oliver", "discount_percent": "15"}
    assert read.send_at == datetime.fromisoformat("2026-12-01T09:00:00+00:00").timestamp()


def test_every_problem_of_a_request_is_listed() -> None:
    problems = read_message(
        {"to": "12", "purpose": "payment_request", "parameters": {"guest_name": ""}, "send_at": "2026-12-01T09:00"},
        HOTELS,
    )
    assert isinstance(problems, list)
    assert {p.field for p in problems} == {
        "business",
        "to",
        "parameters.guest_name",
        "parameters.amount_pending",
        "parameters.payment_link",
        "send_at",
    }


def test_a_batch_lists_problems_by_position() -> None:
    problems = read_batch(
        {"business": "1000000001", "messages": [{"to": "+34612345678", "text": "hola"}, {"to": "x"}]}, HOTELS
    )
    assert isinstance(problems, list)
    assert {p.field for p in problems} == {"messages[1].to", "messages[1]"}


def test_throughput_settings_are_bounded_by_whatsapps_maximum() -> None:
    settings = load_automation_settings(
        {
            "GATEWAY_THROUGHPUT_PER_SECOND": "1000",
            "GATEWAY_THROUGHPUT_OVERRIDES": "1000000002:20",
            "GATEWAY_MARKETING_BUDGETS": "1000000001:25.50",
        }
    )
    assert settings.throughput_of("1000000001") == 1000
    assert settings.throughput_of("1000000002") == 20
    assert settings.marketing_budgets == {"1000000001": Decimal("25.50")}
    with pytest.raises(AutomationSettingsError, match="at most 1000"):
        load_automation_settings({"GATEWAY_THROUGHPUT_PER_SECOND": "5000"})
    with pytest.raises(AutomationSettingsError, match="GATEWAY_REDIS_URL"):
        load_automation_settings({"GATEWAY_REDIS_URL": "localhost:6379"})
