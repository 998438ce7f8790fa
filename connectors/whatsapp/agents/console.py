"""The front desk's console: a static page (HTML, JS, CSS; no build step) served by the channel's blueprint
at `/webhooks/whatsapp/console/`. It talks to the agents' API with the token the agent logs in with.
"""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file, redirect, text

FOLDER = Path(__file__).resolve().parent / "console"
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript",
    "console.css": "text/css",
    "desk_tools.js": "text/javascript",
    "media.js": "text/javascript",
}


def add_console_routes(blueprint: Blueprint) -> None:
    @blueprint.route("/console", methods=["GET"])
    async def console_folder(request: Request) -> HTTPResponse:
        return redirect(f"{request.path}/")  # the page's assets are relative to the folder

    @blueprint.route("/console/<asset>", methods=["GET"])
    async def console_asset(request: Request, asset: str) -> HTTPResponse:
        """`/console/` itself arrives here with an empty asset (Sanic's routes ignore a trailing slash)."""
        asset = asset or "index.html"
        if asset not in ASSETS:
            return text("not found", status=404)
        return await file(FOLDER / asset, mime_type=ASSETS[asset], headers={"Cache-Control": "no-cache"})
