"""The message builders: shapes Meta accepts, WhatsApp's limits, and text splitting."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudapi.outbound import (
    BUTTON_BODY_MAX,
    BUTTON_ID_MAX,
    BUTTON_TITLE_MAX,
    CAPTION_MAX,
    LIST_BUTTON_MAX,
    LIST_ROW_DESCRIPTION_MAX,
    LIST_ROW_ID_MAX,
    LIST_ROW_TITLE_MAX,
    LIST_ROWS_MAX,
    OVERFLOW_PROMPT,
    TEXT_MAX,
    PhoneNumberRequiredError,
    addressed,
    attachment_messages,
    button_messages,
    check_template_recipient,
    custom_message,
    image_messages,
    media_kind_for,
    split_text,
    template_message,
    text_messages,
)

# --- text -------------------------------------------------------------------------------------------------


def test_short_text_is_one_message() -> None:
    assert text_messages("Check-in desde las 15:00.") == [
        {"type": "text", "text": {"body": "Check-in desde las 15:00.", "preview_url": False}}
    ]


def test_text_that_fits_keeps_its_formatting() -> None:
    text = "  Horario:\n\n- Desayuno 7:00\n- Cena 20:00  "
    assert text_messages(text)[0]["text"]["body"] == text


@pytest.mark.parametrize("text", ["Pague aquí: https://pay.example/x", "HTTP://EXAMPLE.COM", "ver http://a.b"])
def test_preview_url_when_a_link_is_present(text: str) -> None:
    assert text_messages(text)[0]["text"]["preview_url"] is True


@pytest.mark.parametrize("text", ["www.example.com", "ftp://files.example", "https:/broken"])
def test_no_preview_without_an_http_link(text: str) -> None:
    assert text_messages(text)[0]["text"]["preview_url"] is False


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_blank_text_sends_nothing(text: str) -> None:
    assert text_messages(text) == []


def test_exactly_the_limit_is_one_message() -> None:
    assert len(text_messages("a" * TEXT_MAX)) == 1


def test_long_text_splits_on_word_boundaries() -> None:
    words = [f"palabra{i}" for i in range(1000)]
    chunks = split_text(" ".join(words))
    assert len(chunks) > 1
    assert all(0 < len(chunk) <= TEXT_MAX for chunk in chunks)
    assert " ".join(chunks).split() == words
    assert all(chunk == chunk.strip() for chunk in chunks)


def test_only_a_word_longer_than_the_limit_is_cut() -> None:
    long_word = "x" * (TEXT_MAX + 100)
    chunks = split_text(f"hola {long_word} adiós")
    assert chunks == ["hola", "x" * TEXT_MAX, "x" * 100 + " adiós"]


def test_link_preview_is_per_chunk() -> None:
    text = "a " * 3000 + "https://hotel.example/pago"
    messages = text_messages(text)
    assert [m["text"]["preview_url"] for m in messages] == [False, True]


WORD = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=60)
SPACE = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \n "])


@st.composite
def texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORD, max_size=400))
    spaces = draw(st.lists(SPACE, min_size=len(words), max_size=len(words)))
    return "".join(word + space for word, space in zip(words, spaces, strict=True))


@given(text=texts(), limit=st.integers(min_value=60, max_value=500))
def test_split_keeps_words_and_limit(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(0 < len(chunk) <= limit for chunk in chunks)
    assert all(chunk.strip() for chunk in chunks)
    assert " ".join(chunks).split() == text.split()


@given(text=st.text(max_size=20_000))
def test_any_text_fits_the_whatsapp_limit(text: str) -> None:
    messages = text_messages(text)
    assert all(0 < len(m["text"]["body"]) <= TEXT_MAX for m in messages)
    assert "".join("".join(m["text"]["body"] for m in messages).split()) == "".join(text.split())


@given(text=texts())
def test_split_at_whatsapp_limit_with_long_text(text: str) -> None:
    text = text * 30
    chunks = split_text(text)
    assert all(0 < len(chunk) <= TEXT_MAX for chunk in chunks)
    assert " ".join(chunks).split() == text.split()


# --- buttons and lists --------------------------------------------------------------------------------------


def test_reply_buttons() -> None:
    [message] = button_messages("¿Necesita parking?", [("Sí", "/parking_yes"), ("No", "/parking_no")])
    assert message == {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "¿Necesita parking?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "/parking_yes", "title": "Sí"}},
                    {"type": "reply", "reply": {"id": "/parking_no", "title": "No"}},
                ]
            },
        },
    }


def test_intent_payload_with_entities_round_trips_as_id() -> None:
    payload = '/choose_room{"room_type": "double"}'
    [message] = button_messages("¿Qué habitación?", [("Doble", payload)])
    assert message["interactive"]["action"]["buttons"][0]["reply"]["id"] == payload


def test_long_button_title_is_cut_with_an_ellipsis() -> None:
    [message] = button_messages("?", [("Quiero hacer el late check-out", "/late")])
    title = message["interactive"]["action"]["buttons"][0]["reply"]["title"]
    assert len(title) == BUTTON_TITLE_MAX
    assert title == "Quiero hacer el lat…"


def test_title_at_the_limit_is_kept() -> None:
    [message] = button_messages("?", [("x" * BUTTON_TITLE_MAX, "/x")])
    assert message["interactive"]["action"]["buttons"][0]["reply"]["title"] == "x" * BUTTON_TITLE_MAX


def test_blank_title_falls_back_to_the_payload() -> None:
    [message] = button_messages("?", [("  ", "/yes")])
    assert message["interactive"]["action"]["buttons"][0]["reply"]["title"] == "/yes"


def test_duplicate_payloads_keep_the_first_button() -> None:
    [message] = button_messages("?", [("Sí", "/yes"), ("Claro", "/yes"), ("No", "/no")])
    assert [b["reply"]["id"] for b in message["interactive"]["action"]["buttons"]] == ["/yes", "/no"]
    assert message["interactive"]["action"]["buttons"][0]["reply"]["title"] == "Sí"


def test_button_id_at_the_limit_and_beyond() -> None:
    [message] = button_messages("?", [("A", "a" * BUTTON_ID_MAX)])
    assert message["interactive"]["action"]["buttons"][0]["reply"]["id"] == "a" * BUTTON_ID_MAX
    with pytest.raises(ValueError, match="too long"):
        button_messages("?", [("A", "a" * (BUTTON_ID_MAX + 1))])


def test_empty_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="no payload"):
        button_messages("?", [("A", " ")])


def test_long_body_goes_first_as_text() -> None:
    text = "Información. " * 100
    messages = button_messages(text, [("Sí", "/yes")])
    assert [m["type"] for m in messages] == ["text", "interactive"]
    assert messages[0]["text"]["body"] == text
    assert messages[1]["interactive"]["body"]["text"] == OVERFLOW_PROMPT


def test_body_at_the_limit_stays_in_the_buttons() -> None:
    text = "a" * BUTTON_BODY_MAX
    [message] = button_messages(text, [("Sí", "/yes")])
    assert message["interactive"]["body"]["text"] == text


def test_blank_text_uses_the_prompt() -> None:
    assert button_messages("", [("Sí", "/yes")])[0]["interactive"]["body"]["text"] == OVERFLOW_PROMPT
    assert button_messages("", [("Sí", "/yes")], prompt="Elija:")[0]["interactive"]["body"]["text"] == "Elija:"


def test_no_buttons_is_plain_text() -> None:
    assert button_messages("Hola", []) == text_messages("Hola")


def rooms(count: int) -> list[tuple[str, str]]:
    return [(f"Habitación {i}", f'/room{{"n": {i}}}') for i in range(count)]


def test_four_buttons_become_a_list() -> None:
    [message] = button_messages("Elija habitación", rooms(4), list_label="Ver habitaciones")
    interactive = message["interactive"]
    assert interactive["type"] == "list"
    assert interactive["body"] == {"text": "Elija habitación"}
    assert interactive["action"]["button"] == "Ver habitaciones"
    [section] = interactive["action"]["sections"]
    assert section["rows"][0] == {"id": '/room{"n": 0}', "title": "Habitación 0"}
    assert len(section["rows"]) == 4


def test_list_default_label() -> None:
    [message] = button_messages("?", rooms(5))
    assert message["interactive"]["action"]["button"] == "Options"


def test_list_label_is_cut() -> None:
    [message] = button_messages("?", rooms(5), list_label="Ver todas las habitaciones disponibles")
    assert len(message["interactive"]["action"]["button"]) == LIST_BUTTON_MAX
    assert message["interactive"]["action"]["button"].endswith("…")


def test_ten_rows_fit_and_more_are_dropped() -> None:
    [ten] = button_messages("?", rooms(10))
    assert len(ten["interactive"]["action"]["sections"][0]["rows"]) == LIST_ROWS_MAX
    [twelve] = button_messages("?", rooms(12))
    rows = twelve["interactive"]["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [payload for _, payload in rooms(10)]


def test_long_row_title_is_cut_and_told_in_the_description() -> None:
    title = "Suite junior con vistas al mar y terraza"
    options = [(title, "/suite"), *rooms(3)]
    [message] = button_messages("?", options)
    row = message["interactive"]["action"]["sections"][0]["rows"][0]
    assert len(row["title"]) == LIST_ROW_TITLE_MAX
    assert row["title"].endswith("…")
    assert row["description"] == title
    assert "description" not in message["interactive"]["action"]["sections"][0]["rows"][1]


def test_very_long_row_title_description_is_cut_too() -> None:
    options = [("t" * 100, "/t"), *rooms(3)]
    [message] = button_messages("?", options)
    row = message["interactive"]["action"]["sections"][0]["rows"][0]
    assert len(row["description"]) == LIST_ROW_DESCRIPTION_MAX
    assert row["description"].endswith("…")


def test_row_id_limit() -> None:
    [message] = button_messages("?", [("A", "a" * LIST_ROW_ID_MAX), *rooms(3)])
    assert message["interactive"]["action"]["sections"][0]["rows"][0]["id"] == "a" * LIST_ROW_ID_MAX
    with pytest.raises(ValueError, match="list row"):
        button_messages("?", [("A", "a" * (LIST_ROW_ID_MAX + 1)), *rooms(3)])


def test_list_body_is_up_to_4096() -> None:
    text = "b" * 2000
    [message] = button_messages(text, rooms(5))
    assert message["interactive"]["body"]["text"] == text


@given(
    text=st.text(max_size=6000),
    options=st.lists(st.tuples(st.text(max_size=80), st.text(min_size=1, max_size=200).filter(str.strip)), max_size=15),
)
def test_buttons_always_within_limits(text: str, options: list[tuple[str, str]]) -> None:
    for message in button_messages(text, options):
        if message["type"] == "text":
            assert 0 < len(message["text"]["body"]) <= TEXT_MAX
            continue
        interactive = message["interactive"]
        assert interactive["body"]["text"]
        if interactive["type"] == "button":
            buttons = interactive["action"]["buttons"]
            assert 1 <= len(buttons) <= 3
            assert len(interactive["body"]["text"]) <= BUTTON_BODY_MAX
            assert all(0 < len(b["reply"]["title"]) <= BUTTON_TITLE_MAX for b in buttons)
            assert len({b["reply"]["id"] for b in buttons}) == len(buttons)
        else:
            rows = interactive["action"]["sections"][0]["rows"]
            assert 4 <= len(rows) <= LIST_ROWS_MAX
            assert all(0 < len(r["title"]) <= LIST_ROW_TITLE_MAX for r in rows)
            assert all(len(r.get("description", "")) <= LIST_ROW_DESCRIPTION_MAX for r in rows)
            assert len({r["id"] for r in rows}) == len(rows)


# --- media ------------------------------------------------------------------------------------------------


def test_image_with_caption() -> None:
    assert image_messages("https://hotel.example/mapa.png", "Mapa") == [
        {"type": "image", "image": {"link": "https://hotel.example/mapa.png", "caption": "Mapa"}}
    ]


def test_image_without_caption() -> None:
    assert image_messages("https://hotel.example/mapa.png") == [
        {"type": "image", "image": {"link": "https://hotel.example/mapa.png"}}
    ]


def test_caption_too_long_follows_as_text() -> None:
    caption = "c" * (CAPTION_MAX + 1)
    messages = image_messages("https://hotel.example/a.jpg", caption)
    assert messages[0] == {"type": "image", "image": {"link": "https://hotel.example/a.jpg"}}
    assert messages[1]["text"]["body"] == caption


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://h.example/a.jpg", "image"),
        ("https://h.example/a.JPEG", "image"),
        ("https://h.example/a.png?size=2", "image"),
        ("https://h.example/tour.mp4", "video"),
        ("https://h.example/tour.3gp", "video"),
        ("https://h.example/hola.ogg", "audio"),
        ("https://h.example/hola.mp3", "audio"),
        ("https://h.example/hola.m4a", "audio"),
        ("https://h.example/hola.aac", "audio"),
        ("https://h.example/hola.amr", "audio"),
        ("https://h.example/factura.pdf", "document"),
        ("https://h.example/foto.webp", "document"),
        ("https://h.example/download", "document"),
        ("https://h.example/dir.png/file", "document"),
    ],
)
def test_media_kind_by_extension(url: str, kind: str) -> None:
    assert media_kind_for(url) == kind
    assert attachment_messages(url)[0]["type"] == kind


def test_document_carries_the_filename() -> None:
    [message] = attachment_messages("https://hotel.example/docs/Factura%20123.pdf?token=x", "Su factura")
    assert message == {
        "type": "document",
        "document": {
            "link": "https://hotel.example/docs/Factura%20123.pdf?token=x",
            "filename": "Factura 123.pdf",
            "caption": "Su factura",
        },
    }


def test_document_without_a_file_name() -> None:
    [message] = attachment_messages("https://hotel.example/")
    assert message == {"type": "document", "document": {"link": "https://hotel.example/"}}


def test_audio_caption_follows_as_text() -> None:
    messages = attachment_messages("https://hotel.example/bienvenida.ogg", "Bienvenida")
    assert messages == [
        {"type": "audio", "audio": {"link": "https://hotel.example/bienvenida.ogg"}},
        *text_messages("Bienvenida"),
    ]


def test_video_caption() -> None:
    [message] = attachment_messages("https://hotel.example/tour.mp4", "Tour")
    assert message == {"type": "video", "video": {"link": "https://hotel.example/tour.mp4", "caption": "Tour"}}


# --- custom and templates -----------------------------------------------------------------------------------


def test_custom_location_passes_through() -> None:
    custom = {"type": "location", "location": {"latitude": 40.4168, "longitude": -3.7038, "name": "Hotel Sol"}}
    assert custom_message(custom) == custom
    assert custom_message(custom) is not custom


def test_custom_contacts_is_a_list() -> None:
    custom = {"type": "contacts", "contacts": [{"name": {"formatted_name": "Recepción"}}]}
    assert custom_message(custom) == custom


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        (None, "JSON object"),
        ("texto", "JSON object"),
        ([{"type": "text"}], "JSON object"),
        ({}, '"type"'),
        ({"type": 3}, '"type"'),
        ({"type": ""}, '"type"'),
        ({"type": "location"}, '"location" object'),
        ({"type": "location", "location": "Madrid"}, '"location" object'),
    ],
)
def test_custom_of_the_wrong_shape_is_refused(custom: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        custom_message(custom)


def test_template_with_parameters() -> None:
    assert template_message("booking_reminder", "es_ES", ["Lucía", "12/07/2025"]) == {
        "type": "template",
        "template": {
            "name": "booking_reminder",
            "language": {"code": "es_ES"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Lucía"}, {"type": "text", "text": "12/07/2025"}],
                }
            ],
        },
    }


def test_template_without_parameters_and_language_normalised() -> None:
    assert template_message("welcome", "en-US") == {
        "type": "template",
        "template": {"name": "welcome", "language": {"code": "en_US"}},
    }


# --- addressing ----------------------------------------------------------------------------------------------


def test_addressed_adds_the_recipient() -> None:
    body = text_messages("Hola")[0]
    assert addressed(body, "34612345678") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "34612345678",
        "type": "text",
        "text": {"body": "Hola", "preview_url": False},
    }


def test_addressed_with_context_and_callback_data() -> None:
    message = addressed(text_messages("Sí")[0], "34612345678", context_message_id="wamid.X", callback_data="ref-1")
    assert message["context"] == {"message_id": "wamid.X"}
    assert message["biz_opaque_callback_data"] == "ref-1"


def test_a_body_cannot_choose_its_recipient() -> None:
    custom = custom_message({"type": "text", "text": {"body": "x"}, "to": "34999999999", "messaging_product": "sms"})
    message = addressed(custom, "34612345678")
    assert message["to"] == "34612345678"
    assert message["messaging_product"] == "whatsapp"


def test_addressed_does_not_change_the_body() -> None:
    body = text_messages("Hola")[0]
    before = json.dumps(body)
    addressed(body, "34612345678", context_message_id="wamid.X")
    assert json.dumps(body) == before


# --- guests known by a business-scoped user id ------------------------------------------------------------------

BSUID = "ES.13491208655302741918"


@pytest.mark.parametrize("bsuid", [BSUID, "ES.ENT.11815799212886844830"])
def test_a_bsuid_is_addressed_as_recipient(bsuid: str) -> None:
    assert addressed(text_messages("Hola")[0], bsuid) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": bsuid,
        "type": "text",
        "text": {"body": "Hola", "preview_url": False},
    }


@pytest.mark.parametrize("guest", ["34612345678", "+34 612 34 56 78"])
def test_a_phone_number_is_addressed_as_to(guest: str) -> None:
    message = addressed(text_messages("Hola")[0], guest)
    assert message["to"] == guest
    assert "recipient" not in message


def test_a_body_cannot_choose_a_bsuid_recipient_either() -> None:
    custom = custom_message({"type": "text", "text": {"body": "x"}, "recipient": "ES.1", "to": "34999999999"})
    assert addressed(custom, BSUID)["recipient"] == BSUID
    assert "to" not in addressed(custom, BSUID)
    assert "recipient" not in addressed(custom, "34612345678")


@pytest.mark.parametrize("category", ["AUTHENTICATION", "authentication"])
def test_an_authentication_template_needs_a_phone_number(category: str) -> None:
    with pytest.raises(PhoneNumberRequiredError, match="phone number"):
        check_template_recipient(category, BSUID)
    check_template_recipient(category, "34612345678")


@pytest.mark.parametrize("category", ["UTILITY", "MARKETING"])
def test_other_templates_reach_a_bsuid(category: str) -> None:
    check_template_recipient(category, BSUID)


def test_the_refusal_is_a_value_error_and_keeps_the_bsuid_out_of_the_logs() -> None:
    with pytest.raises(ValueError, match="131062") as refused:
        check_template_recipient("AUTHENTICATION", BSUID)
    assert BSUID not in str(refused.value)
