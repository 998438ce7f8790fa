"""How long the trained assistant takes to understand a message: `Agent.parse_message` on the model
`make train` writes, one message at a time, beside `/intent` texts (what the channel sends for a location or a
photo): Rasa reads their intent from the text, but still runs them through the same graph, so they show what
parsing costs around the NLU models themselves.

Needs models/hotel.tar.gz (`make train`); the model is loaded once, outside the timings.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from .measure import Figures

MODEL = Path(__file__).resolve().parent.parent / "models" / "hotel.tar.gz"
MESSAGES_PER_RUN = 200
GUEST_MESSAGES = (
    "hola buenas",
    "hi there",
    "cuál es la clave del wifi?",
    "what time can I check in",
    "a que hora es el checkout",
    "is breakfast included?",
    "me mandas el enlace de pago?",
    "how much do i still owe?",
    "tienen parking? 🚗",
    "where is the hotel?",
    "mi código es MDP-4F7K2Q",
    "can i cancel for free?",
    "quiero hablar con una persona",
    "are you a bot?",
    "muchas gracias!!",
    "ok bye",
)
TRIGGERED_INTENTS = ("/share_location", "/send_media", "/react", "/unsupported_message")


async def time_parses(agent: Any, label: str, texts: tuple[str, ...]) -> Figures:
    """Parse `MESSAGES_PER_RUN` messages cycling through `texts`, one at a time, timing each."""
    latencies = []
    started = time.perf_counter()
    for text in islice(cycle(texts), MESSAGES_PER_RUN):
        before = time.perf_counter()
        await agent.parse_message(text)
        latencies.append((time.perf_counter() - before) * 1000)
    seconds = time.perf_counter() - started
    return Figures(label, MESSAGES_PER_RUN, MESSAGES_PER_RUN, seconds, tuple(latencies))


async def measure(agent: Any) -> list[Figures]:
    await time_parses(agent, "warm-up", GUEST_MESSAGES)
    return [
        await time_parses(agent, "/intent texts (intent given)", TRIGGERED_INTENTS),
        await time_parses(agent, "guest messages (NLU pipeline)", GUEST_MESSAGES),
    ]


def main() -> None:
    if not MODEL.exists():
        print(f"Assistant NLU: skipped, no {MODEL.relative_to(MODEL.parent.parent)} (run `make train`)")
        return
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    # Rasa and TensorFlow are imported only once there is a model to measure.
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # As `rasa run` does; left unconfigured, Rasa prints a debug line per parse and times the terminal.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    loading = time.perf_counter()
    agent = Agent.load(MODEL)
    loaded_in = time.perf_counter() - loading
    baseline, nlu = asyncio.run(measure(agent))
    print(f"Assistant NLU: Agent.parse_message, {MESSAGES_PER_RUN} messages per run, one at a time")
    print(f"  model loaded in {loaded_in:.1f} s")
    print(baseline.line())
    print(nlu.line())
    print(f"  the NLU models add {nlu.percentile(0.5) - baseline.percentile(0.5):.2f} ms at p50")


if __name__ == "__main__":
    main()
