"""Automation sends under the sandbox's faults: 5xx on 30 % of sends and 130429 bursts (the sandbox's
throughput below the gateway's pace). Every message of a batch ends sent or failed with its error, and no
guest gets a reminder twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.automations.conftest import ServerFactory
from tests.automations.helpers import eventually
from tests.automations.test_api import REMINDER, _api
from tests.support import MIRADOR, SandboxClient

GUESTS = [f"+34 62{i:07d}" for i in range(60)]


async def test_a_batch_under_5xx_and_throttling_is_sent_once_each_or_recorded_failed(
    make_gateway: ServerFactory, sandbox: SandboxClient
) -> None:
    await sandbox.configure(throughput_limit=15, fault_error_rate=0.3)
    try:
        gateway = await make_gateway(throughput_per_second=40)
        messages = [{"to": guest, "purpose": "reservation_reminder", "parameters": REMINDER} for guest in GUESTS]
        async with _api(gateway) as api:
            answer = await api.post("/batches", json={"business": MIRADOR, "messages": messages})
            assert answer.status_code == 202, answer.text
            batch_id = answer.json()["id"]

            last: dict[str, Any] = {}

            async def finished() -> dict[str, Any] | None:
                last.update((await api.get(f"/batches/{batch_id}")).json())
                return last if all(m["state"] in ("read", "failed") for m in last["messages"]) else None

            # A message may draw a 5xx on 7 tries in a row (0.3**7, about 1 run in 80 for 60 messages): the queue's
            # backoff then waits up to 1 + 2 + ... + 64 s before its last try, more on a busy machine.
            try:
                batch = await eventually(finished, timeout=240, every=0.5)
            except AssertionError:
                unfinished = [m for m in last["messages"] if m["state"] not in ("read", "failed")]
                raise AssertionError(f"{len(unfinished)} messages unfinished: {unfinished}") from None
    finally:
        await sandbox.configure(throughput_limit=80, fault_error_rate=0.0)

    assert batch["total"] == len(batch["messages"]) == len(GUESTS)
    failed = [m for m in batch["messages"] if m["state"] == "failed"]
    assert all(m["error"]["code"] in (131000, 130429) for m in failed), failed
    received: Counter[str] = Counter()
    for guest in GUESTS:
        wa_id = guest.replace("+", "").replace(" ", "")
        thread = await sandbox.thread(wa_id, MIRADOR)
        received[wa_id] = sum(1 for e in thread if e["direction"] == "outbound")
    assert max(received.values()) == 1, [g for g, n in received.items() if n > 1]
    assert sum(received.values()) == len(GUESTS) - len(failed)
