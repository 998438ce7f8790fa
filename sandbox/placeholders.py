"""The bytes the sandbox stores for a file a guest "sends" without giving its content.

A test asks for an image with no file, or replays a real webhook whose media id the sandbox never made; the
gateway will still download the media (`GET /{media_id}`, then its URL), so the sandbox keeps bytes of the
claimed type: a real one-pixel picture or one-page PDF for the types it has a sample of
(`sandbox/data/media/`), and for any other type a short text naming the type, enough for a download.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

MEDIA_DIR = Path(__file__).parent / "data" / "media"
SAMPLES = {
    "image/png": "placeholder.png",
    "image/jpeg": "placeholder.jpg",
    "image/webp": "placeholder.webp",
    "application/pdf": "placeholder.pdf",
}
#: The type a guest's media of each kind has when the message names none (stickers are WebP on WhatsApp).
DEFAULT_MIME = {
    "image": "image/png",
    "sticker": "image/webp",
    "audio": "audio/ogg",
    "video": "video/mp4",
    "document": "application/pdf",
}


@cache
def placeholder(mime_type: str) -> bytes:
    """Bytes for a file of `mime_type`; parameters such as `; codecs=opus` do not change the sample."""
    base = mime_type.split(";", 1)[0].strip().lower()
    sample = SAMPLES.get(base)
    if sample is not None:
        return (MEDIA_DIR / sample).read_bytes()
    return f"Placeholder {base or 'file'} from the WhatsApp sandbox.\n".encode()
