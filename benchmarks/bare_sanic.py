"""The baseline: a bare Sanic handler answering every POST with the sandbox's success JSON.

It also serves as the sandbox's webhook receiver during the benchmark, so status webhooks cost the
sandbox a real HTTP round trip, as they would with a gateway.
"""

from __future__ import annotations

import argparse
import secrets

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json


def create_app() -> Sanic:
    app = Sanic("bare_baseline")

    @app.post("/<path:path>")
    async def answer(request: Request, path: str) -> HTTPResponse:
        return json(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": "34612345678", "wa_id": "34612345678"}],
                "messages": [{"id": "wamid." + secrets.token_urlsafe(24), "message_status": "accepted"}],
            }
        )

    @app.get("/ready")
    async def ready(request: Request) -> HTTPResponse:
        return json({"ok": True})

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    create_app().run(host="127.0.0.1", port=parser.parse_args().port, access_log=False, motd=False)
