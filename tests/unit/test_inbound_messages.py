"""The webhook parser on one golden Meta-shaped message of each inbound type (tests/fixtures/webhooks), its
context, referral and sender, and what Rasa gets from each message (`connectors.whatsapp.bot_input`)."""

import json
from typing import Any

import pytest

from cloudapi.errors import ErrorInfo
from cloudapi.inbound import (
    Contact,
    ContactPhone,
    Contacts,
    Edit,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    MessageContext,
    Order,
    OrderItem,
    Reaction,
    Referral,
    ReferredProduct,
    Revoke,
    System,
    TemplateButton,
    Text,
    Unknown,
    Unsupported,
    parse_webhook,
)
from connectors.whatsapp.bot_input import INTENT_TRIGGERS, rasa_metadata, rasa_text
from tests.unit.inbound_support import ALL_FIXTURES, GUEST, PNID, WABA, load, wamid


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
    ("edit", Edit(wamid("ORIG"), Text("Llegamos el 12 de julio, no el 11")), "/unsupported_message"),
    (
        "edit_caption",
        Edit(
            wamid("ORIG"),
            Media(
                kind="image",
                media_id="1479537139650973",
                mime_type="image/jpeg",
                sha256="u6Yh7PbCRnRtxqAIaM3Dg8CPnSHuwI5+fO0ChjUmu0w=",
                caption="DNI y pasaporte",
                url="https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1479537139650973&ext=1751371500&hash=ATs",
            ),
        ),
        "/unsupported_message",
    ),
    ("revoke", Revoke(wamid("ORIG")), "/unsupported_message"),
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
        "username": None,
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


@pytest.mark.parametrize(
    "fixture",
    ALL_FIXTURES,
)
def test_every_fixture_parses_and_maps(fixture: str) -> None:
    batch = parse_webhook(load(fixture))
    for message in batch.messages:
        assert isinstance(rasa_text(message), str)
        metadata = rasa_metadata(message)
        assert json.loads(json.dumps(metadata)) == metadata


def test_the_fixture_set_covers_every_documented_type() -> None:
    types = {m.type for name in ALL_FIXTURES for m in parse_webhook(load(name)).messages}
    expected = {"text", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive"}
    expected |= {"button", "reaction", "order", "system", "unsupported", "edit", "revoke"}
    assert expected <= types


# --- edits and revokes (Coexistence numbers) -----------------------------------------------------------------


def edited(new_message: object) -> Any:
    payload = load("edit")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["edit"]["message"] = new_message
    return payload


def test_an_edit_of_a_type_not_known_keeps_the_new_message_whole() -> None:
    new_message = {"type": "hologram", "hologram": {"id": "1"}}
    [message] = parse_webhook(edited(new_message)).messages
    assert message.content == Edit(wamid("ORIG"), Unknown("hologram", new_message))


def test_an_edit_cannot_hold_an_edit() -> None:
    new_message = {"type": "edit", "edit": {"original_message_id": "wamid.X", "message": {"type": "text"}}}
    [message] = parse_webhook(edited(new_message)).messages
    assert message.content == Edit(wamid("ORIG"), Unknown("edit", new_message))


@pytest.mark.parametrize("new_message", [None, "Llegamos el 12", {}, {"text": {"body": "sin tipo"}}])
def test_an_edit_without_a_typed_new_message_is_unknown_content(new_message: object) -> None:
    payload = edited(new_message)
    [message] = parse_webhook(payload).messages
    assert message.content == Unknown("edit", payload["entry"][0]["changes"][0]["value"]["messages"][0])


@pytest.mark.parametrize(("fixture", "key"), [("edit", "edit"), ("revoke", "revoke")])
def test_an_edit_or_revoke_without_the_original_id_is_unknown_content(fixture: str, key: str) -> None:
    payload = load(fixture)
    item = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del item[key]["original_message_id"]
    [message] = parse_webhook(payload).messages
    assert message.content == Unknown(key, item)
