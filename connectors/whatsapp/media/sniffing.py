"""What a file really is, from its first bytes, and how the agents' API may serve it.

A guest chooses what their phone says a file is: an HTML page or an SVG sent as "image/jpeg" would run in the
console's origin if served as it claims. So the served type comes from the bytes (magic numbers), and only a
type that cannot run script, whose bytes agree with what was claimed, is served as itself; anything else is
`application/octet-stream` as an attachment. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Served", "served_as", "sniff"]

OCTET_STREAM = "application/octet-stream"

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"#!AMR", 0, "audio/amr"),
)
"""(magic, offset, type), checked in order; RIFF and ISO media files are told apart below."""

_ISO_BRANDS = {b"M4A ": "audio/mp4", b"M4B ": "audio/mp4", b"3gp4": "video/3gpp", b"3gp5": "video/3gpp"}

SAFE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
    }
)
"""Types a browser shows without running anything in the page's origin (PDF opens in its own viewer)."""

_SAME = {"image/jpg": "image/jpeg", "audio/mp3": "audio/mpeg", "video/3gp": "video/3gpp", "audio/x-m4a": "audio/mp4"}
"""Names phones use for the types above."""


def sniff(data: bytes) -> str | None:
    """The type the bytes say they are, or None when no known signature matches."""
    for magic, offset, kind in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return "audio/aac"
    if data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if data[4:8] == b"ftyp":
        return _ISO_BRANDS.get(data[8:12], "video/mp4")
    return None


def _essence(mime_type: str | None) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`, lower case, phones' aliases folded."""
    essence = (mime_type or "").split(";", 1)[0].strip().lower()
    return _SAME.get(essence, essence)


def _family(mime_type: str) -> str:
    """ISO media files are one family: an `.m4a` voice note and an `.mp4` video share the `ftyp` box."""
    return "iso" if mime_type in ("video/mp4", "audio/mp4", "video/3gpp") else mime_type


@dataclass(frozen=True)
class Served:
    """How a kept file goes out: its `Content-Type`, and whether the browser may show it (`inline`)."""

    content_type: str
    inline: bool

    def disposition(self, filename: str) -> str:
        """`Content-Disposition`, the filename reduced to plain characters (a header cannot carry the rest)."""
        plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
        return f'{"inline" if self.inline else "attachment"}; filename="{plain or "file"}"'


def served_as(claimed: str | None, data: bytes) -> Served:
    """The claimed type when the bytes agree with it and it is safe; else a download of unknown bytes."""
    sniffed = sniff(data)
    wanted = _essence(claimed)
    if sniffed is not None and wanted in SAFE_TYPES and _family(sniffed) == _family(wanted):
        return Served(wanted, inline=True)
    return Served(OCTET_STREAM, inline=False)
