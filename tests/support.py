"""Test helpers shared by the suites: free ports, the sandbox as a real process, a webhook receiver.

The sandbox always runs as its own process (`python -m sandbox`), exactly as `make run` starts it, and
every test talks to it over real HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
APP_SECRET = "sandbox-app-secret"
ACCESS_TOKEN = "sandbox-access-token"
VERIFY_TOKEN = "sandbox-verify-token"
RASA_API_TOKEN = "test-rasa-api-token"
ACTION_SERVER_TOKEN = "test-action-server-token"
MIRADOR = "1000000001"
ALAMEDA = "1000000002"
WABA = "2000000001"
LUCIA = "34612345678"
OLIVER = "447700900123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """`python -m sandbox` on a free port, stopped (and its output shown) when the test session ends."""

    def __init__(self, webhook_url: str, log_path: Path, **environment: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "SANDBOX_RETRY_BASE_MS": "50",
            "SANDBOX_STATUS_DELAY_MS": "20",
            **environment,
        }
        command = [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--webhook-url", webhook_url, "--log-level", "WARNING"]
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the sandbox exited at start-up:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/sandbox/config", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the sandbox did not answer within {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def signature_valid(self) -> bool:
        expected = "sha256=" + hmac.new(APP_SECRET.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Hub-Signature-256", ""))


@dataclass
class WebhookReceiver:
    """A stand-in gateway: records every webhook and answers 200, or what a test scripts."""

    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    verify_token: str = VERIFY_TOKEN
    url: str = ""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            ok = (
                request.query.get("hub.mode") == "subscribe"
                and request.query.get("hub.verify_token") == self.verify_token
            )
            return web.Response(
                text=request.query.get("hub.challenge", "") if ok else "forbidden", status=200 if ok else 403
            )
        body = await request.read()
        status = self.answers.pop(0) if self.answers else 200
        record = Received(request.method, request.path, dict(request.query), dict(request.headers), body, status)
        async with self._changed:
            self.received.append(record)
            self._changed.notify_all()
        return web.Response(text="ok" if status == 200 else "try again", status=status)

    async def wait_for(
        self, predicate: Callable[[Received], bool], count: int = 1, timeout: float = 10.0
    ) -> list[Received]:
        """The first `count` webhooks matching `predicate`, waiting for them to arrive."""

        def matching() -> list[Received]:
            return [r for r in self.received if predicate(r)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), timeout)
        return matching()[:count]


def statuses_of(wamid: str) -> Callable[[Received], bool]:
    """Matches status webhooks about the business message `wamid`."""

    def match(record: Received) -> bool:
        value = record.payload["entry"][0]["changes"][0]["value"]
        return any(s["id"] == wamid for s in value.get("statuses", []))

    return match


def status_in(record: Received, wamid: str) -> dict[str, Any]:
    """The status of the business message `wamid` in a (possibly batched) status webhook."""
    value = record.payload["entry"][0]["changes"][0]["value"]
    return next(s for s in value["statuses"] if s["id"] == wamid)


def message_of(wamid: str) -> Callable[[Received], bool]:
    """Matches inbound-message webhooks carrying the guest message `wamid`."""

    def match(record: Received) -> bool:
        value = record.payload["entry"][0]["changes"][0]["value"]
        return any(m["id"] == wamid for m in value.get("messages", []))

    return match


class SandboxClient:
    """httpx on the sandbox: the Cloud API as a gateway calls it, and the sandbox's own controls."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=10)

    async def send(self, body: dict[str, Any], number: str = MIRADOR, token: str = ACCESS_TOKEN) -> httpx.Response:
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", **body}
        return await self.http.post(
            f"/v23.0/{number}/messages", json=payload, headers={"Authorization": f"Bearer {token}"}
        )

    async def guest_says(self, wa_id: str, text: str | None = None, to: str = MIRADOR, **extra: Any) -> str:
        body: dict[str, Any] = {"to": to, **extra}
        if text is not None:
            body["text"] = text
        response = await self.http.post(f"/sandbox/guests/{wa_id}/messages", json=body)
        assert response.status_code == 200, response.text
        return response.json()["wamid"]

    async def thread(self, wa_id: str, business: str | None = None) -> list[dict[str, Any]]:
        params = {"business": business} if business else {}
        response = await self.http.get(f"/sandbox/guests/{wa_id}/messages", params=params)
        return response.json()["messages"]

    async def configure(self, **settings: Any) -> dict[str, Any]:
        response = await self.http.patch("/sandbox/settings", json=settings)
        assert response.status_code == 200, response.text
        return response.json()

    async def advance(self, seconds: float) -> None:
        response = await self.http.post("/sandbox/clock", json={"advance": seconds})
        assert response.status_code == 200, response.text

    async def reset(self) -> None:
        await self.http.post("/sandbox/reset")

    async def wait_for_entry(
        self, wa_id: str, wamid: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Poll the thread until the entry `wamid` satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            entry = next((e for e in await self.thread(wa_id) if e["wamid"] == wamid), None)
            if entry is not None and predicate(entry):
                return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"entry {wamid} never matched; last seen: {entry}")
            await asyncio.sleep(0.05)


def open_sqlite_connections() -> int:
    """Each open aiosqlite connection runs a (non-daemon) thread of its own."""
    return sum(1 for t in threading.enumerate() if "_connection_worker_thread" in t.name and t.is_alive())
