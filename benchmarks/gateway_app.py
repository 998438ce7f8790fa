"""The WhatsApp channel's blueprint alone on a Sanic server, with a bot that does nothing.

What the acknowledgement benchmark measures: raw bytes, signature, store, 200, and the processing that
follows in the background, without Rasa's own work.
"""

from __future__ import annotations

import argparse

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from connectors.whatsapp.channel import WhatsAppInput
from connectors.whatsapp.settings import load_settings


async def silent_bot(message: UserMessage) -> None:
    """Receives every message and answers nothing."""


def create_app(database_url: str) -> Sanic:
    settings = load_settings(
        {"api_url": "http://127.0.0.1:9"},
        {
            "GATEWAY_DATABASE_URL": database_url,
            "WHATSAPP_APP_SECRET": "sandbox-app-secret",
            "WHATSAPP_VERIFY_TOKEN": "v",
            "WHATSAPP_ACCESS_TOKEN": "t",
            "WHATSAPP_MARK_READ": "false",
        },
    )
    channel = WhatsAppInput(settings)
    app = Sanic("gateway_benchmark")
    app.blueprint(channel.blueprint(silent_bot), url_prefix="/webhooks/whatsapp")
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    create_app(args.database_url).run(host="127.0.0.1", port=args.port, access_log=False, motd=False)
