"""How long the assistant takes to answer a guest's message, over the conversations of tests/test_stories.yml:
`Agent.handle_message` on the trained model with the real action server (NLU, policies, the custom action's
HTTP call, the reservation look-up and the responses), one message at a time, each conversation replayed
`ROUNDS` times. Guests with a reservation keep their number; the others get a fresh one each round, so every
round asks for the booking code again and hands over to a person again.

Needs models/hotel.tar.gz (`make train`). The model is loaded and the action server started outside the timings.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.assistant_nlu import MODEL, load_agent
from benchmarks.measure import ROOT, Figures
from tests.processes import start_action_server

STORIES = ROOT / "tests" / "test_stories.yml"
ROUNDS = 10
GUESTS = {
    "Lucía at Mirador asks in Spanish about her stay and pays": "1000000001:34612345678",
    "Oliver asks in English about arriving and the hotel": "1000000001:447700900123",
}
"""Stories told by a guest with a reservation; every other story's guest is a number with none."""
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def conversations() -> list[tuple[str, list[str]]]:
    """(story title, the guest's messages) of each test story, entity annotations removed."""
    stories = yaml.safe_load(STORIES.read_text(encoding="utf-8"))["stories"]
    return [
        (story["story"], [_ANNOTATION.sub(r"\1", step["user"].strip()) for step in story["steps"] if "user" in step])
        for story in stories
    ]


async def replay(agent: Any) -> Figures:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    latencies: list[float] = []
    started = time.perf_counter()
    for round_ in range(ROUNDS):
        for index, (title, messages) in enumerate(conversations()):
            sender = GUESTS.get(title) or f"100000000{1 + index % 2}:3469{round_:03d}{index:04d}"
            business, wa_id = sender.split(":")
            for text in messages:
                metadata = {"phone_number_id": business, "wa_id": wa_id, "timestamp": int(time.time())}
                before = time.perf_counter()
                channel = CollectingOutputChannel()
                await agent.handle_message(UserMessage(text, channel, sender, metadata=metadata))
                latencies.append((time.perf_counter() - before) * 1000)
                if not channel.messages:
                    raise RuntimeError(f"{title}: no answer to {text!r}")
    total = len(latencies)
    return Figures("per guest message (test stories)", total, total, time.perf_counter() - started, tuple(latencies))


def main() -> None:
    if not MODEL.exists():
        print("Assistant turns: skipped, no models/hotel.tar.gz (run `make train`)")
        return
    with tempfile.TemporaryDirectory() as folder:
        server, url = start_action_server(Path(folder))
        try:
            agent = load_agent(f"{url}/webhook")
            figures = asyncio.run(replay(agent))
        finally:
            server.stop()
    print(f"Assistant turns: Agent.handle_message with the action server, {ROUNDS} rounds of {STORIES.name}")
    print(figures.line())


if __name__ == "__main__":
    main()
