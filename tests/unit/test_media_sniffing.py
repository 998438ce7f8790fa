"""What a guest's file really is, and how it may be served: known magic numbers, and arbitrary bytes under
any claimed type never served inline unless the bytes bear the claim out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.whatsapp.media.sniffing import OCTET_STREAM, SAFE_TYPES, Served, served_as, sniff

PLACEHOLDERS = Path(__file__).parents[2] / "sandbox" / "data" / "media"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("placeholder.jpg", "image/jpeg"),
        ("placeholder.png", "image/png"),
        ("placeholder.webp", "image/webp"),
        ("placeholder.pdf", "application/pdf"),
    ],
)
def test_real_files_are_known_by_their_bytes(name: str, kind: str) -> None:
    assert sniff((PLACEHOLDERS / name).read_bytes()) == kind


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"GIF89a\x01\x00", "image/gif"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"\x00\x00\x00\x18ftypM4A ", "audio/mp4"),
        (b"\x00\x00\x00\x18ftyp3gp4", "video/3gpp"),
        (b"#!AMR\n", "audio/amr"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", None),
        (b"<!DOCTYPE html><script>", None),
        (b"", None),
    ],
)
def test_signatures(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


def test_a_voice_note_with_codecs_is_served_as_ogg_inline() -> None:
    assert served_as("audio/ogg; codecs=opus", b"OggS\x00\x02rest") == Served("audio/ogg", inline=True)


def test_an_m4a_voice_note_and_an_mp4_share_their_container() -> None:
    assert served_as("audio/mp4", b"\x00\x00\x00\x18ftypisom") == Served("audio/mp4", inline=True)


@pytest.mark.parametrize("claimed", ["image/jpeg", "image/svg+xml", "text/html", None, "application/pdf"])
def test_html_is_a_download_whatever_it_claims(claimed: str | None) -> None:
    assert served_as(claimed, b"<html><script>alert(1)</script>") == Served(OCTET_STREAM, inline=False)


def test_a_png_claimed_as_a_jpeg_is_a_download() -> None:
    assert served_as("image/jpeg", (PLACEHOLDERS / "placeholder.png").read_bytes()).inline is False


def test_the_filename_cannot_break_the_header() -> None:
    header = Served(OCTET_STREAM, inline=False).disposition('a"b;\r\nSet-Cookie: x=1.pdf')
    assert header == 'attachment; filename="a_b___Set-Cookie: x=1.pdf"'
    assert Served("image/png", inline=True).disposition("ñandú.png") == 'inline; filename="_and_.png"'


@given(st.binary(max_size=64), st.sampled_from([*sorted(SAFE_TYPES), "text/html", "image/svg+xml", ""]))
def test_anything_served_inline_is_safe_and_what_its_bytes_say(data: bytes, claimed: str) -> None:
    served = served_as(claimed, data)
    if served.inline:
        assert served.content_type in SAFE_TYPES
        assert sniff(data) is not None
    else:
        assert served.content_type == OCTET_STREAM
