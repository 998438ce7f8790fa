"""`python -m connectors.whatsapp.intake_server`: the gateway without Rasa, taking Meta's webhooks off the Rasa servers.

A Rasa server's event loop is the one core its turns run on. Left to it, every webhook (the request, its
signature, the group commit, then recording the batch: a guest's message and the sent, delivered and read
statuses of each answer) shares that loop with the turns, and a WhatsApp turn cost the server about a quarter
more CPU than a REST channel turn (`python -m benchmarks.cluster`). This process does all of that instead:
verify, store, acknowledge, record, the automations' look at each batch (opt-outs) and the media downloads.
It runs no turn: the Rasa servers pick its guest messages up from the shared store (set
`GATEWAY_PICKUP_SECONDS` on them, 0.05 under `make cluster`) and answer them. `make cluster` puts nginx's
webhook route in front of these; any number may run, on any machine that reaches the store. It imports none
of Rasa's actions, so no TensorFlow: 142 MB resident against a replica's 839 MB.

Settings: the gateway's own (the README's table; `GATEWAY_RUN_TURNS` is always off here), and where it listens,
`GATEWAY_INTAKE_HOST` (default 127.0.0.1) and `GATEWAY_INTAKE_PORT` (default 5006).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from connectors.whatsapp.channel import WhatsAppInput
from connectors.whatsapp.settings import SettingsError, load_settings

__all__ = ["IntakeSettings", "create_app", "main"]


@dataclass(frozen=True)
class IntakeSettings:
    host: str
    port: int

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> IntakeSettings:
        port = env.get("GATEWAY_INTAKE_PORT", "5006")
        if not port.isdigit():
            raise SettingsError(f"GATEWAY_INTAKE_PORT={port!r} is not a port number")
        return cls(env.get("GATEWAY_INTAKE_HOST") or "127.0.0.1", int(port))


async def no_turns(message: UserMessage) -> None:
    """The bot of a process that runs no turns: never called, as the processor hands every message on."""
    raise RuntimeError(f"the gateway intake runs no turns, yet was given message {message.message_id}")


def create_app(env: Mapping[str, str]) -> Sanic:
    """The channel's blueprint on a bare Sanic app, its settings from `env` with turns off."""
    settings = load_settings(None, {**env, "GATEWAY_RUN_TURNS": "false"})
    channel = WhatsAppInput(settings)
    app = Sanic("gateway_intake")
    # Where Rasa mounts a channel, so nginx and Meta see one path whichever process answers.
    app.blueprint(channel.blueprint(no_turns), url_prefix=f"/webhooks/{channel.url_prefix()}")
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        where = IntakeSettings.from_environment(os.environ)
        app = create_app(os.environ)
    except SettingsError as error:
        sys.exit(f"connectors.whatsapp.intake_server: {error}")
    app.run(host=where.host, port=where.port, access_log=False, motd=False, workers=1)


if __name__ == "__main__":
    main()
