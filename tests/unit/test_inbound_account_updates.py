"""The webhook fields outside conversations, on Meta-shaped fixtures: guests' marketing preferences
(`user_preferences`), template quality scores and categories, and account events (`account_update`); what
cannot be read stays unknown, raw; and hypothesis runs of 2026-shaped JSON that never make the parser raise."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudapi.inbound import (
    AccountRestriction,
    AccountUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    UserPreference,
    VolumeTier,
    WebhookBatch,
    parse_webhook,
)
from tests.unit.inbound_support import (
    GUEST,
    GUEST_BSUID,
    PNID,
    USERNAME_GUEST_BSUID,
    USERNAME_GUEST_PARENT_BSUID,
    WABA,
    load,
)

TEMPLATE_ID = "1689556908129832"


def only_kind(name: str, kind: str) -> tuple[Any, ...]:
    """The items of one kind in a fixture, checking that the batch holds nothing else."""
    batch = parse_webhook(load(name))
    items = getattr(batch, kind)
    assert batch == WebhookBatch(**{kind: items})
    return items


def first_value(payload: Any) -> Any:
    return payload["entry"][0]["changes"][0]["value"]


# --- user_preferences ------------------------------------------------------------------------------------------


def test_marketing_preferences_by_number_and_by_bsuid() -> None:
    stop, resume = only_kind("user_preferences", "preferences")
    assert stop == UserPreference(
        waba_id=WABA,
        phone_number_id=PNID,
        wa_id=GUEST,
        user_id=GUEST_BSUID,
        category="marketing_messages",
        value="stop",
        detail="User requested to stop marketing messages",
        timestamp=1774958400,
    )
    assert (stop.stops_marketing, stop.resumes_marketing) == (True, False)
    assert (resume.wa_id, resume.user_id, resume.parent_user_id) == (
        None,
        USERNAME_GUEST_BSUID,
        USERNAME_GUEST_PARENT_BSUID,
    )
    assert (resume.stops_marketing, resume.resumes_marketing) == (False, True)


def test_a_preference_without_its_guest_is_completed_from_the_contacts() -> None:
    """pywa's fixture: the item leaves the guest out, the change's lone contacts entry names them."""
    payload = load("user_preferences")
    del first_value(payload)["user_preferences"][0]["wa_id"], first_value(payload)["user_preferences"][0]["user_id"]
    stop = parse_webhook(payload).preferences[0]
    assert (stop.wa_id, stop.user_id) == (GUEST, GUEST_BSUID)


def test_a_value_meta_adds_is_kept_as_it_came() -> None:
    payload = load("user_preferences")
    first_value(payload)["user_preferences"][0]["value"] = "signup"
    signup = parse_webhook(payload).preferences[0]
    assert signup.value == "signup"
    assert not signup.stops_marketing
    assert not signup.resumes_marketing


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda value: value.pop("user_preferences"), "no user_preferences"),
        (lambda value: value["user_preferences"][0].pop("category"), "preference lacks category or value"),
        (lambda value: value["user_preferences"].__setitem__(0, "stop"), "preference is not an object"),
        (
            lambda value: [value["user_preferences"][0].pop(k) for k in ("wa_id", "user_id")] + [value.pop("contacts")],
            "preference names no guest (wa_id, user_id or contacts)",
        ),
    ],
)
def test_unreadable_preferences_stay_unknown(change: Any, reason: str) -> None:
    payload = load("user_preferences")
    change(first_value(payload))
    batch = parse_webhook(payload)
    [unknown] = batch.unknown
    assert (unknown.field, unknown.reason) == ("user_preferences", reason)
    assert len(batch.preferences) == 1


# --- templates --------------------------------------------------------------------------------------------------


def test_template_quality_update() -> None:
    [update] = only_kind("template_quality_update", "template_quality_updates")
    assert update == TemplateQualityUpdate(
        waba_id=WABA,
        time=1774958400,
        template_id=TEMPLATE_ID,
        name="booking_reminder",
        language="es_ES",
        previous_score="GREEN",
        new_score="YELLOW",
    )


def test_a_quality_update_under_the_status_field_is_a_quality_update() -> None:
    """Meta's own reference example sends it with `field: message_template_status_update`."""
    payload = load("template_quality_update")
    payload["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    batch = parse_webhook(payload)
    assert batch.template_quality_updates == parse_webhook(load("template_quality_update")).template_quality_updates
    assert batch.template_updates == batch.unknown == ()


def test_impending_and_completed_category_changes() -> None:
    impending, completed = only_kind("template_category_update", "template_category_updates")
    assert impending == TemplateCategoryUpdate(
        waba_id=WABA,
        time=1774958400,
        template_id=TEMPLATE_ID,
        name="booking_reminder",
        language="es_ES",
        new_category="UTILITY",
        correct_category="MARKETING",
        update_timestamp=1775044800,
    )
    assert impending.impending
    assert (completed.previous_category, completed.new_category, completed.impending) == (
        "UTILITY",
        "MARKETING",
        False,
    )


@pytest.mark.parametrize(
    ("fixture", "key", "reason"),
    [
        ("template_quality_update", "new_quality_score", "template quality update without new_quality_score"),
        ("template_category_update", "new_category", "template category update without new_category or "),
        ("account_update", "event", "account update without event"),
    ],
)
def test_updates_without_what_they_are_about_stay_unknown(fixture: str, key: str, reason: str) -> None:
    payload = load(fixture)
    del first_value(payload)[key]
    first_value(payload).pop("correct_category", None)
    [unknown, *_] = parse_webhook(payload).unknown
    assert unknown.path == "entry[0].changes[0]"
    assert unknown.reason.startswith(reason)
    assert unknown.raw == first_value(payload)


@pytest.mark.parametrize(
    "field", ["message_template_quality_update", "template_category_update", "account_update", "user_preferences"]
)
@pytest.mark.parametrize("value", [None, [], "x", 3])
def test_a_value_that_is_not_an_object_stays_unknown(field: str, value: Any) -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": field, "value": value}]}],
    }
    [unknown] = parse_webhook(payload).unknown
    assert (unknown.field, unknown.raw) == (field, value)


# --- account_update -----------------------------------------------------------------------------------------------


def test_account_updates() -> None:
    payload = load("account_update")
    disabled, violation, restriction, tier, country, partner = only_kind("account_update", "account_updates")
    assert disabled == AccountUpdate(
        waba_id=WABA,
        time=1774958400,
        event="DISABLED_UPDATE",
        raw=first_value(payload),
        ban_state="SCHEDULE_FOR_DISABLE",
        ban_date="April 17, 2026",
    )
    assert (violation.event, violation.violation_type) == ("ACCOUNT_VIOLATION", "SCAM")
    assert restriction.restrictions == (
        AccountRestriction("RESTRICTED_BIZ_INITIATED_MESSAGING", 1775563200),
        AccountRestriction("RESTRICTED_ADD_PHONE_NUMBER_ACTION", 1775563200),
    )
    assert tier.volume_tier == VolumeTier("UTILITY", "100001:500000", "2026-04", "Spain", 1774958403)
    assert country.country == "ES"
    assert partner.event == "PARTNER_ADDED"
    assert partner.raw["waba_info"]["owner_business_id"] == "2329417887457253"
    assert [u.time for u in (disabled, violation, restriction, tier, country, partner)] == list(
        range(1774958400, 1774958406)
    )


def test_an_unknown_account_event_is_kept_with_its_raw_value() -> None:
    payload = load("account_update")
    first_value(payload).clear()
    first_value(payload).update({"event": "SOMETHING_NEW", "new_info": {"a": 1}})
    update = parse_webhook(payload).account_updates[0]
    assert update == AccountUpdate(WABA, 1774958400, "SOMETHING_NEW", {"event": "SOMETHING_NEW", "new_info": {"a": 1}})


def test_broken_restrictions_are_left_out() -> None:
    payload = load("account_update")
    restrictions = payload["entry"][2]["changes"][0]["value"]["restriction_info"]
    restrictions[0] = "RESTRICTED"
    del restrictions[1]["restriction_type"]
    assert parse_webhook(payload).account_updates[2].restrictions == ()


# --- nothing 2026-shaped makes the parser raise -----------------------------------------------------------------

FIELDS = st.sampled_from(
    ["messages", "user_preferences", "message_template_status_update", "message_template_quality_update",
     "template_category_update", "account_update"]
)  # fmt: skip
KEYS = st.sampled_from(
    ["contacts", "messages", "statuses", "user_preferences", "metadata", "phone_number_id", "profile", "name",
     "username", "wa_id", "user_id", "parent_user_id", "from", "from_user_id", "from_parent_user_id", "id",
     "timestamp", "type", "text", "body", "edit", "revoke", "original_message_id", "message", "system",
     "previous_user_id", "status", "recipient_user_id", "recipient_parent_user_id", "category", "value", "event",
     "new_quality_score", "new_category", "correct_category", "ban_info", "restriction_info", "restriction_type",
     "volume_tier_info", "violation_info"]
)  # fmt: skip
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["text", "edit", "revoke", "system", "stop", "marketing_messages", "ES.1349", "1751371200"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=50,
)  # fmt: skip


@given(field=FIELDS, value=VALUES, time=VALUES)
def test_never_raises_on_2026_shaped_changes(field: str, value: Any, time: Any) -> None:
    payload = {"object": "whatsapp_business_account", "entry": [{"id": WABA, "time": time, "changes": [
        {"field": field, "value": value}]}]}  # fmt: skip
    batch = parse_webhook(payload)
    assert isinstance(batch, WebhookBatch)
    assert all(m.wa_id or m.user_id for m in batch.messages)
    assert all(p.wa_id or p.user_id for p in batch.preferences)
