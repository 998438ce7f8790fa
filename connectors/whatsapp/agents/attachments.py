"""Agents send files: a multipart upload read within its own size cap, told apart by its bytes
(`cloudapi.media_kinds`), uploaded to the Cloud API and sent as an image, video, audio, document or sticker
through the same sender and window rules as a reply.

The route streams its body (`stream=True`) because Sanic's `REQUEST_MAX_SIZE` (100,000,000 bytes by default,
Rasa keeps it) is one cap for every route and below a 100 MB document with its multipart framing; a streamed
route is read here against `MAX_REQUEST_BYTES` instead, counted as it arrives, and every other route keeps
Sanic's cap and the webhook its own 3 MB (`GATEWAY_MAX_BODY_BYTES`).

The file's bytes go to the Cloud API and nowhere else: the message log keeps the message body (kind, media
id, caption, file name), never the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sanic import Request
from sanic.headers import parse_content_header
from sanic.request import parse_multipart_form

from cloudapi.errors import GraphApiError, is_retryable
from cloudapi.graph import GraphClient
from cloudapi.media_kinds import LARGEST_FILE, Classified, MediaRefusedError, classify
from cloudapi.outbound import uploaded_media_messages
from connectors.whatsapp.agents.desk import AgentDesk, DeskError, GuestContext, Sent
from connectors.whatsapp.handoff import agent_holder
from connectors.whatsapp.media import MediaKeeper
from connectors.whatsapp.sending import Recipient, Sender

__all__ = ["MAX_REQUEST_BYTES", "Attachments", "SentAttachment", "Upload", "read_upload"]

MULTIPART_ALLOWANCE = 1_000_000
"""Room beside the largest file for the multipart framing and a caption."""
MAX_REQUEST_BYTES = LARGEST_FILE + MULTIPART_ALLOWANCE
UPLOAD_HINT = "send multipart/form-data with the file in a 'file' part and, optionally, a 'caption' field"


@dataclass(frozen=True)
class Upload:
    """What the agent sent: the file's bytes and name (the browser's claimed type is not kept), a caption."""

    data: bytes
    filename: str | None
    caption: str | None


@dataclass(frozen=True)
class SentAttachment:
    """An attachment's sends, and what was sent: its kind, sniffed type, size, sha256, name and media id."""

    sent: Sent
    file: Classified
    sha256: str
    caption: str | None
    media_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.file.kind,
            "mime_type": self.file.mime_type,
            "size": self.file.size,
            "sha256": self.sha256,
            "filename": self.file.filename,
            "caption": self.caption,
            "media_id": self.media_id,
        }


def _refused(status: int, code: str, message: str) -> DeskError:
    return DeskError(status, code, message)


async def _read_capped(request: Request, limit: int) -> bytes:
    """The streamed body, refused (413) as soon as it is past `limit`: by its declared length before a byte is
    read, else while it arrives, so an oversized body is never held whole."""
    declared = request.headers.get("content-length", "")
    too_large = f"the request is over {limit // 1_000_000} MB, more than WhatsApp takes for any file"
    if declared.isdigit() and int(declared) > limit:
        raise _refused(413, "file_too_large", too_large)
    chunks, size = [], 0
    while (chunk := await request.stream.read()) is not None:
        size += len(chunk)
        if size > limit:
            raise _refused(413, "file_too_large", too_large)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: Request, limit: int = MAX_REQUEST_BYTES) -> Upload:
    """The agent's file and caption from a streamed multipart request; 413 past `limit`, 422 for anything
    but multipart/form-data with a non-empty `file` part."""
    kind, parameters = parse_content_header(request.headers.get("content-type", ""))
    boundary = parameters.get("boundary")
    if kind != "multipart/form-data" or not boundary:
        raise _refused(422, "invalid_body", UPLOAD_HINT)
    body = await _read_capped(request, limit)
    try:
        fields, files = parse_multipart_form(body, boundary.encode())
    except (ValueError, UnicodeDecodeError) as error:
        raise _refused(422, "invalid_body", f"unreadable multipart body ({error}): {UPLOAD_HINT}") from error
    upload = files.get("file")
    if upload is None or not upload.body:
        raise _refused(422, "missing_file", f"no file, or an empty one: {UPLOAD_HINT}")
    caption = (fields.get("caption") or "").strip()
    return Upload(upload.body, upload.name or None, caption or None)


def _unsent_body(file: Classified, caption: str | None) -> dict[str, Any]:
    """The message an upload refusal kept from being sent, for the message log: no media id, since none came."""
    media = {"filename": file.filename} if file.filename else {}
    if caption:
        media["caption"] = caption
    return {"type": file.kind, file.kind: media}


class Attachments:
    """Sends an agent's file: classify, check the window, upload, send; one object per request.

    The file sent is kept in the media store under its message (when the gateway has one), so the thread shows
    and serves the agent's file like a guest's."""

    def __init__(self, desk: AgentDesk, graph: GraphClient, sender: Sender, media: MediaKeeper | None) -> None:
        self._desk = desk
        self._graph = graph
        self._sender = sender
        self._media = media

    async def send(
        self, business_id: str, wa_id: str, agent: str, upload: Upload, context: GuestContext
    ) -> SentAttachment:
        """Send `upload` to the guest as the kind its bytes are. Refused before anything is sent (a
        `DeskError`): a type WhatsApp does not take (422), a file too large for its kind (413), a closed window
        (409, as a reply is). A refused upload is recorded as a failed message with WhatsApp's error code."""
        try:
            file = classify(upload.data, upload.filename)
        except MediaRefusedError as error:
            raise _refused(error.status, error.code, error.message) from error
        if not context.window.open:
            raise await self._desk.window_closed(business_id, context, "then attach the file once the guest writes")
        sha256 = hashlib.sha256(upload.data).hexdigest()
        try:
            media_id = await self._graph.upload_media(business_id, upload.data, file.mime_type, _sent_name(file))
        except Exception as error:
            refusal = _as_graph_error(error)
            change = await self._desk.take_over(business_id, wa_id, agent)
            body = _unsent_body(file, upload.caption)
            outcome = await self._sender.record_refusal(
                Recipient(business_id, wa_id), body, agent_holder(agent), refusal
            )
            return SentAttachment(Sent((outcome,), change), file, sha256, upload.caption, None)
        bodies = uploaded_media_messages(file.kind, media_id, upload.caption, file.filename)
        sent = await self._desk.send_free_form(business_id, wa_id, agent, bodies)
        message_id = sent.outcomes[0].message_id if sent.outcomes else None
        if self._media is not None and message_id is not None:
            await self._media.keep(
                upload.data, file.mime_type, file.filename, business_id, wa_id, message_id, file.kind, "outbound",
                upload.caption,
            )  # fmt: skip
        return SentAttachment(sent, file, sha256, upload.caption, media_id)


def _sent_name(file: Classified) -> str:
    """The upload's file name: a document's own, else the kind and its type's subtype (`image.jpeg`)."""
    return file.filename or f"{file.kind}.{file.mime_type.rsplit('/', 1)[-1]}"


def _as_graph_error(error: Exception) -> GraphApiError:
    """A refused upload as a Graph error to record; a network failure after the retries as one with no code."""
    if isinstance(error, GraphApiError):
        return error
    if is_retryable(error):
        return GraphApiError(None, f"network error: {type(error).__name__}")
    raise error
