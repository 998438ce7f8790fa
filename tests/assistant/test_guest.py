"""What the actions read from the channel's metadata, and which texts carry the guest's own words."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actions.guest import MAX_NAME_LENGTH, Guest, last_message_timestamp, typed_text

CHANNEL_METADATA = {
    "waba_id": "2000000001",
    "phone_number_id": "1000000001",
    "display_phone_number": "34952000001",
    "wa_id": "34612345678",
    "user_id": None,
    "profile_name": "Lucía Fernández",
    "message_id": "wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQzQUY",
    "timestamp": 1795000000,
    "type": "text",
    "text": {"body": "hola"},
}


def test_reads_the_channels_metadata() -> None:
    guest = Guest.from_metadata(CHANNEL_METADATA)
    assert guest == Guest(wa_id="34612345678", phone_number_id="1000000001", profile_name="Lucía Fernández")
    assert guest.first_name == "Lucía"


@pytest.mark.parametrize("metadata", [None, {}, {"profile_name": None, "wa_id": 34612345678}, "not a mapping"])
def test_missing_or_odd_metadata_gives_an_unknown_guest(metadata: Any) -> None:
    assert Guest.from_metadata(metadata) == Guest(wa_id=None, phone_number_id=None, profile_name=None)


@pytest.mark.parametrize(
    ("profile_name", "first_name"),
    [
        ("Oliver Bennett", "Oliver"),
        ("  Sophie  ", "Sophie"),
        ("🌴 Ana", "🌴"),
        ("\u200e\u200fMaría\u202e José", "María"),  # direction marks are format characters, not name
        ("\u200e\u200f", None),
        ("   ", None),
        ("A" * 100, "A" * MAX_NAME_LENGTH),
    ],
)
def test_first_name(profile_name: str, first_name: str | None) -> None:
    assert Guest.from_metadata({"profile_name": profile_name}).first_name == first_name


@given(st.text())
def test_first_name_is_short_printable_and_one_word(profile_name: str) -> None:
    name = Guest.from_metadata({"profile_name": profile_name}).first_name
    if name is not None:
        assert 0 < len(name) <= MAX_NAME_LENGTH
        assert name.split() == [name]
        assert name.isprintable()


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("hola", "hola"),
        ("/share_location", ""),
        ('/request_human{"x": 1}', ""),
        ("EXTERNAL: EXTERNAL_payment_request", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_typed_text(text: str | None, typed: str) -> None:
    assert typed_text(text) == typed


@pytest.mark.parametrize(
    ("sender_id", "metadata", "expected"),
    [
        ("1000000002:34612345678", None, Guest("34612345678", "1000000002", None)),
        ("1000000002:34612345678", CHANNEL_METADATA, Guest("34612345678", "1000000001", "Lucía Fernández")),
        ("default", None, Guest(None, None, None)),
        ("rest:abc", None, Guest(None, None, None)),
    ],
)
def test_the_conversation_names_the_hotel_and_the_guest_when_metadata_does_not(
    sender_id: str, metadata: dict[str, Any] | None, expected: Guest
) -> None:
    assert Guest.of_conversation(sender_id, metadata) == expected


def test_the_last_message_timestamp_skips_triggered_intents_and_bot_events() -> None:
    events = [
        {"event": "user", "metadata": {"timestamp": 1795000000}},
        {"event": "bot", "metadata": {"timestamp": 1795009999}},
        {"event": "user", "metadata": {"timestamp": "1795000100"}},
        {"event": "user", "text": "EXTERNAL: EXTERNAL_payment_request", "metadata": {}},
    ]
    assert last_message_timestamp(events) == 1795000100
    assert last_message_timestamp(events[-1:]) is None
    assert last_message_timestamp([]) is None
