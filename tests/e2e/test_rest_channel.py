"""Rasa's REST channel only when asked for: with `RASA_REST_CHANNEL=true` (the benchmarks' baseline, local
checks) the launcher serves it beside the WhatsApp channel, and Rasa's API still wants its token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import start_rasa
from tests.support import LUCIA, MIRADOR, SandboxProcess


@pytest.fixture(scope="module")
def rasa_with_rest(folder: Path, action_server: str, sandbox_process: SandboxProcess) -> Iterator[str]:
    process, url = start_rasa(folder, sandbox_process.url, action_server, RASA_REST_CHANNEL="true")
    yield url
    process.stop()


def test_the_rest_channel_answers_when_asked_for(rasa_with_rest: str) -> None:
    answer = httpx.post(
        f"{rasa_with_rest}/webhooks/rest/webhook",
        json={"sender": f"{MIRADOR}:{LUCIA}", "message": "cuál es la clave del wifi?"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert any("puerto2026" in message.get("text", "") for message in answer.json())


def test_rasas_api_still_wants_its_token(rasa_with_rest: str) -> None:
    assert httpx.get(f"{rasa_with_rest}/conversations/{MIRADOR}:{LUCIA}/tracker", timeout=30).status_code == 401
    assert httpx.get(f"{rasa_with_rest}/webhooks/whatsapp/", timeout=30).status_code == 200
