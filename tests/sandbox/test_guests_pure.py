"""The guest API's pure parts: who a guest is (phone number, BSUID or both), what can be a message, and the
webhooks built for guests with a username."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.catalog import Catalog
from sandbox.guests import inbound_preview, message_of, sender_of
from sandbox.identities import Identities, Identity, IdentityConflictError, is_bsuid, is_parent_bsuid
from sandbox.placeholders import placeholder
from sandbox.webhooks import guest_message, inbound_webhook

CATALOG = Catalog.load()
MIRADOR = CATALOG.numbers["1000000001"]
LUCIA = "34612345678"
BSUID = "US.13491208655302741918"
PARENT = "US.ENT.11815799212886844830"


@pytest.mark.parametrize(
    ("value", "regular", "parent"),
    [
        (BSUID, True, False),
        ("ES.1349120865", True, False),
        ("CC.abcXYZ09", True, False),
        (PARENT, False, True),
        ("us.1349", False, False),
        ("US1349", False, False),
        ("US.", False, False),
        ("US." + "1" * 129, False, False),
        ("34612345678", False, False),
        (None, False, False),
    ],
)
def test_bsuids_are_a_country_code_a_period_and_up_to_128_letters_or_digits(
    value: Any, regular: bool, parent: bool
) -> None:
    assert is_bsuid(value) is regular
    assert is_parent_bsuid(value) is parent


def test_a_guest_seen_with_both_ids_is_one_guest_under_the_first_id() -> None:
    identities = Identities()
    key = identities.record(Identity(user_id=BSUID, username="@marta", name="Marta"))
    assert key == BSUID
    assert identities.record(Identity(wa_id="34600111222", user_id=BSUID, name="Marta R.")) == BSUID
    assert identities.key_of("34600111222") == identities.key_of(BSUID) == BSUID
    assert identities.known(BSUID) == Identity(wa_id="34600111222", user_id=BSUID, username="@marta", name="Marta R.")
    assert identities.record(Identity(wa_id="34600111222")) == BSUID


def test_a_phone_guest_who_shows_a_bsuid_keeps_the_phone_as_key() -> None:
    identities = Identities()
    assert identities.record(Identity(wa_id=LUCIA, name="Lucía")) == LUCIA
    assert identities.record(Identity(wa_id=LUCIA, user_id="ES.1349", parent_user_id="ES.ENT.77")) == LUCIA
    assert identities.key_of("ES.ENT.77") == LUCIA
    assert identities.key_of("ES.9") is None
    assert identities.key_of(None) is None


@pytest.mark.parametrize(
    "clash",
    [
        Identity(wa_id=LUCIA, user_id="ES.2"),
        Identity(wa_id="34699999999", user_id="ES.1"),
        Identity(wa_id=LUCIA, user_id="ES.9"),
    ],
)
def test_ids_of_different_guests_are_never_merged(clash: Identity) -> None:
    identities = Identities()
    identities.record(Identity(wa_id=LUCIA, user_id="ES.1"))
    identities.record(Identity(user_id="ES.9"))
    with pytest.raises(IdentityConflictError):
        identities.record(clash)
    assert identities.known(LUCIA) == Identity(wa_id=LUCIA, user_id="ES.1")
    assert identities.key_of("34699999999") is None


def test_an_identity_without_any_id_is_refused() -> None:
    with pytest.raises(ValueError, match="phone number"):
        Identities().record(Identity(name="nobody"))


def test_the_path_and_the_body_name_the_sender() -> None:
    assert sender_of(LUCIA, {}, CATALOG) == Identity(wa_id=LUCIA, name="Lucía Fernández")
    assert sender_of(BSUID, {"username": "@pablo", "name": "Pablo"}, CATALOG) == Identity(
        user_id=BSUID, username="@pablo", name="Pablo"
    )
    assert sender_of(BSUID, {"phone": "+34600111222", "parent_user_id": PARENT}, CATALOG) == Identity(
        wa_id="34600111222", user_id=BSUID, parent_user_id=PARENT, name="Guest 1918"
    )
    assert sender_of(LUCIA, {"user_id": BSUID, "username": "@lucia"}, CATALOG) == Identity(
        wa_id=LUCIA, user_id=BSUID, username="@lucia", name="Lucía Fernández"
    )


def test_a_sample_guest_with_a_username_brings_it() -> None:
    marta = next(g for g in CATALOG.guests if g.user_id)
    assert sender_of(marta.user_id, {}, CATALOG) == Identity(
        user_id=marta.user_id, username=marta.username, name=marta.name
    )


@pytest.mark.parametrize(
    ("guest_id", "body", "fragment"),
    [
        ("abc", {}, "neither the guest's number in digits"),
        (PARENT, {}, "neither"),
        (LUCIA, {"phone": LUCIA}, "phone is for a guest named by a business-scoped user id"),
        (BSUID, {"user_id": BSUID}, "user_id is for a guest named by phone number"),
        (BSUID, {"phone": "12"}, "phone must be 6-15 digits"),
        (LUCIA, {"user_id": "ES-1"}, "user_id must be a business-scoped user id"),
        (BSUID, {"parent_user_id": BSUID}, "parent_user_id must be CC.ENT"),
        (LUCIA, {"username": "@lucia"}, "a username or parent_user_id comes with a user_id"),
        (LUCIA, {"parent_user_id": PARENT}, "comes with a user_id"),
        (LUCIA, {"name": ""}, "name must be a non-empty string"),
        (LUCIA, {"username": 7}, "username must be a non-empty string"),
    ],
)
def test_impossible_senders_are_explained(guest_id: str, body: dict[str, Any], fragment: str) -> None:
    refusal = sender_of(guest_id, body, CATALOG)
    assert isinstance(refusal, str)
    assert fragment in refusal


@pytest.mark.parametrize(
    "message",
    [
        {"type": "revoke", "revoke": {"original_message_id": "wamid.X"}},
        {"type": "edit", "edit": {"original_message_id": "wamid.X", "message": {"type": "text", "text": {}}}},
        {"type": "unsupported"},
        {"type": "interactive", "errors": [{"code": 131051}]},
        {"type": "hologram", "hologram": [1, 2]},
        {"type": "text"},
        {"type": "image", "image": "not an object"},
    ],
)
def test_any_object_with_a_type_is_a_message_and_has_a_preview(message: dict[str, Any]) -> None:
    assert message_of({"message": message}) == message
    assert isinstance(inbound_preview(message), str)


@given(
    st.dictionaries(st.text(max_size=8), st.none() | st.text(max_size=8) | st.integers(), max_size=4),
    st.text(min_size=1, max_size=10),
)
def test_previews_never_raise_whatever_the_object_holds(content: dict[str, Any], kind: str) -> None:
    assert isinstance(inbound_preview({"type": kind, kind: content}), str)
    assert isinstance(inbound_preview({"type": kind, kind: list(content)}), str)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, 'give "text"'),
        ({"text": ""}, 'give "text"'),
        ({"message": ["text"]}, "must be a JSON object"),
        ({"message": {"text": {"body": "hola"}}}, 'needs a "type" string'),
        ({"message": {"type": ""}}, 'needs a "type" string'),
        ({"text": "hola", "reply_to": ""}, "reply_to must be"),
    ],
)
def test_what_cannot_be_a_message_is_explained(body: dict[str, Any], fragment: str) -> None:
    refusal = message_of(body)
    assert isinstance(refusal, str)
    assert fragment in refusal


def test_a_bsuid_guests_message_has_from_user_id_and_no_from() -> None:
    sender = Identity(user_id=BSUID, parent_user_id=PARENT, username="@pablo", name="Pablo")
    replayed = {"from": "1", "from_user_id": "XX.1", "id": "wamid.OLD", "timestamp": "1", "type": "text", "text": {}}
    message = guest_message(replayed, sender, "wamid.NEW", 1795000000.2, context_id="wamid.Q")
    assert message == {
        "from_user_id": BSUID,
        "from_parent_user_id": PARENT,
        "id": "wamid.NEW",
        "timestamp": "1795000000",
        "type": "text",
        "text": {},
        "context": {"id": "wamid.Q"},
    }
    [value] = [change["value"] for change in inbound_webhook(MIRADOR, sender, message)["entry"][0]["changes"]]
    assert value["contacts"] == [
        {"profile": {"name": "Pablo", "username": "@pablo"}, "user_id": BSUID, "parent_user_id": PARENT}
    ]


def test_a_guest_with_both_ids_shows_both_and_a_plain_guest_shows_as_before() -> None:
    both = Identity(wa_id=LUCIA, user_id=BSUID, name="Lucía")
    message = guest_message({"type": "text", "text": {"body": "Hola"}}, both, "wamid.X", 0)
    assert (message["from"], message["from_user_id"]) == (LUCIA, BSUID)
    value = inbound_webhook(MIRADOR, both, message)["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Lucía"}, "wa_id": LUCIA, "user_id": BSUID}]
    plain = Identity(wa_id=LUCIA, name="Lucía")
    value = inbound_webhook(MIRADOR, plain, guest_message({"type": "text", "text": {}}, plain, "wamid.Y", 0))
    assert value["entry"][0]["changes"][0]["value"]["contacts"] == [{"profile": {"name": "Lucía"}, "wa_id": LUCIA}]


def test_system_messages_come_without_contacts_as_meta_sends_them() -> None:
    lucia = Identity(wa_id=LUCIA, name="Lucía")
    system = guest_message({"type": "system", "system": {"type": "user_changed_number"}}, lucia, "wamid.S", 0)
    value = inbound_webhook(MIRADOR, lucia, system)["entry"][0]["changes"][0]["value"]
    assert "contacts" not in value
    assert value["messages"] == [system]


@pytest.mark.parametrize(
    ("mime", "signature"),
    [
        ("image/png", b"\x89PNG"),
        ("image/jpeg", b"\xff\xd8\xff"),
        ("IMAGE/WEBP", b"RIFF"),
        ("application/pdf", b"%PDF"),
        ("audio/ogg; codecs=opus", b"Placeholder audio/ogg"),
        ("", b"Placeholder file"),
    ],
)
def test_placeholder_media_carries_the_claimed_types_bytes(mime: str, signature: bytes) -> None:
    assert placeholder(mime).startswith(signature)
