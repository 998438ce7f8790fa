"""What the gateway makes of the webhooks beside guest messages and statuses, on the Meta-shaped fixtures:
edits and revokes become amendments and never turns, marketing preferences the guest's marketing consent,
account events records logged at their gravity, template notices the catalog's news; and the pure rules
that read them back (a template's category at a time, the agents' view of an amended message)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from cloudapi.inbound import AccountUpdate, TemplateCategoryUpdate, TemplateQualityUpdate, UserPreference, parse_webhook
from connectors.whatsapp.agents.amendments import amended
from connectors.whatsapp.store import AccountEvent, Amendment, MarketingPreference
from connectors.whatsapp.templates import CategoryChange, TemplateReview, category_at
from connectors.whatsapp.webhook.account_news import (
    account_event_level,
    account_events,
    marketing_preferences,
    preference_guest_key,
    template_news,
)
from connectors.whatsapp.webhook.amendments import without_amendments
from connectors.whatsapp.webhook.processing import interpret
from tests.unit.inbound_support import GUEST, GUEST_BSUID, PNID, USERNAME_GUEST_BSUID, WABA, load, wamid

ORIGINAL = wamid("ORIG")


def rows(*names: str) -> list[tuple[int, bytes]]:
    return [(number, json.dumps(load(name)).encode()) for number, name in enumerate(names, start=1)]


# --- edits and revokes ------------------------------------------------------------------------------------


def test_an_edit_is_an_amendment_of_its_original_and_leaves_the_batch() -> None:
    batch, [edit] = without_amendments(parse_webhook(load("edit")))

    assert batch.messages == ()
    assert edit == Amendment(
        business_id=PNID,
        wa_id=GUEST,
        wamid=wamid("EDT"),
        original_wamid=ORIGINAL,
        kind="edit",
        text="Llegamos el 12 de julio, no el 11",
        wa_timestamp=1751371200,
    )


def test_a_revoke_is_an_amendment_without_text_and_a_caption_edit_keeps_the_new_caption() -> None:
    _, [revoke] = without_amendments(parse_webhook(load("revoke")))
    _, [caption] = without_amendments(parse_webhook(load("edit_caption")))

    assert (revoke.kind, revoke.original_wamid, revoke.text) == ("revoke", ORIGINAL, None)
    assert caption.kind == "edit"
    assert caption.text == parse_webhook(load("edit_caption")).messages[0].content.content.caption  # type: ignore[union-attr]


def test_a_batch_without_edits_or_revokes_is_given_back_as_it_is() -> None:
    batch = parse_webhook(load("batched"))

    assert without_amendments(batch) == (batch, [])
    assert without_amendments(batch)[0] is batch


def test_interpret_gives_the_bot_none_of_the_edits_and_revokes() -> None:
    contents = interpret(rows("text", "edit", "revoke"))

    assert [record.type for record in contents.inbound] == ["text"]
    assert [(a.kind, a.original_wamid) for a in contents.amendments] == [("edit", ORIGINAL), ("revoke", ORIGINAL)]
    assert list(contents.finished) == [(1, "done", None), (2, "done", None), (3, "done", None)]


# --- marketing preferences ----------------------------------------------------------------------------------


def test_a_stop_and_a_resume_are_the_guests_marketing_consent_keyed_by_number_else_user_id() -> None:
    contents = interpret(rows("user_preferences"))

    assert contents.preferences == [
        MarketingPreference(
            business_id=PNID,
            wa_id=GUEST,
            stopped=True,
            changed_at=1774958400,
            user_id=GUEST_BSUID,
            detail="User requested to stop marketing messages",
        ),
        MarketingPreference(
            business_id=PNID,
            wa_id=USERNAME_GUEST_BSUID,
            stopped=False,
            changed_at=1774962000,
            user_id=USERNAME_GUEST_BSUID,
            detail="User requested to resume marketing messages",
        ),
    ]
    assert contents.inbound == []


def test_the_guest_key_of_a_preference_is_the_number_first() -> None:
    both = UserPreference(WABA, PNID, GUEST, GUEST_BSUID, "marketing_messages", "stop")

    assert preference_guest_key(both) == GUEST
    assert preference_guest_key(replace(both, wa_id=None)) == GUEST_BSUID


def test_a_preference_of_another_kind_is_not_recorded(caplog: pytest.LogCaptureFixture) -> None:
    other = UserPreference(WABA, PNID, GUEST, None, "service_messages", "stop")

    with caplog.at_level(logging.INFO):
        assert marketing_preferences([other]) == []
    assert "service_messages=stop not used" in caplog.text


# --- account events -----------------------------------------------------------------------------------------


def test_account_events_are_kept_whole_and_logged_by_gravity(caplog: pytest.LogCaptureFixture) -> None:
    updates = parse_webhook(load("account_update")).account_updates

    with caplog.at_level(logging.INFO, logger="connectors.whatsapp.webhook.account_news"):
        events = account_events(updates)

    assert [(e.event, e.time) for e in events] == [
        ("DISABLED_UPDATE", 1774958400),
        ("ACCOUNT_VIOLATION", 1774958401),
        ("ACCOUNT_RESTRICTION", 1774958402),
        ("VOLUME_BASED_PRICING_TIER_UPDATE", 1774958403),
        ("BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE", 1774958404),
        ("PARTNER_ADDED", 1774958405),
    ]
    assert all(json.loads(e.body) == u.raw and e.waba_id == WABA for e, u in zip(events, updates, strict=True))
    assert [record.levelname for record in caplog.records] == ["ERROR"] * 3 + ["INFO"] * 3


def test_a_lifted_ban_is_a_warning_not_an_error() -> None:
    ban = AccountUpdate(WABA, 1, "DISABLED_UPDATE", {}, ban_state="DISABLE")

    assert account_event_level(ban) == logging.ERROR
    assert account_event_level(replace(ban, ban_state="REINSTATE")) == logging.WARNING
    assert account_event_level(AccountUpdate(WABA, 1, "ACCOUNT_DELETED", {})) == logging.ERROR


def test_an_event_redelivered_has_the_same_key_and_another_event_another() -> None:
    event = AccountEvent(WABA, "ACCOUNT_VIOLATION", 1774958401, '{"event":"ACCOUNT_VIOLATION"}')

    assert event.key == AccountEvent(WABA, "ACCOUNT_VIOLATION", 1774958401, event.body).key
    assert event.key != replace(event, time=1774958402).key
    assert event.key != replace(event, body='{"event":"ACCOUNT_VIOLATION","violation_info":{}}').key


# --- template news ------------------------------------------------------------------------------------------


def test_quality_and_category_notices_are_template_news(caplog: pytest.LogCaptureFixture) -> None:
    updates: list[Any] = []
    with caplog.at_level(logging.INFO):
        interpret(rows("template_quality_update", "template_category_update", "template_status_update"), updates)

    kinds = [type(u).__name__ for u in updates]
    assert sorted(kinds) == [
        "TemplateCategoryUpdate",
        "TemplateCategoryUpdate",
        "TemplateQualityUpdate",
        "TemplateStatusUpdate",
    ]
    assert "booking_reminder (es_ES) becomes MARKETING at 1775044800 (announced, not yet applied)" in caplog.text


def test_a_red_quality_score_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    red = TemplateQualityUpdate(WABA, 1, "1", "booking_reminder", "es_ES", "YELLOW", "RED")
    batch = replace(parse_webhook(load("template_quality_update")), template_quality_updates=(red,))

    with caplog.at_level(logging.INFO):
        assert template_news(batch) == [red]
    assert [record.levelname for record in caplog.records] == ["WARNING"]


# --- reading them back --------------------------------------------------------------------------------------


def test_a_template_has_the_category_of_its_time() -> None:
    changes = [CategoryChange("UTILITY", "MARKETING", 1000), CategoryChange("MARKETING", "UTILITY", 2000)]

    assert category_at(changes, "UTILITY", 999.5) == "UTILITY"
    assert category_at(changes, "UTILITY", 1000) == "MARKETING"
    assert category_at(changes, "UTILITY", 1999) == "MARKETING"
    assert category_at(changes, "UTILITY", 2500) == "UTILITY"
    assert category_at([], "MARKETING", 0) == "MARKETING"
    assert category_at([CategoryChange(None, "MARKETING", 1000)], "MARKETING", 10) == "MARKETING"


def test_an_announced_category_change_is_news_only_until_its_time() -> None:
    review = TemplateReview("GREEN", "MARKETING", 1775044800)

    assert review.upcoming(1774958400) == {"category": "MARKETING", "at": 1775044800}
    assert review.upcoming(1775044800) is None
    assert TemplateReview("GREEN", None, None).upcoming(0) is None
    assert TemplateReview(None, "MARKETING", None).upcoming(0) == {"category": "MARKETING", "at": None}


def test_an_impending_notice_is_told_apart_from_a_completed_one() -> None:
    impending, completed = parse_webhook(load("template_category_update")).template_category_updates

    assert isinstance(impending, TemplateCategoryUpdate)
    assert impending.impending
    assert (impending.new_category, impending.correct_category) == ("UTILITY", "MARKETING")
    assert not completed.impending
    assert (completed.previous_category, completed.new_category) == ("UTILITY", "MARKETING")


def amendment(kind: str, at: int, text: str | None = None) -> Any:
    return SimpleNamespace(kind=kind, wa_timestamp=at, text=text)


def test_agents_see_the_newest_edit_beside_the_original() -> None:
    message = {"id": 1, "text": "Llegamos el 11", "direction": "inbound"}

    shown = amended(message, [amendment("edit", 20, "el 13"), amendment("edit", 10, "el 12")])

    assert shown == {**message, "edited": {"text": "el 13", "at": 20}, "deleted": False, "deleted_at": None}
    assert amended(message, []) == {**message, "edited": None, "deleted": False, "deleted_at": None}


def test_a_deleted_message_serves_neither_its_text_nor_its_edits() -> None:
    message = {"id": 1, "text": "mi DNI es 12345678Z", "direction": "inbound"}

    shown = amended(message, [amendment("edit", 10, "mi DNI es 1234"), amendment("revoke", 30)])

    assert shown == {**message, "text": None, "edited": None, "deleted": True, "deleted_at": 30}
