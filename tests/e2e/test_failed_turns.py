"""The action server stops mid-conversation: Rasa logs each failed action and goes on without it, which
used to end the guest's turn in silence. Now every guest who writes meanwhile is told, in their language,
that reception will answer, and their thread waits in the agents' queue with reason `bot_error`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from connectors.whatsapp.handoff import BOT_ERROR, HandoffStore, apology
from connectors.whatsapp.store import GatewayStore
from tests.e2e.test_whatsapp_rasa import bot_replies
from tests.processes import start_action_server, start_rasa
from tests.support import ACCESS_TOKEN, LUCIA, MIRADOR, OLIVER, SandboxClient, SandboxProcess

WHILE_DOWN = {"34615900001": ("hola", "es"), "447700900991": ("hello", "en")}


async def test_guests_who_write_while_the_action_server_is_down_are_handed_to_reception(
    sandbox: SandboxClient, sandbox_process: SandboxProcess, tmp_path: Path
) -> None:
    actions, actions_url = start_action_server(
        tmp_path, WHATSAPP_API_URL=sandbox_process.url, WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN
    )
    rasa, url = start_rasa(
        tmp_path, sandbox_process.url, actions_url, GATEWAY_TURN_ATTEMPTS="3", GATEWAY_TURN_RETRY_SECONDS="0.3"
    )
    try:
        await sandbox.configure(webhook_url=f"{url}/webhooks/whatsapp/webhook")
        for wa_id, text in ((LUCIA, "hola"), (OLIVER, "hi there")):
            await sandbox.guest_says(wa_id, text)
            [reply] = await bot_replies(sandbox, wa_id, 1)
            assert reply["content"]["body"] not in (apology("es"), apology("en"))

        actions.stop()
        for wa_id, (text, _) in WHILE_DOWN.items():
            await sandbox.guest_says(wa_id, text)
        for wa_id, (_, language) in WHILE_DOWN.items():
            replies = await bot_replies(sandbox, wa_id, 1, timeout=60)
            assert [r["content"]["body"] for r in replies] == [apology(language)]
        await asyncio.sleep(1)  # nothing else follows the apology

        store = GatewayStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
        try:
            handoffs = HandoffStore(store)
            for wa_id in WHILE_DOWN:
                handoff = await handoffs.get(MIRADOR, wa_id)
                assert (handoff.holder, handoff.reason) == ("queue", BOT_ERROR)
                replies = [e for e in await sandbox.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]
                assert len(replies) == 1
            assert (await handoffs.get(MIRADOR, LUCIA)).holder == "bot"
        finally:
            await store.close()
        assert "Encountered an exception while running action" in (tmp_path / "rasa.log").read_text()
    finally:
        rasa.stop()
        if actions.process.poll() is None:
            actions.stop()
