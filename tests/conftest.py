"""Fixtures shared by every suite: the sandbox process and a webhook receiver standing in for the gateway."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.support import SandboxClient, SandboxProcess, WebhookReceiver, free_port, open_sqlite_connections

DEFAULT_SETTINGS = {
    "throughput_limit": 80,
    "pair_burst": 45,
    "pair_interval": 6.0,
    "undeliverable": ["34600000000"],
    "window_errors": "sync",
    "fault_error_rate": 0.0,
    "fault_delay_rate": 0.0,
    "fault_delay_ms": 0,
    "status_delay_ms": 20,
    "auto_read": True,
}


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[WebhookReceiver]:
    """A webhook receiver on loopback, started once for the session."""
    hook = WebhookReceiver()
    app = web.Application()
    app.router.add_route("*", "/webhook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    hook.url = f"http://127.0.0.1:{port}/webhook"
    yield hook
    await runner.cleanup()


@pytest.fixture(scope="session")
def sandbox_process(receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    log = Path(tmp_path_factory.mktemp("sandbox")) / "sandbox.log"
    process = SandboxProcess(receiver.url, log)
    yield process
    process.stop()


@pytest.fixture
async def sandbox(sandbox_process: SandboxProcess, receiver: WebhookReceiver) -> AsyncIterator[SandboxClient]:
    """A client of the shared sandbox, reset to its defaults before each test."""
    client = SandboxClient(sandbox_process.url)
    await client.reset()
    await client.configure(webhook_url=receiver.url, **DEFAULT_SETTINGS)
    receiver.answers.clear()
    yield client
    await client.http.aclose()


@pytest.fixture(autouse=True)
def closes_its_sqlite_connections() -> Iterator[None]:
    """A SQLite connection left open keeps the test process from exiting after its last test (a CI run hung
    so): the test that left it fails, by name, instead. Threads end a moment after their connection closes."""
    before = open_sqlite_connections()
    yield
    deadline = time.monotonic() + 5
    while open_sqlite_connections() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    left = open_sqlite_connections() - before
    if left > 0:
        pytest.fail(f"the test left {left} SQLite connection(s) open: a store or engine it opened was not closed")
