"""`cloudapi.media_kinds`: the bytes decide a file's message kind, within Meta's types and sizes per kind."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudapi.media_kinds import (
    FILENAME_MAX,
    KIND_LIMITS,
    Classified,
    MediaRefusedError,
    classify,
    clean_filename,
    sniff_type,
)
from tests.support import ROOT

OOXML = "application/vnd.openxmlformats-officedocument"
MEDIA = ROOT / "sandbox" / "data" / "media"


def office(folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}document.xml", "<x/>")
    return buffer.getvalue()


SAMPLES = {
    "jpeg": ((MEDIA / "placeholder.jpg").read_bytes(), None, "image/jpeg", "image"),
    "png": ((MEDIA / "placeholder.png").read_bytes(), None, "image/png", "image"),
    "webp": ((MEDIA / "placeholder.webp").read_bytes(), None, "image/webp", "sticker"),
    "pdf": ((MEDIA / "placeholder.pdf").read_bytes(), "f.pdf", "application/pdf", "document"),
    "mp4": (b"\0\0\0\x18ftypisom\0\0\0\0isomiso2", None, "video/mp4", "video"),
    "3gp": (b"\0\0\0\x14ftyp3gp4\0\0\0\0", None, "video/3gp", "video"),
    "m4a": (b"\0\0\0\x1cftypM4A \0\0\0\0", None, "audio/mp4", "audio"),
    "mp3 id3": (b"ID3\x04\0\0\0\0\0\0" + b"\xff\xfb\x90\x00", None, "audio/mpeg", "audio"),
    "mp3 frame": (b"\xff\xfb\x90\x64" + b"\0" * 20, None, "audio/mpeg", "audio"),
    "aac adts": (b"\xff\xf1\x50\x80" + b"\0" * 20, None, "audio/aac", "audio"),
    "amr": (b"#!AMR\n" + b"\0" * 10, None, "audio/amr", "audio"),
    "ogg opus": (b"OggS\0\x02" + b"\0" * 22 + b"OpusHead\x01\x01", None, "audio/ogg", "audio"),
    "text": (b"Check-in desde las 15:00.\nGracias\n", "horario.txt", "text/plain", "document"),
    "docx": (office("word/"), "c.docx", f"{OOXML}.wordprocessingml.document", "document"),
    "xlsx": (office("xl/"), "c.xlsx", f"{OOXML}.spreadsheetml.sheet", "document"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50, "cuentas.xls", "application/vnd.ms-excel", "document"),
}  # fmt: skip


@pytest.mark.parametrize("name", SAMPLES)
def test_each_supported_type_is_told_by_its_bytes(name: str) -> None:
    data, filename, mime_type, kind = SAMPLES[name]
    assert sniff_type(data, filename) == mime_type
    classified = classify(data, filename)
    assert (classified.kind, classified.mime_type, classified.size) == (kind, mime_type, len(data))


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body>Factura</body></html>",
        b"\xef\xbb\xbf  <html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><note/>',
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable
        b"OggS\0\x02" + b"\0" * 22 + b"\x01vorbis",  # Ogg without Opus: Meta takes only Opus
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04not really a zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50,  # OLE2 with no name to tell Word, Excel or PowerPoint
    ],
)
def test_types_whatsapp_does_not_take_are_422_whatever_the_name(data: bytes) -> None:
    with pytest.raises(MediaRefusedError) as refused:
        classify(data, "factura.pdf")
    assert (refused.value.status, refused.value.code) == (422, "unsupported_media_type")


def test_an_empty_file_is_422_missing_file() -> None:
    with pytest.raises(MediaRefusedError) as refused:
        classify(b"", "f.pdf")
    assert (refused.value.status, refused.value.code) == (422, "missing_file")


@pytest.mark.parametrize(("name", "kind"), [("jpeg", "image"), ("mp4", "video"), ("amr", "audio"), ("pdf", "document")])
def test_a_file_is_413_one_byte_past_its_kinds_limit(name: str, kind: str) -> None:
    data = SAMPLES[name][0]
    at_limit = data + b"\0" * (KIND_LIMITS[kind] - len(data))
    assert classify(at_limit, "f.pdf").size == KIND_LIMITS[kind]
    with pytest.raises(MediaRefusedError) as refused:
        classify(at_limit + b"\0", "f.pdf")
    assert (refused.value.status, refused.value.code) == (413, "file_too_large")


def test_a_static_sticker_may_be_100_kb_an_animated_one_500_kb() -> None:
    static = b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * (100_000 - 16)
    assert classify(static).kind == "sticker"
    with pytest.raises(MediaRefusedError):
        classify(static + b"\0")
    animated = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x02" + b"\0" * (300_000)
    assert classify(animated).kind == "sticker"


def test_documents_keep_a_clean_name_and_media_none() -> None:
    pdf = SAMPLES["pdf"][0]
    assert classify(pdf, "C:\\Users\\ana\\factura.pdf") == Classified(
        "document", "application/pdf", len(pdf), "factura.pdf"
    )
    assert classify(pdf, None).filename == "document.pdf"
    assert classify(SAMPLES["jpeg"][0], "foto.jpg").filename is None
    assert clean_filename("../../etc/pass\x00wd\n.pdf", "application/pdf") == "passwd.pdf"
    long_name = clean_filename("a" * 500 + ".pdf", "application/pdf")
    assert len(long_name) == FILENAME_MAX
    assert long_name.endswith(".pdf")


@given(st.binary(max_size=2048), st.one_of(st.none(), st.text(max_size=300)))
def test_any_bytes_are_classified_or_refused_never_crash(data: bytes, filename: str | None) -> None:
    try:
        classified = classify(data, filename)
    except MediaRefusedError as error:
        refused = error
    else:
        refused = None
    if refused is not None:
        assert refused.status in (413, 422)
        return
    assert classified.size == len(data)
    assert classified.kind in KIND_LIMITS
    assert (classified.filename is not None) == (classified.kind == "document")
    if classified.filename is not None:
        assert 0 < len(classified.filename) <= FILENAME_MAX
