"""The channel against the sandbox over loopback: a guest writes, the bot answers, statuses come back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from connectors.whatsapp.channel import WhatsAppOutput
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, echo
from tests.support import LUCIA, MIRADOR, OLIVER, SandboxClient

DAY = 24 * 60 * 60


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.05)


async def outbound_rows(gateway: GatewayServer, wa_id: str = LUCIA) -> list[dict[str, Any]]:
    return [r for r in await gateway.store.thread(MIRADOR, wa_id) if r["direction"] == "outbound"]


async def test_guest_message_is_answered_and_statuses_are_recorded(
    gateway: GatewayServer, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    bot.answer = echo
    wamid = await sandbox.guest_says(LUCIA, "Hola, ¿qué tal?")
    [message] = await bot.wait_for(1)
    assert message.sender_id == f"{MIRADOR}:{LUCIA}"

    async def answered_and_read() -> list[dict[str, Any]]:
        thread = await sandbox.thread(LUCIA, MIRADOR)
        return [e for e in thread if e["direction"] == "outbound" and e["status"] == "read"]

    [reply] = await eventually(answered_and_read)
    assert reply["content"]["body"] == "echo: Hola, ¿qué tal?"
    rows = await eventually(lambda: _with_status(gateway, "read"))
    assert rows[0]["wamid"] == reply["wamid"]
    assert rows[0]["state"] == "accepted"
    assert '"category":"service"' in rows[0]["pricing"]
    guest = await sandbox.wait_for_entry(LUCIA, wamid, lambda e: e["read_by_business"])
    assert guest["webhook"]["acknowledged"]


async def _with_status(gateway: GatewayServer, status: str) -> list[dict[str, Any]]:
    return [r for r in await outbound_rows(gateway) if r["status"] == status]


async def test_buttons_round_trip_their_payload(
    gateway: GatewayServer, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    async def ask(message: UserMessage) -> None:
        if message.text == "parking?":
            buttons = [{"title": "Sí", "payload": '/affirm{"topic":"parking"}'}, {"title": "No", "payload": "/deny"}]
            await message.output_channel.send_text_with_buttons(message.sender_id, "¿Necesita parking?", buttons)

    bot.answer = ask
    await sandbox.guest_says(LUCIA, "parking?")
    await bot.wait_for(1)
    interactive = await eventually(
        lambda: _first(sandbox, lambda e: e["direction"] == "outbound" and e["type"] == "interactive")
    )
    reply = interactive["content"]["action"]["buttons"][0]["reply"]
    assert reply == {"id": '/affirm{"topic":"parking"}', "title": "Sí"}
    await sandbox.guest_says(
        LUCIA,
        message={"type": "interactive", "interactive": {"type": "button_reply", "button_reply": reply}},
        reply_to=interactive["wamid"],
    )
    messages = await bot.wait_for(2)
    assert messages[1].text == '/affirm{"topic":"parking"}'
    assert messages[1].metadata["reply_to"] == interactive["wamid"]


async def _first(sandbox: SandboxClient, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    return next((e for e in await sandbox.thread(LUCIA, MIRADOR) if predicate(e)), None)


async def test_long_text_is_split_at_whatsapps_limit(
    gateway: GatewayServer, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    long_text = " ".join(["palabra"] * 1200)

    async def answer(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, long_text)

    bot.answer = answer
    await sandbox.guest_says(LUCIA, "cuéntame todo")
    parts = await eventually(lambda: _outbound_texts(sandbox, 3))
    assert len(parts) == 3
    assert all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == long_text


async def _outbound_texts(sandbox: SandboxClient, count: int) -> list[str] | None:
    texts = [e["content"]["body"] for e in await sandbox.thread(LUCIA, MIRADOR) if e["direction"] == "outbound"]
    return texts if len(texts) >= count else None


async def test_outside_the_window_text_is_blocked_and_a_template_still_goes_out(
    gateway: GatewayServer, bot: RecordingBot, sandbox: SandboxClient, clock: MovableClock
) -> None:
    await sandbox.guest_says(OLIVER, "Hi, is breakfast included?")
    await bot.wait_for(1)
    await sandbox.advance(DAY + 1)
    clock.offset += DAY + 1
    output = gateway.channel.get_output_channel()
    sender_id = f"{MIRADOR}:{OLIVER}"

    await output.send_text_message(sender_id, "Breakfast is from 07:30 to 10:30.")
    [blocked] = await outbound_rows(gateway, OLIVER)
    assert blocked["state"] == "blocked"
    assert "24 hours" in blocked["blocked_reason"]
    assert blocked["wamid"] is None

    template = {
        "type": "template",
        "template": {
            "name": "reopen_conversation",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Oliver"},
                        {"type": "text", "text": "Hotel Mirador del Puerto"},
                    ],
                }
            ],
        },
    }
    await output.send_custom_json(sender_id, template)
    rows = await outbound_rows(gateway, OLIVER)
    assert [r["state"] for r in rows] == ["blocked", "accepted"]
    thread = await sandbox.thread(OLIVER, MIRADOR)
    assert [e["type"] for e in thread if e["direction"] == "outbound"] == ["template"]


async def test_a_guest_who_never_wrote_is_not_sent_free_text(gateway: GatewayServer, sandbox: SandboxClient) -> None:
    await gateway.channel.get_output_channel().send_text_message(f"{MIRADOR}:447700900999", "Hello")
    [row] = await gateway.store.thread(MIRADOR, "447700900999")
    assert row["state"] == "blocked"
    assert "never wrote" in row["blocked_reason"]


async def test_throttling_is_retried_and_permanent_errors_are_recorded(
    gateway: GatewayServer, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    await sandbox.guest_says(LUCIA, "Hola")
    await bot.wait_for(1)
    await sandbox.configure(pair_burst=1, pair_interval=0.3)
    output = gateway.channel.get_output_channel()
    sender_id = f"{MIRADOR}:{LUCIA}"
    await output.send_text_message(sender_id, "uno")
    await output.send_text_message(sender_id, "dos")
    await output.send_custom_json(
        sender_id, {"type": "template", "template": {"name": "no_such_template", "language": {"code": "es"}}}
    )
    rows = await outbound_rows(gateway)
    assert [(r["text"], r["state"]) for r in rows] == [
        ("uno", "accepted"),
        ("dos", "accepted"),
        ("[template no_such_template es]", "failed"),
    ]
    assert rows[2]["error_code"] == 132001
    assert rows[2]["error_title"] == "Template name does not exist in the translation"
    delivered = [e["text"] for e in await sandbox.thread(LUCIA, MIRADOR) if e["direction"] == "outbound"]
    assert delivered == ["uno", "dos"]


@pytest.mark.parametrize(
    ("mode", "guest_wrote_again", "quoted"),
    [("always", False, True), ("auto", True, True), ("auto", False, False), ("never", True, False)],
)
async def test_replies_quote_the_guest_message_per_setting(
    gateway: GatewayServer, sandbox: SandboxClient, mode: str, guest_wrote_again: bool, quoted: bool
) -> None:
    settings = replace(gateway.settings, reply_context=mode)
    quoting = GatewayServer(settings, RecordingBot(), MovableClock())
    await quoting.start()
    try:
        await sandbox.configure(webhook_url=quoting.webhook_url)
        first = await sandbox.guest_says(LUCIA, "¿Parking?")
        if guest_wrote_again:
            # The sandbox, like Meta, posts each webhook on its own: two written at once may arrive in either
            # order, and WhatsApp timestamps are whole seconds, so the gateway takes the one that arrived last
            # as the guest's newest. Writing again once the first is stored makes "again" mean "after".
            await quoting.bot.wait_for(1)
            await sandbox.guest_says(LUCIA, "¿Y desayuno?")
        messages = await quoting.bot.wait_for(2 if guest_wrote_again else 1)
        output = WhatsAppOutput(quoting.channel.gateway, reply_to=first)
        await output.send_text_message(messages[0].sender_id, "Parking: 18 EUR por noche.")
        await output.send_text_message(messages[0].sender_id, "¿Algo más?")
        replies = [r for r in await quoting.store.thread(MIRADOR, LUCIA) if r["direction"] == "outbound"]
    finally:
        await quoting.stop()
    assert ('"context":{"message_id":"' + first + '"}' in replies[0]["body"]) is quoted
    assert '"context"' not in replies[1]["body"]
