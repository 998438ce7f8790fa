"""Fixtures for the browser tests: the sandbox as a real process, a webhook receiver and headless Chromium,
and for the console's pages the real gateway.

Self-contained on purpose: the sandbox runs exactly as `python -m sandbox` does, talking over loopback to a
receiver that plays the gateway, so the page is tested against the real peer and nothing is patched.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from connectors.whatsapp.tokens import parse_tokens
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, echo, settings_for
from tests.support import SandboxClient

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class Webhook:
    """One POST the receiver got, kept raw so its signature can be checked over the exact bytes."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """Stands in for the gateway: answers every webhook 200 and remembers what arrived."""

    url: str
    received: list[Webhook] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, webhook: Webhook) -> None:
        with self.lock:
            self.received.append(webhook)

    def snapshot(self) -> list[Webhook]:
        with self.lock:
            return list(self.received)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.record(Webhook(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self._answer(b"")

        def do_GET(self) -> None:
            """Meta's verification handshake: echo the challenge back."""
            challenge = parse_qs(urlsplit(self.path).query).get("hub.challenge", [""])[0]
            self._answer(challenge.encode())

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test output should show failures, not every webhook."""

    return Handler


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = WebhookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}/webhooks/whatsapp/webhook")
    server.RequestHandlerClass = _handler_for(receiver)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


def _sandbox_environment() -> dict[str, str]:
    """The caller's environment without sandbox or WhatsApp settings, so the defaults (app secret…) hold."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "WHATSAPP_"))}


def _wait_until_serving(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the sandbox exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/sandbox/config", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the sandbox did not answer within {STARTUP_SECONDS}s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def sandbox_url(webhook_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running `python -m sandbox` whose webhooks go to the receiver, with quick status changes."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--webhook-url",
        webhook_receiver.url,
        "--status-delay-ms",
        "50",
    ]
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=_sandbox_environment(), stdout=output, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, base_url, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def fresh_sandbox(sandbox_url: str, webhook_receiver: WebhookReceiver) -> str:
    """The sandbox with empty threads and the receiver with nothing received, so tests do not see each other."""
    httpx.post(f"{sandbox_url}/sandbox/reset", timeout=5.0).raise_for_status()
    webhook_receiver.clear()
    return sandbox_url


def _require_chromium() -> None:
    """Never download a browser: use Debian's, and in CI its absence is a failure, not a skip."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing; install Debian's chromium (apt-get install -y chromium) to run browser tests"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    _require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context, so nothing (localStorage included) carries over between tests. Whatever the
    test, the page must not have done anything its Content-Security-Policy refused (Chromium reports each
    refusal on the console)."""
    context = await browser.new_context(viewport={"width": 1100, "height": 820}, locale="en-GB")
    page = await context.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    yield page
    await context.close()
    assert refused == [], "the page did something its Content-Security-Policy refuses"


CONSOLE_TOKENS = "marta:agent:1000000001:marta-secret,crm:automation:*:crm-secret"
"""Marta, a front-desk agent at Hotel Mirador, and a CRM's automation token for every hotel."""


@pytest.fixture
async def gateway(tmp_path: Path, sandbox: SandboxClient) -> AsyncIterator[GatewayServer]:
    """The real gateway whose console the pages open, its bot echoing; the read statuses are the tests'."""
    settings = settings_for(
        sandbox.base_url, f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}", api_tokens=parse_tokens(CONSOLE_TOKENS)
    )
    server = GatewayServer(settings, RecordingBot(answer=echo), MovableClock())
    await server.start()
    await sandbox.configure(webhook_url=server.webhook_url, auto_read=False)
    yield server
    await server.stop()
