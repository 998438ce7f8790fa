"""The gateway (channel blueprint, API and outbox workers) alone on a Sanic server, talking to a sandbox,
for the automation sends benchmark. Settings come from the environment like a real deployment's."""

from __future__ import annotations

import argparse

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from connectors.whatsapp.channel import WhatsAppInput
from connectors.whatsapp.settings import load_settings


async def silent_bot(message: UserMessage) -> None:
    """Receives every message and answers nothing."""


def create_app() -> Sanic:
    channel = WhatsAppInput(load_settings(None))
    app = Sanic("automation_benchmark")
    app.blueprint(channel.blueprint(silent_bot), url_prefix="/webhooks/whatsapp")
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    create_app().run(host="127.0.0.1", port=args.port, access_log=False, motd=False)
