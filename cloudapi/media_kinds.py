"""Which WhatsApp message kind a file goes as, told from its bytes, within Meta's types and sizes per kind.

A browser's claimed type (`Content-Type` of the part) and the file's name are the sender's word, and a
file called `factura.pdf` may be an HTML page: the bytes decide (`sniff_type`). What they show is mapped to
the one message kind WhatsApp takes it as (WHATSAPP.md §5, Meta's "Supported media types"):

    image     image/jpeg, image/png                                   5 MB
    video     video/mp4, video/3gp (H.264 + AAC)                      16 MB
    audio     audio/aac, audio/amr, audio/mpeg, audio/mp4, audio/ogg (Opus only)   16 MB
    document  application/pdf, text/plain, Word, Excel, PowerPoint    100 MB
    sticker   image/webp                                              100 KB, 500 KB animated

Anything else (HTML, SVG, an executable, an Ogg without Opus) is a type WhatsApp does not take and is
refused (`MediaRefusedError` with 422), as is a file past its kind's size (413). Meta writes its sizes in
"MB" without saying which; they are read here as decimal megabytes, the smaller reading, so no file passes
here that Meta could refuse for its size. The codec rules inside a video (H.264, AAC) are not checked: that
needs a demuxer, and Meta's own refusal (131053) is recorded like any other.

Pure: no I/O; the office formats are told apart by the names inside their ZIP container.
"""

from __future__ import annotations

import io
import posixpath
import unicodedata
import zipfile
from dataclasses import dataclass

__all__ = [
    "FILENAME_MAX",
    "KIND_LIMITS",
    "LARGEST_FILE",
    "Classified",
    "MediaRefusedError",
    "classify",
    "clean_filename",
    "sniff_type",
]

MB = 1_000_000
KB = 1_000
KIND_LIMITS = {"image": 5 * MB, "video": 16 * MB, "audio": 16 * MB, "document": 100 * MB, "sticker": 500 * KB}
"""The largest file of each kind, in bytes (a static sticker: `STATIC_STICKER_MAX`)."""
STATIC_STICKER_MAX = 100 * KB
LARGEST_FILE = max(KIND_LIMITS.values())
FILENAME_MAX = 240
"""The longest document file name kept; the guest sees it instead of a preview."""

KIND_OF_TYPE = {
    "image/jpeg": "image",
    "image/png": "image",
    "video/mp4": "video",
    "video/3gp": "video",
    "audio/aac": "audio",
    "audio/amr": "audio",
    "audio/mpeg": "audio",
    "audio/mp4": "audio",
    "audio/ogg": "audio",
    "application/pdf": "document",
    "text/plain": "document",
    "application/msword": "document",
    "application/vnd.ms-excel": "document",
    "application/vnd.ms-powerpoint": "document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "document",
    "image/webp": "sticker",
}
"""Meta's supported types, each with the one message kind it goes as."""

_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_LEGACY_OFFICE = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MARKUP_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe", b"<!--")
_TEXT_SAMPLE = 64 * 1024


class MediaRefusedError(ValueError):
    """A file WhatsApp would not take: `status` 413 (too large for its kind) or 422 (a type it does not take,
    or no file at all), with a `code` for the API's problem answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Classified:
    """A file as it will be sent: its message kind, its sniffed type, size and (documents) file name."""

    kind: str
    mime_type: str
    size: int
    filename: str | None


def _mp4_family(data: bytes) -> str | None:
    if data[4:8] != b"ftyp":
        return None
    brand = data[8:12]
    if brand.startswith(b"3g"):
        return "video/3gp"
    if brand in (b"M4A ", b"M4B "):
        return "audio/mp4"
    return "video/mp4"


def _mpeg_audio(data: bytes) -> str | None:
    """ADTS AAC or an MPEG audio frame (MP3), by the 11-bit frame sync and the layer bits."""
    if data.startswith(b"ID3"):
        return "audio/mpeg"
    if len(data) < 2 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return None
    layer = (data[1] >> 1) & 0x03
    if data[1] & 0xF0 == 0xF0 and layer == 0:
        return "audio/aac"
    return "audio/mpeg" if layer != 0 else None


def _zip_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    return next((kind for folder, kind in _OOXML.items() if any(n.startswith(folder) for n in names)), None)


def _plain_text(data: bytes) -> str | None:
    """text/plain for UTF-8 text without control bytes that is not markup: an HTML or SVG page renamed `.txt`
    is still a page, and WhatsApp takes no HTML."""
    sample = data[:_TEXT_SAMPLE]
    if not sample or b"\x00" in sample:
        return None
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 3:  # a character cut by the sample's end is fine
            return None
        text = sample[: error.start].decode("utf-8")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    head = text.lstrip("\ufeff \t\r\n").lower().encode()
    return None if head.startswith(_MARKUP_STARTS) else "text/plain"


def sniff_type(data: bytes, filename: str | None = None) -> str | None:
    """The type the bytes are, among those WhatsApp takes; None for anything else. `filename` only tells the
    legacy Word, Excel and PowerPoint files apart, which share one container (OLE2) and no signature."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"#!AMR"):
        return "audio/amr"
    if data.startswith(b"OggS"):
        return "audio/ogg" if b"OpusHead" in data[:512] else None
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if data.startswith(_OLE2):
        extension = posixpath.splitext((filename or "").lower())[1]
        return _LEGACY_OFFICE.get(extension)
    return _mp4_family(data) or _mpeg_audio(data) or _plain_text(data)


def _animated_webp(data: bytes) -> bool:
    """An extended WebP (`VP8X`) with its animation flag set."""
    return data[12:16] == b"VP8X" and len(data) > 20 and bool(data[20] & 0x02)


def clean_filename(filename: str | None, mime_type: str) -> str:
    """The name a document is shown by: the last path part, without control characters, at most
    `FILENAME_MAX` characters (the extension kept); a file with none gets `document` and its type's name."""
    name = posixpath.basename((filename or "").replace("\\", "/"))
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if not name or name in (".", ".."):
        name = "document" + {"application/pdf": ".pdf", "text/plain": ".txt"}.get(mime_type, "")
    if len(name) > FILENAME_MAX:
        stem, extension = posixpath.splitext(name)
        extension = extension if len(extension) <= 16 else ""
        name = stem[: FILENAME_MAX - len(extension)] + extension
    return name


def classify(data: bytes, filename: str | None = None) -> Classified:
    """The message kind and type `data` goes as, or `MediaRefusedError`: 422 for an empty file or a type
    WhatsApp does not take, 413 for one too large for its kind (said with the limit)."""
    if not data:
        raise MediaRefusedError(422, "missing_file", "the file is empty: send the file's bytes in the 'file' part")
    mime_type = sniff_type(data, filename)
    if mime_type is None:
        raise MediaRefusedError(
            422,
            "unsupported_media_type",
            "WhatsApp does not take this kind of file: send a JPEG or PNG image, an MP4 or 3GP video, AAC, AMR, "
            "MP3, M4A or Ogg/Opus audio, or a PDF, text, Word, Excel or PowerPoint document",
        )
    kind = KIND_OF_TYPE[mime_type]
    limit = KIND_LIMITS[kind]
    if kind == "sticker" and not _animated_webp(data):
        limit = STATIC_STICKER_MAX
    if len(data) > limit:
        raise MediaRefusedError(
            413,
            "file_too_large",
            f"a {kind} ({mime_type}) may be at most {limit // KB:,} KB on WhatsApp; "
            f"this file is {len(data) // KB:,} KB",
        )
    return Classified(kind, mime_type, len(data), clean_filename(filename, mime_type) if kind == "document" else None)
