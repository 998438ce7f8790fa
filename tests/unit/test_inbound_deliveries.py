"""The webhook parser on whole deliveries: batches, statuses, errors, template updates, bodies and items of
the wrong shape, and hypothesis runs showing that no input makes the parser raise."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudapi.errors import ErrorInfo
from cloudapi.inbound import Conversation, DeliveryStatus, Pricing, Unknown, WebhookBatch, parse_webhook
from connectors.whatsapp.bot_input import rasa_metadata, rasa_text
from tests.unit.inbound_support import ALL_FIXTURES, GUEST, PNID, WABA, load, wamid

# --- batches, statuses, errors, templates, unknowns ----------------------------------------------------------


def test_batched_delivery_reads_every_entry_change_and_item() -> None:
    batch = parse_webhook(load("batched"))
    assert batch.unknown == ()
    assert [m.message_id for m in batch.messages] == [wamid(f"B{i}") for i in range(1, 8)]
    assert [m.wa_id for m in batch.messages] == [GUEST, "34622222222", GUEST] + ["447700900123"] * 4
    assert [m.profile_name for m in batch.messages] == ["Lucía", "Pedro", "Lucía"] + ["Oliver"] * 4
    assert [m.waba_id for m in batch.messages] == [WABA] * 3 + ["102290129340399"] * 4
    assert [m.phone_number_id for m in batch.messages] == [PNID] * 3 + ["106540352242999"] * 4
    assert [m.type for m in batch.messages] == ["text", "text", "location", "text", "reaction", "image", "text"]
    assert [s.status for s in batch.statuses] == [DeliveryStatus.DELIVERED, DeliveryStatus.READ]
    assert all(s.phone_number_id == PNID for s in batch.statuses)


def test_statuses() -> None:
    batch = parse_webhook(load("statuses"))
    assert batch.messages == ()
    assert batch.unknown == ()
    sent, delivered, read, failed, played, deleted = batch.statuses
    assert sent.status is DeliveryStatus.SENT
    assert sent.timestamp == 1751371205
    assert sent.recipient_id == GUEST
    assert sent.biz_opaque_callback_data == "reminder-42"
    assert sent.conversation == Conversation("8f842dbba350821654c9dfed31f5635c", 1751457600, "utility")
    assert sent.pricing == Pricing(True, "PMP", "regular", "utility")
    assert delivered.status is DeliveryStatus.DELIVERED
    assert delivered.conversation is None
    assert delivered.pricing == Pricing(True, "PMP", "regular", "utility")
    assert read.status is DeliveryStatus.READ
    assert read.pricing is None
    assert failed.status is DeliveryStatus.FAILED
    [error] = failed.errors
    assert error.code == 131049
    assert error.details == "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
    assert played.status is DeliveryStatus.PLAYED
    assert deleted.status is DeliveryStatus.UNKNOWN
    assert deleted.raw_status == "deleted"
    assert {s.message_id for s in (sent, delivered, read)} == {sent.message_id}


def test_value_errors() -> None:
    batch = parse_webhook(load("value_errors"))
    [error] = batch.errors
    assert error.waba_id == WABA
    assert error.phone_number_id == PNID
    assert error.error == ErrorInfo(
        131000,
        "Something went wrong",
        "Something went wrong",
        "Unable to process webhook",
        "/documentation/business-messaging/whatsapp/support/error-codes",
    )
    assert batch.messages == batch.statuses == batch.unknown == ()


def test_template_status_update() -> None:
    batch = parse_webhook(load("template_status_update"))
    [update] = batch.template_updates
    assert update.waba_id == WABA
    assert update.time == 1751371200
    assert update.event == "APPROVED"
    assert update.template_id == "1689556908129832"
    assert (update.name, update.language, update.reason, update.category) == (
        "booking_reminder",
        "es_ES",
        "NONE",
        "UTILITY",
    )


def test_unknown_field_is_kept_raw() -> None:
    payload = load("unknown_field")
    batch = parse_webhook(payload)
    [unknown] = batch.unknown
    assert unknown.field == "phone_number_name_update"
    assert unknown.path == "entry[0].changes[0]"
    assert unknown.raw == payload["entry"][0]["changes"][0]["value"]
    assert batch.messages == batch.statuses == batch.errors == batch.template_updates == ()


@pytest.mark.parametrize(
    ("fixture", "kind"), [("body_list", "list"), ("body_string", "str"), ("body_null", "NoneType")]
)
def test_body_of_the_wrong_shape(fixture: str, kind: str) -> None:
    payload = load(fixture)
    batch = parse_webhook(payload)
    [unknown] = batch.unknown
    assert unknown.path == "$"
    assert kind in unknown.reason
    assert unknown.raw == payload
    assert batch == WebhookBatch(unknown=batch.unknown)


@pytest.mark.parametrize("payload", [{}, {"entry": {}}, {"object": "whatsapp_business_account", "entry": "x"}])
def test_object_without_entries(payload: dict[str, Any]) -> None:
    [unknown] = parse_webhook(payload).unknown
    assert unknown.path == "$"


def test_empty_entry_list_is_an_empty_batch() -> None:
    assert parse_webhook({"object": "whatsapp_business_account", "entry": []}) == WebhookBatch()


def test_broken_items_are_unknown_and_the_rest_is_kept() -> None:
    payload = load("batched")
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    del messages[0]["id"]
    messages[1] = "not a message"
    payload["entry"][0]["changes"][1]["value"]["statuses"][0]["timestamp"] = "soon"
    payload["entry"][1]["changes"].insert(0, 42)
    batch = parse_webhook(payload)
    assert len(batch.messages) == 5
    assert len(batch.statuses) == 1
    assert [(u.field, u.path) for u in batch.unknown] == [
        ("messages", "entry[0].changes[0].value.messages[0]"),
        ("messages", "entry[0].changes[0].value.messages[1]"),
        ("messages", "entry[0].changes[1].value.statuses[0]"),
        (None, "entry[1].changes[0]"),
    ]
    assert batch.unknown[1].raw == "not a message"


def test_message_without_any_sender_is_unknown() -> None:
    payload = load("bsuid_only")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["messages"][0]["from_user_id"]
    value["contacts"].append({"profile": {"name": "Other"}, "wa_id": "1"})
    [unknown] = parse_webhook(payload).unknown
    assert "sender" in unknown.reason


def test_messages_change_without_items_is_unknown() -> None:
    payload = load("text")
    del payload["entry"][0]["changes"][0]["value"]["messages"]
    [unknown] = parse_webhook(payload).unknown
    assert unknown.field == "messages"


def test_malformed_content_becomes_unknown_content() -> None:
    payload = load("location")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["location"]["latitude"] = "north"
    [message] = parse_webhook(payload).messages
    assert isinstance(message.content, Unknown)
    assert message.content.type == "location"
    assert rasa_text(message) == "/unsupported_message"


def test_unknown_interactive_type_becomes_unknown_content() -> None:
    payload = load("interactive_button_reply")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"] = {"type": "call_permission_reply"}
    [message] = parse_webhook(payload).messages
    assert message.content == Unknown("interactive", payload["entry"][0]["changes"][0]["value"]["messages"][0])


# --- nothing makes the parser raise ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=40,
)
META_KEYS = st.sampled_from(
    ["object", "entry", "id", "time", "changes", "field", "value", "messages", "statuses", "errors", "contacts",
     "metadata", "phone_number_id", "from", "timestamp", "type", "text", "body", "context", "referral", "status",
     "interactive", "button_reply", "image", "location", "latitude", "reaction", "emoji", "code", "event"]
)  # fmt: skip
META_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["messages", "text"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(META_KEYS, children, max_size=6),
    max_leaves=60,
)


def assert_usable(batch: WebhookBatch) -> None:
    assert isinstance(batch, WebhookBatch)
    for message in batch.messages:
        assert isinstance(rasa_text(message), str)
        json.dumps(rasa_metadata(message))


@given(payload=JSON)
def test_never_raises_on_arbitrary_json(payload: Any) -> None:
    assert_usable(parse_webhook(payload))


@given(payload=META_JSON)
def test_never_raises_on_meta_like_json(payload: Any) -> None:
    assert_usable(parse_webhook(payload))


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """`value` with some of its nodes replaced by arbitrary JSON, deleted, or left alone."""
    action = draw(st.sampled_from(["keep", "keep", "recurse", "recurse", "recurse", "replace"]))
    if action == "replace":
        return draw(JSON)
    if action == "keep" or not isinstance(value, dict | list):
        return value
    if isinstance(value, list):
        return [draw(mutated(item)) for item in value if draw(st.integers(0, 9)) != 0]
    result = {}
    for key, item in value.items():
        if draw(st.integers(0, 9)) == 0:
            continue
        result[key] = draw(mutated(item))
    return result


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(data=st.data(), fixture=st.sampled_from(ALL_FIXTURES))
def test_never_raises_on_mutated_fixtures(data: st.DataObject, fixture: str) -> None:
    payload = data.draw(mutated(load(fixture)))
    before = json.dumps(payload)
    assert_usable(parse_webhook(payload))
    assert json.dumps(payload) == before, "parsing must not change its input"


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=120)
@given(data=st.data(), fixture=st.sampled_from(ALL_FIXTURES))
def test_every_mutated_fixture_parses_into_a_batch(data: st.DataObject, fixture: str) -> None:
    """The parser alone, on every fixture (those the gateway cannot map yet included): no exception, its input
    untouched, and every guest message and preference names its guest."""
    payload = data.draw(mutated(load(fixture)))
    before = json.dumps(payload)
    batch = parse_webhook(payload)
    assert isinstance(batch, WebhookBatch)
    assert all(m.wa_id or m.user_id for m in batch.messages)
    assert all(p.wa_id or p.user_id for p in batch.preferences)
    assert json.dumps(payload) == before, "parsing must not change its input"
