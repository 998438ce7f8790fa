"""The webhook parser on golden Meta-shaped deliveries (tests/fixtures/webhooks), what Rasa gets from each
message, and hypothesis runs showing that no input makes the parser raise."""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudapi.errors import ErrorInfo
from cloudapi.inbound import (
    INTENT_TRIGGERS,
    Contact,
    ContactPhone,
    Contacts,
    Conversation,
    DeliveryStatus,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    MessageContext,
    Order,
    OrderItem,
    Pricing,
    Reaction,
    Referral,
    ReferredProduct,
    System,
    TemplateButton,
    Text,
    Unknown,
    Unsupported,
    WebhookBatch,
    parse_webhook,
    rasa_metadata,
    rasa_text,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"
PNID = "106540352242922"
WABA = "102290129340398"
GUEST = "34612345678"


def wamid(tag: str) -> str:
    """The message ids of the fixtures: a real wamid's shape with `tag` inside."""
    return f"wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQz{tag}QUFCQ0RFRjAxMjM0NTY3ODkwAA=="


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def only_message(name: str) -> InboundMessage:
    batch = parse_webhook(load(name))
    assert batch.unknown == ()
    [message] = batch.messages
    return message


# --- one fixture per inbound type (WHATSAPP.md §2) -------------------------------------------------------------

CONTENT_CASES = [
    ("text", Text("¿A qué hora es el check-in?"), "¿A qué hora es el check-in?"),
    (
        "image",
        Media(
            kind="image",
            media_id="1479537139650973",
            mime_type="image/jpeg",
            sha256="u6Yh7PbCRnRtxqAIaM3Dg8CPnSHuwI5+fO0ChjUmu0w=",
            caption="DNI",
            url="https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1479537139650973&ext=1751371500&hash=ATs",
        ),
        "DNI",
    ),
    (
        "audio_voice",
        Media(
            kind="audio",
            media_id="872650671438541",
            mime_type="audio/ogg; codecs=opus",
            sha256="k2mQ0Je7hS9sK3G6s8ZzTnb7KQ5T0V8Rr0mF3rJt7Hk=",
            voice=True,
        ),
        "/send_media",
    ),
    (
        "video",
        Media(
            kind="video",
            media_id="1050430559750040",
            mime_type="video/mp4",
            sha256="c2hhMjU2LXZpZGVvLWZpeHR1cmUtdmFsdWU=",
        ),
        "/send_media",
    ),
    (
        "document",
        Media(
            kind="document",
            media_id="1222984565399446",
            mime_type="application/pdf",
            sha256="grM2OHIMUiPQFLX7a/DcB0OGxm8XDVuIELS0ybHjTbw=",
            caption="pago",
            filename="factura.pdf",
        ),
        "pago",
    ),
    (
        "sticker",
        Media(
            kind="sticker",
            media_id="334609525785419",
            mime_type="image/webp",
            sha256="Om6cGT6z3JXr+bgQN0M5Ek4aW8cOoKx8FZ8xN9QGQaM=",
        ),
        "/send_media",
    ),
    (
        "location",
        Location(40.4168, -3.7038, "Hotel Sol", "Calle Mayor 1, 28013 Madrid", "https://hotelsol.example/"),
        "/share_location",
    ),
    (
        "contacts",
        Contacts(
            (
                Contact(
                    "Ana Ruiz",
                    (
                        ContactPhone("+34 600 111 222", "34600111222", "CELL"),
                        ContactPhone("+34 910 000 111", None, "WORK"),
                    ),
                ),
                Contact("Recepción", ()),
            )
        ),
        "/share_contact",
    ),
    (
        "interactive_button_reply",
        InteractiveReply("button_reply", "late_checkout", "Late check-out"),
        "late_checkout",
    ),
    (
        "interactive_list_reply",
        InteractiveReply("list_reply", '/choose_room{"room_type":"double"}', "Doble", "2 adultos"),
        '/choose_room{"room_type":"double"}',
    ),
    (
        "interactive_nfm_reply",
        InteractiveReply("nfm_reply", "flow", "Sent", response_json='{"flow_token":"abc","arrival":"2025-07-12"}'),
        "/unsupported_message",
    ),
    ("template_button", TemplateButton("CONFIRM_BOOKING", "Confirmar"), "CONFIRM_BOOKING"),
    (
        "reaction",
        Reaction(wamid("ORIG"), "👍"),
        "/react",
    ),
    (
        "reaction_removed",
        Reaction(wamid("ORIG"), ""),
        "/unsupported_message",
    ),
    (
        "order",
        Order("3541", (OrderItem("SPA", 2, 30.0, "EUR"), OrderItem("BREAKFAST", 1, 12.5, "EUR"))),
        "/place_order",
    ),
    (
        "system",
        System("User A changed from 34612345678 to 34699999999", "user_changed_number", "34699999999"),
        "/unsupported_message",
    ),
    ("unsupported", Unsupported("poll", (131051,)), "/unsupported_message"),
]


@pytest.mark.parametrize(("fixture", "content", "text"), CONTENT_CASES)
def test_each_inbound_type(fixture: str, content: object, text: str) -> None:
    message = only_message(fixture)
    assert message.content == content
    assert rasa_text(message) == text


@pytest.mark.parametrize("fixture", [name for name, _, _ in CONTENT_CASES])
def test_common_fields(fixture: str) -> None:
    message = only_message(fixture)
    assert message.waba_id == WABA
    assert message.phone_number_id == PNID
    assert message.display_phone_number == "34910000000"
    assert message.wa_id == GUEST
    assert message.message_id.startswith("wamid.")
    assert message.timestamp == 1751371200
    assert message.type == load(fixture)["entry"][0]["changes"][0]["value"]["messages"][0]["type"]


def test_profile_name_comes_from_the_matching_contact() -> None:
    assert only_message("text").profile_name == "Lucía"
    assert only_message("system").profile_name is None


def test_unsupported_keeps_the_error() -> None:
    message = only_message("unsupported")
    assert message.errors == (
        ErrorInfo(
            131051, "Message type unknown", "Message type unknown", "Message type is currently not supported.", None
        ),
    )


def test_unknown_message_type_keeps_the_raw_item() -> None:
    message = only_message("unknown_type")
    assert message.type == "hologram"
    assert message.content == Unknown(
        "hologram", load("unknown_type")["entry"][0]["changes"][0]["value"]["messages"][0]
    )
    assert rasa_text(message) == INTENT_TRIGGERS["unsupported"]


def test_reaction_removed_flag() -> None:
    content = only_message("reaction_removed").content
    assert isinstance(content, Reaction)
    assert content.removed
    content = only_message("reaction").content
    assert isinstance(content, Reaction)
    assert not content.removed


# --- context, referral, identity ----------------------------------------------------------------------------


def test_quoted_reply_context() -> None:
    message = only_message("text_reply")
    assert message.context == MessageContext(message_id=wamid("QUOTED"), sender="34910000000")
    assert rasa_text(message) == "Sí"


def test_forwarded_context() -> None:
    context = only_message("text_forwarded").context
    assert context == MessageContext(forwarded=True, frequently_forwarded=True)


def test_referred_product_context() -> None:
    context = only_message("text_referred_product").context
    assert context is not None
    assert context.referred_product == ReferredProduct("3541", "SPA")


def test_referral_from_an_ad() -> None:
    message = only_message("text_referral")
    assert message.referral == Referral(
        source_url="https://fb.me/3cr4Wqqkk",
        source_type="ad",
        source_id="120210000000000",
        headline="Verano en Madrid",
        body="-20% en habitaciones dobles",
        media_type="image",
        ctwa_clid="ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a",
    )
    assert message.context is None


def test_guest_with_only_a_business_scoped_user_id() -> None:
    message = only_message("bsuid_only")
    assert message.wa_id is None
    assert message.user_id == "ES.1349120865"
    assert message.profile_name == "Marta"


def test_sender_falls_back_to_the_contact_wa_id() -> None:
    message = only_message("from_missing_contact_wa_id")
    assert message.wa_id == GUEST
    assert message.profile_name == "Lucía"


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


# --- what Rasa gets -------------------------------------------------------------------------------------------


def test_intent_triggers_are_the_documented_ones() -> None:
    assert dict(INTENT_TRIGGERS) == {
        "location": "/share_location",
        "media": "/send_media",
        "reaction": "/react",
        "contacts": "/share_contact",
        "order": "/place_order",
        "unsupported": "/unsupported_message",
    }


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("/restart", "restart"), ('  //inform{"slot": "x"}', 'inform{"slot": "x"}'), ("a/b", "a/b"), ("¿Hola?", "¿Hola?")],
)
def test_guest_text_cannot_trigger_intents(typed: str, expected: str) -> None:
    payload = load("text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = typed
    [message] = parse_webhook(payload).messages
    assert rasa_text(message) == expected


def test_caption_cannot_trigger_intents() -> None:
    payload = load("image")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["caption"] = "/handoff"
    [message] = parse_webhook(payload).messages
    assert rasa_text(message) == "handoff"


def test_blank_caption_is_media_without_caption() -> None:
    payload = load("image")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["caption"] = "  "
    [message] = parse_webhook(payload).messages
    assert rasa_text(message) == "/send_media"


def test_template_button_without_payload_uses_its_text() -> None:
    payload = load("template_button")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["button"]["payload"]
    [message] = parse_webhook(payload).messages
    assert rasa_text(message) == "Confirmar"


def test_metadata_of_a_text_message() -> None:
    metadata = rasa_metadata(only_message("text_reply"))
    assert metadata == {
        "waba_id": WABA,
        "phone_number_id": PNID,
        "display_phone_number": "34910000000",
        "wa_id": GUEST,
        "user_id": None,
        "profile_name": "Lucía",
        "message_id": wamid("RPL"),
        "timestamp": 1751371200,
        "type": "text",
        "reply_to": wamid("QUOTED"),
        "context": {
            "message_id": wamid("QUOTED"),
            "sender": "34910000000",
            "forwarded": False,
            "frequently_forwarded": False,
            "referred_product": None,
        },
        "referral": None,
        "media_id": None,
        "media_mime_type": None,
        "text": {"body": "Sí"},
        "errors": [],
    }


def test_metadata_of_media() -> None:
    metadata = rasa_metadata(only_message("document"))
    assert metadata["media_id"] == "1222984565399446"
    assert metadata["media_mime_type"] == "application/pdf"
    assert metadata["media"]["filename"] == "factura.pdf"


def test_metadata_of_location_and_reaction() -> None:
    location = rasa_metadata(only_message("location"))["location"]
    assert (location["latitude"], location["longitude"]) == (40.4168, -3.7038)
    reaction = rasa_metadata(only_message("reaction"))["reaction"]
    assert reaction == {"message_id": wamid("ORIG"), "emoji": "👍"}


def test_metadata_of_referral_and_unknown() -> None:
    assert rasa_metadata(only_message("text_referral"))["referral"]["ctwa_clid"].startswith("ARAk")
    assert rasa_metadata(only_message("unknown_type"))["unknown"] == {"type": "hologram"}


ALL_FIXTURES = sorted(path.stem for path in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_every_fixture_parses_and_maps(fixture: str) -> None:
    batch = parse_webhook(load(fixture))
    for message in batch.messages:
        assert isinstance(rasa_text(message), str)
        metadata = rasa_metadata(message)
        assert json.loads(json.dumps(metadata)) == metadata


def test_the_fixture_set_covers_every_documented_type() -> None:
    types = {m.type for name in ALL_FIXTURES for m in parse_webhook(load(name)).messages}
    expected = {"text", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive"}
    expected |= {"button", "reaction", "order", "system", "unsupported"}
    assert expected <= types


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
