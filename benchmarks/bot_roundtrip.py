"""The time from a guest's message to the bot's answer: through the WhatsApp channel (signed webhook in,
the answer's send reaching the sandbox) beside Rasa's own REST channel answering the same message with the
same model, action server and tracker store, in the same run. Target: the channel adds at most 5 %.

Both paths are timed on this machine's clock: the WhatsApp path from the sandbox sending the signed webhook
to the sandbox accepting the bot's send (both its own timestamps); the REST path is one request. The two
alternate message by message so that noise falls on both alike.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.measure import channel_metadata, percentile
from tests.gateway_support import empty_database, postgres_url
from tests.processes import require_model, start_action_server, start_rasa
from tests.support import MIRADOR, SandboxProcess

MESSAGES = 40
WARM_UP = 5
TEXT = "hola buenas"


async def whatsapp_once(client: httpx.AsyncClient, sandbox: str, i: int) -> float:
    """Seconds from the sandbox sending the guest's signed webhook to it accepting the bot's first send,
    both stamped by the sandbox on this machine's clock. The answer is awaited on the sandbox's event stream,
    which costs nothing while waiting (polling would load the same two cores the bot runs on)."""
    wa_id = f"3469{i:07d}"
    async with client.stream("GET", f"{sandbox}/sandbox/events", params={"wa_id": wa_id}) as events:
        sent = await client.post(f"{sandbox}/sandbox/guests/{wa_id}/messages", json={"to": MIRADOR, "text": TEXT})
        wamid = sent.json()["wamid"]
        asked = None
        async for line in events.aiter_lines():
            if not line.startswith("data: "):
                continue
            entry = json.loads(line.removeprefix("data: "))
            if entry["wamid"] == wamid:
                asked = entry["timestamp"]
            elif entry["direction"] == "outbound" and asked is not None:
                return float(entry["timestamp"]) - asked
    raise RuntimeError(f"the event stream ended before guest {wa_id} got an answer")


async def rest_once(client: httpx.AsyncClient, rasa: str, i: int) -> float:
    started = time.time()
    wa_id = f"3468{i:07d}"
    metadata = channel_metadata(MIRADOR, wa_id, f"wamid.rest{i}")
    response = await client.post(
        f"{rasa}/webhooks/rest/webhook", json={"sender": f"{MIRADOR}:{wa_id}", "message": TEXT, "metadata": metadata}
    )
    answers = response.json()
    if not answers:
        raise RuntimeError("the REST channel gave no answer")
    return time.time() - started


def _line(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"  {label:<46} p50 {statistics.median(ms):7.1f} ms   p99 {percentile(ms, 0.99):7.1f} ms   ({len(ms)} messages)"
    )


async def measure(rasa: str, sandbox: str) -> tuple[list[float], list[float]]:
    whatsapp: list[float] = []
    rest: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(WARM_UP + MESSAGES):
            w = await whatsapp_once(client, sandbox, i)
            r = await rest_once(client, rasa, i)
            if i >= WARM_UP:
                whatsapp.append(w)
                rest.append(r)
    return whatsapp, rest


def main() -> None:
    require_model()
    databases = [("SQLite", None)]
    if postgres_url():
        databases.append(("PostgreSQL", postgres_url()))
    results = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sandbox = SandboxProcess("http://127.0.0.1:9/unused", folder / "sandbox.log", SANDBOX_STATUS_DELAY_MS="1000")
        actions, actions_url = start_action_server(folder)
        try:
            for label, database in databases:
                results.append((label, *_measure_with(folder / label, sandbox, actions_url, database)))
        finally:
            actions.stop()
            sandbox.stop()
    print(f"Guest message to bot answer: '{TEXT}', same model, actions and tracker store")
    for label, whatsapp, rest in results:
        overhead = statistics.median(whatsapp) - statistics.median(rest)
        share = statistics.median(whatsapp) / statistics.median(rest) - 1
        verdict = "within" if share <= 0.05 else "ABOVE"
        print(_line(f"Rasa REST channel (baseline, {label} run)", rest))
        print(_line(f"WhatsApp channel, gateway on {label}", whatsapp))
        print(f"  adds {overhead * 1000:+.1f} ms ({share:+.1%}) at the median: {verdict} the 5 % target")


def _measure_with(
    folder: Path, sandbox: SandboxProcess, actions_url: str, database: str | None
) -> tuple[list[float], list[float]]:
    folder.mkdir()
    settings = {"RASA_REST_CHANNEL": "true", **({"GATEWAY_DATABASE_URL": database} if database else {})}
    if database:
        asyncio.run(empty_database(database))
    rasa, rasa_url = start_rasa(folder, sandbox.url, actions_url, **settings)
    try:
        httpx.patch(f"{sandbox.url}/sandbox/settings", json={"webhook_url": f"{rasa_url}/webhooks/whatsapp/webhook"})
        httpx.post(f"{sandbox.url}/sandbox/reset")
        return asyncio.run(measure(rasa_url, sandbox.url))
    finally:
        rasa.stop()


if __name__ == "__main__":
    main()
