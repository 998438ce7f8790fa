"""`GET /api/v1/media/{id}`: a kept file's bytes for an agent of its hotel.

Hotel-scoped like the threads: a file of a hotel the token may not act for is 404, exactly like one that
does not exist; one not kept (still downloading, refused, failed, expired) is 409 with its state and reason.
The bytes go out as `sniffing.served_as` decides, with `X-Content-Type-Options: nosniff` so a browser never
second-guesses it, and a sandboxing CSP in case a PDF viewer or a download opens it in the page's origin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from connectors.whatsapp.api.auth import requires, token_of
from connectors.whatsapp.api.responses import problem
from connectors.whatsapp.media.keeper import MediaUnavailableError
from connectors.whatsapp.media.sniffing import served_as

if TYPE_CHECKING:
    from connectors.whatsapp.gateway import Gateway

_EXTENSIONS = {"image": "jpg", "audio": "ogg", "video": "mp4", "document": "bin", "sticker": "webp"}


class MediaRoutes:
    """The media route's handler, bound to the gateway it serves (named, so tests and tools can reach it)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def media_file(self, request: Request, media_id: str) -> HTTPResponse:
        """GET /api/v1/media/{id}: the file's bytes, its type and `Content-Disposition`."""
        keeper = self.gateway.media
        record = await keeper.records.get(media_id) if keeper is not None and len(media_id) <= 32 else None
        if record is None or not token_of(request).may_act_for(record.business_id):
            return problem(404, "not_found", "no such media file among the hotels this token may act for")
        assert keeper is not None
        try:
            data = await keeper.read(record)
        except (MediaUnavailableError, FileNotFoundError):
            reason = record.reason or {"pending": "still being downloaded from WhatsApp"}.get(record.state, "")
            return problem(
                409,
                "media_not_available",
                f"this file is {record.state}: {reason}".rstrip(": "),
                state=record.state,
                reason=record.reason,
            )
        served = served_as(record.mime_type or record.claimed_mime_type, data)
        filename = record.filename or f"{record.kind}-{record.id[:8]}.{_EXTENSIONS.get(record.kind, 'bin')}"
        headers = {
            "Content-Disposition": served.disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=3600",
        }
        return raw(data, content_type=served.content_type, headers=headers)


def add_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    routes = MediaRoutes(gateway)
    blueprint.add_route(requires(gateway, "agent")(routes.media_file), "/api/v1/media/<media_id>", methods=["GET"])
