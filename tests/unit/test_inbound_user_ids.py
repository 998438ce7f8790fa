"""Guests known by a business-scoped user id (BSUID) from 2026, on Meta-shaped fixtures: username guests
without a phone number, parent ids, statuses addressed to a BSUID, the two identity-change system messages,
and which id keys a conversation (`cloudapi.user_ids`)."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudapi.inbound import DeliveryStatus, InboundMessage, StatusUpdate, System, parse_webhook
from cloudapi.user_ids import conversation_key, is_bsuid
from tests.unit.inbound_support import (
    GUEST,
    GUEST_BSUID,
    GUEST_PARENT_BSUID,
    USERNAME_GUEST_BSUID,
    USERNAME_GUEST_PARENT_BSUID,
    load,
    wamid,
)

NEW_BSUID = "ES.20581934476610235547"
NEW_PARENT_BSUID = "ES.ENT.30917746120558823014"


def messages_of(name: str) -> tuple[InboundMessage, ...]:
    batch = parse_webhook(load(name))
    assert batch.unknown == ()
    return batch.messages


def first_message(payload: Any) -> Any:
    return payload["entry"][0]["changes"][0]["value"]["messages"][0]


# --- guests with a username ----------------------------------------------------------------------------------


def test_a_username_guest_without_a_phone_number() -> None:
    without_number, with_number = messages_of("bsuid_username")
    assert (without_number.wa_id, without_number.user_id) == (None, USERNAME_GUEST_BSUID)
    assert without_number.parent_user_id == USERNAME_GUEST_PARENT_BSUID
    assert (without_number.profile_name, without_number.username) == ("Sheena Nelson", "@sheena.viaja")
    assert (with_number.wa_id, with_number.user_id, with_number.parent_user_id) == (
        GUEST,
        GUEST_BSUID,
        GUEST_PARENT_BSUID,
    )
    assert (with_number.profile_name, with_number.username) == ("Lucía", "@lucia.madrid")


def test_each_message_is_named_from_its_own_contacts_entry() -> None:
    payload = load("bsuid_username")
    payload["entry"][0]["changes"][0]["value"]["contacts"].reverse()
    assert [m.username for m in parse_webhook(payload).messages] == ["@sheena.viaja", "@lucia.madrid"]


def test_the_ids_missing_from_a_message_come_from_its_contacts_entry() -> None:
    payload = load("bsuid_username")
    item = payload["entry"][0]["changes"][0]["value"]["messages"][1]
    del item["from"], item["from_parent_user_id"]
    message = parse_webhook(payload).messages[1]
    assert (message.wa_id, message.user_id, message.parent_user_id) == (GUEST, GUEST_BSUID, GUEST_PARENT_BSUID)


def test_a_username_beside_the_profile_is_read_too() -> None:
    payload = load("bsuid_username")
    contact = payload["entry"][0]["changes"][0]["value"]["contacts"][0]
    contact["username"] = contact["profile"].pop("username")
    assert parse_webhook(payload).messages[0].username == "@sheena.viaja"


def test_a_guest_without_a_username_has_none() -> None:
    message = messages_of("text")[0]
    assert (message.username, message.parent_user_id) == (None, None)


# --- statuses of messages sent to a BSUID --------------------------------------------------------------------


def test_statuses_name_the_recipient_by_bsuid_and_its_parent_in_all_three_spellings() -> None:
    batch = parse_webhook(load("status_bsuid"))
    assert batch.unknown == ()
    delivered, read, sent, failed = batch.statuses
    for status in (delivered, read):
        assert (status.recipient_id, status.recipient_user_id) == (None, USERNAME_GUEST_BSUID)
        assert status.recipient_parent_user_id == USERNAME_GUEST_PARENT_BSUID
    assert (sent.recipient_id, sent.recipient_user_id, sent.recipient_parent_user_id) == (
        GUEST,
        GUEST_BSUID,
        GUEST_PARENT_BSUID,
    )
    assert failed.status is DeliveryStatus.FAILED
    assert (failed.recipient_id, failed.recipient_user_id, failed.recipient_parent_user_id) == (
        None,
        USERNAME_GUEST_BSUID,
        None,
    )
    assert [error.code for error in failed.errors] == [131062]


def test_a_status_without_any_recipient_is_kept() -> None:
    payload = load("status_bsuid")
    del payload["entry"][0]["changes"][1]["value"]["statuses"][0]["recipient_user_id"]
    failed = parse_webhook(payload).statuses[-1]
    assert isinstance(failed, StatusUpdate)
    assert (failed.recipient_id, failed.recipient_user_id) == (None, None)


def test_statuses_before_bsuids_have_none() -> None:
    sent = parse_webhook(load("statuses")).statuses[0]
    assert (sent.recipient_user_id, sent.recipient_parent_user_id) == (None, None)


# --- identity changes ------------------------------------------------------------------------------------------


def test_user_changed_number_gives_the_new_number_and_the_new_bsuid() -> None:
    [message] = messages_of("system_user_changed_number")
    assert message.wa_id == GUEST
    assert message.content == System(
        body="User Lucía changed from 34612345678 to 34699999999",
        kind="user_changed_number",
        new_wa_id="34699999999",
        new_user_id=NEW_BSUID,
        new_parent_user_id=NEW_PARENT_BSUID,
    )


def test_user_changed_user_id_gives_the_new_bsuid_without_a_number() -> None:
    [message] = messages_of("system_user_changed_user_id")
    assert (message.wa_id, message.user_id, message.message_id) == (None, GUEST_BSUID, wamid("SYU"))
    assert message.content == System(
        body=f"User Lucía changed from {GUEST_BSUID} to {NEW_BSUID}",
        kind="user_changed_user_id",
        new_user_id=NEW_BSUID,
        new_parent_user_id=NEW_PARENT_BSUID,
    )


def test_user_changed_user_id_may_name_the_guest_by_the_previous_id_only() -> None:
    """pywa's fixture of this notice: neither `from` nor `from_user_id`, the old id in `system`."""
    payload = load("system_user_changed_user_id")
    item = first_message(payload)
    del item["from_user_id"]
    item["system"]["previous_user_id"] = GUEST_BSUID
    [message] = parse_webhook(payload).messages
    assert message.user_id == GUEST_BSUID
    assert isinstance(message.content, System)
    assert (message.content.previous_user_id, message.content.new_user_id) == (GUEST_BSUID, NEW_BSUID)


def test_only_a_system_message_is_named_by_a_previous_user_id() -> None:
    payload = load("bsuid_username")
    item = first_message(payload)
    del item["from_user_id"]
    item["system"] = {"previous_user_id": USERNAME_GUEST_BSUID}
    payload["entry"][0]["changes"][0]["value"]["contacts"].append({"user_id": "ES.1"})
    [unknown] = parse_webhook(payload).unknown
    assert "sender" in unknown.reason


# --- which id keys a conversation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wa_id", "user_id", "key"),
    [(GUEST, GUEST_BSUID, GUEST), (None, GUEST_BSUID, GUEST_BSUID), (GUEST, None, GUEST), (None, None, None)],
)
def test_the_conversation_key_is_the_number_when_known(wa_id: str | None, user_id: str | None, key: str | None) -> None:
    assert conversation_key(wa_id, user_id) == key


def test_every_fixture_message_has_a_conversation_key() -> None:
    for name in ("bsuid_username", "bsuid_only", "system_user_changed_user_id", "text"):
        assert all(conversation_key(m.wa_id, m.user_id) for m in messages_of(name))


@pytest.mark.parametrize(
    "value",
    [GUEST_BSUID, GUEST_PARENT_BSUID, "US.13491208655302741918", "BR.1502576394655843", "ES.1", "ES." + "a1" * 64],
)
def test_bsuids(value: str) -> None:
    assert is_bsuid(value)


@pytest.mark.parametrize(
    "value",
    [GUEST, "+34612345678", "", "ES.", "ES", "es.1349", "ESP.1349", "ES.ENT.", "ES.13-49", " ES.1349", "ES.1349\n",
     "ES." + "1" * 129, "uUS.13491208655302741918", "120363025246125486@g.us"],
)  # fmt: skip
def test_not_bsuids(value: str) -> None:
    assert not is_bsuid(value)


@given(number=st.from_regex(r"\+?[0-9]{6,15}", fullmatch=True))
def test_no_phone_number_is_a_bsuid(number: str) -> None:
    assert not is_bsuid(number)


@given(
    country=st.from_regex(r"[A-Z]{2}", fullmatch=True),
    parent=st.booleans(),
    body=st.from_regex(r"[A-Za-z0-9]{1,128}", fullmatch=True),
)
def test_every_bsuid_of_meta_s_form_is_one(country: str, parent: bool, body: str) -> None:
    assert is_bsuid(f"{country}.{'ENT.' if parent else ''}{body}")
