"""`cloudapi.outbound`'s media by uploaded id, what a stored body says it sends, and the log's summary of it."""

from __future__ import annotations

from cloudapi.outbound import CAPTION_MAX, sent_media, uploaded_media_messages
from connectors.whatsapp.sending.sender import summary


def test_a_document_keeps_its_name_and_caption_an_image_its_caption_only() -> None:
    assert uploaded_media_messages("document", "77", "Su factura", "factura.pdf") == [
        {"type": "document", "document": {"id": "77", "filename": "factura.pdf", "caption": "Su factura"}}
    ]
    assert uploaded_media_messages("image", "78", "Parking", "ignored.jpg") == [
        {"type": "image", "image": {"id": "78", "caption": "Parking"}}
    ]


def test_audio_and_long_captions_go_after_the_file_as_text() -> None:
    audio = uploaded_media_messages("audio", "79", "Escuche las indicaciones")
    assert audio[0] == {"type": "audio", "audio": {"id": "79"}}
    assert audio[1]["text"]["body"] == "Escuche las indicaciones"
    long = uploaded_media_messages("video", "80", "x" * (CAPTION_MAX + 1))
    assert long[0] == {"type": "video", "video": {"id": "80"}}
    assert long[1]["text"]["body"] == "x" * (CAPTION_MAX + 1)


def test_sent_media_reads_a_stored_body_and_is_none_for_other_messages() -> None:
    body = {"messaging_product": "whatsapp", "to": "34612345678", "type": "document",
            "document": {"id": "77", "filename": "factura.pdf"}}  # fmt: skip
    assert sent_media(body) == {
        "kind": "document",
        "id": "77",
        "link": None,
        "caption": None,
        "filename": "factura.pdf",
    }
    assert sent_media({"type": "image", "image": {"link": "https://x/y.png"}})["link"] == "https://x/y.png"
    assert sent_media({"type": "text", "text": {"body": "hola"}}) is None
    assert sent_media({"type": "image"}) is None


def test_the_log_summary_names_a_documents_file() -> None:
    assert summary({"type": "document", "document": {"id": "1", "filename": "f.pdf", "caption": "Su factura"}}) == (
        "[document] f.pdf Su factura"
    )
    assert summary({"type": "image", "image": {"id": "1", "caption": "Parking"}}) == "[image] Parking"
    assert summary({"type": "audio", "audio": {"id": "1"}}) == "[audio]"
