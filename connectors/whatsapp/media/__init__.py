"""Guests' media kept, and served to agents: the records (`records`, on the store's metadata), where the bytes
live (`backends`: a folder or an S3 bucket), the keeper that downloads, keeps and expires them (`keeper`),
what a file really is (`sniffing`, pure) and the agents' route to it (`routes`).

An agent's outbound attachment goes into the same store with `MediaKeeper.keep(...)`.
"""

from connectors.whatsapp.media.backends import FileBackend, MediaBackend, S3Backend, backend_for
from connectors.whatsapp.media.keeper import MAX_BYTES, MediaKeeper, MediaUnavailableError
from connectors.whatsapp.media.records import MEDIA_KINDS, MediaRecord, MediaRecords, attach_media, media_files
from connectors.whatsapp.media.sniffing import Served, served_as, sniff

__all__ = [
    "MAX_BYTES",
    "MEDIA_KINDS",
    "FileBackend",
    "MediaBackend",
    "MediaKeeper",
    "MediaRecord",
    "MediaRecords",
    "MediaUnavailableError",
    "S3Backend",
    "Served",
    "attach_media",
    "backend_for",
    "media_files",
    "served_as",
    "sniff",
]
