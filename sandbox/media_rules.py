"""Meta's rules for the media a business sends, as the sandbox enforces them: the types an upload may be
(`POST /{phone-number-id}/media`), and which of them each message kind takes, up to what size.

Written apart from the gateway's own `cloudapi.media_kinds` on purpose: the sandbox stands in for Meta, and
a rule shared by both sides could not catch the gateway getting it wrong. Meta's "Supported media types":
image JPEG/PNG 5 MB; video MP4/3GP 16 MB; audio AAC/AMR/MP3/M4A/Ogg-Opus 16 MB; documents (PDF, text,
Word, Excel, PowerPoint) 100 MB; stickers WebP 500 KB (100 KB static, not told apart here).
"""

from __future__ import annotations

from sandbox.errors import GraphError, invalid

__all__ = ["UPLOAD_MAX", "check_sent_media", "check_upload"]

MB = 1_000_000
UPLOAD_MAX = 100 * MB
_KINDS: dict[str, tuple[frozenset[str], int]] = {
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * MB),
    "video": (frozenset({"video/mp4", "video/3gp", "video/3gpp"}), 16 * MB),
    "audio": (frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}), 16 * MB),
    "document": (
        frozenset(
            {
                "application/pdf",
                "text/plain",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * MB,
    ),
    "sticker": (frozenset({"image/webp"}), 500_000),
}
SUPPORTED = frozenset().union(*(types for types, _ in _KINDS.values()))


def _base(mime_type: str) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`."""
    return mime_type.split(";", 1)[0].strip().lower()


def check_upload(mime_type: str, size: int) -> None:
    """Refuse an upload as Meta does: a type no message kind takes (100), an empty or over-100 MB file (131053)."""
    if _base(mime_type) not in SUPPORTED:
        raise invalid(f"Param file must be a file with one of the following types: {', '.join(sorted(SUPPORTED))}.")
    if not 0 < size <= UPLOAD_MAX:
        raise GraphError(131053, f"The file is {size} bytes; uploads are 1 byte to {UPLOAD_MAX} bytes.")


def check_sent_media(kind: str, media_id: str, mime_type: str, size: int) -> None:
    """Refuse (131053) a media id sent as a kind that does not take its type, or past the kind's size."""
    types, limit = _KINDS[kind]
    if _base(mime_type) not in types:
        raise GraphError(131053, f"Media {media_id} is {mime_type}, which cannot be sent as {kind}.")
    if size > limit:
        raise GraphError(131053, f"Media {media_id} is {size} bytes; a {kind} may be at most {limit} bytes.")
