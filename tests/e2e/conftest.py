"""One real Rasa server and one action server per e2e module, with the sandbox as WhatsApp.

Every Rasa server here has the agents' API open with one agent token (`AGENT_TOKEN`), and every action server
reads the template catalog from the sandbox, so each module gets the same system `make run` starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import require_model, start_action_server, start_rasa
from tests.support import ACCESS_TOKEN, SandboxClient, SandboxProcess

AGENT_TOKEN = "desk-secret"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def action_server(folder: Path, sandbox_process: SandboxProcess) -> Iterator[str]:
    require_model()
    process, url = start_action_server(folder, WHATSAPP_API_URL=sandbox_process.url, WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN)
    yield url
    process.stop()


@pytest.fixture(scope="module")
def rasa(folder: Path, action_server: str, sandbox_process: SandboxProcess) -> Iterator[str]:
    tokens = f"desk:agent:*:{AGENT_TOKEN}"
    process, url = start_rasa(folder, sandbox_process.url, action_server, GATEWAY_API_TOKENS=tokens)
    yield url
    process.stop()


@pytest.fixture
async def guest(sandbox: SandboxClient, rasa: str) -> SandboxClient:
    """The sandbox, delivering its webhooks to the Rasa server."""
    await sandbox.configure(webhook_url=f"{rasa}/webhooks/whatsapp/webhook")
    return sandbox
