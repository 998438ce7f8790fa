"""Delivering webhooks to the gateway the way Meta does: signed, and retried until a 200.

Meta retries any answer other than 200, a timeout or a refused connection, less and less often; the
sandbox does the same with exponential backoff and jitter, within a bounded number of attempts so a test
run always ends.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from sandbox.threads import Delivery
from sandbox.webhooks import encode, sign

log = logging.getLogger("sandbox.delivery")
#: Webhook posts in flight at once: more would only queue inside the client's pool, where waiting is costly.
MAX_IN_FLIGHT = 32


@dataclass(frozen=True)
class Attempt:
    kind: str
    reference: str
    attempt: int
    status: int | None
    error: str | None


class Deliverer:
    """Signs and posts webhooks with retries; keeps a short log of attempts for inspection.

    The posts go through aiohttp, as the gateway's Graph client does: the sandbox stands in for Meta on the
    machine under test, and httpx spent about 1.7 ms of CPU a post against aiohttp's 0.2 ms, which a benchmark
    of the gateway's turns counted against the gateway (a busy second core slows the Rasa server's own)."""

    def __init__(self, client: aiohttp.ClientSession, settings: Callable[[], Any]) -> None:
        self._client = client
        self._settings = settings
        self.log: deque[Attempt] = deque(maxlen=2000)
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def deliver(
        self,
        payload: dict[str, Any],
        kind: str,
        reference: str,
        record: Delivery,
        on_attempt: Callable[[], None] = lambda: None,
    ) -> bool:
        """Post `payload` until the gateway answers 200 or attempts run out; return whether it did.

        `on_attempt` runs after every attempt, so the guest page shows retries as they happen.
        """
        body = encode(payload)
        settings = self._settings()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, settings.app_secret),
            "User-Agent": "facebookexternalua",
        }
        for attempt in range(1, settings.retry_max_attempts + 1):
            # The callback URL as it is now: a retry reaches the app that serves it since (a restart elsewhere).
            status, error = await self._post(self._settings().webhook_url, body, headers)
            record.attempts = attempt
            record.last_status, record.last_error = status, error
            record.acknowledged = status == 200
            self.log.append(Attempt(kind, reference, attempt, status, error))
            on_attempt()
            if record.acknowledged:
                return True
            delay = min(settings.retry_max_backoff_ms, settings.retry_base_ms * 2 ** (attempt - 1)) / 1000
            log.info("webhook %s %s not acknowledged (%s); retry in %.2fs", kind, reference, status or error, delay)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        log.warning("webhook %s %s dropped after %d attempts", kind, reference, settings.retry_max_attempts)
        return False

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        try:
            async with self._in_flight, self._client.post(url, data=body, headers=headers) as response:
                answer = await response.text(errors="replace")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return response.status, None if response.status == 200 else answer[:200]

    async def verify(self, verify_token: str, challenge: str) -> dict[str, Any]:
        """Meta's GET handshake against the webhook URL: is the challenge echoed back?"""
        url = self._settings().webhook_url
        params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
        try:
            async with self._client.get(url, params=params) as response:
                answer = await response.text(errors="replace")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return {"verified": False, "status": None, "body": "", "error": str(error) or type(error).__name__}
        verified = response.status == 200 and answer == challenge
        return {"verified": verified, "status": response.status, "body": answer[:200], "error": None}


@dataclass
class _Pending:
    item: dict[str, Any]
    contact: dict[str, Any] | None
    record: Delivery
    on_attempt: Callable[[], None]
    done: asyncio.Future[bool]


class StatusBatcher:
    """Gathers the status changes of one business number into one webhook, as Meta does under load.

    A status waits at most `webhook_batch_window_ms` for company, and a batch holds at most
    `webhook_batch_max` statuses. `submit` returns once the batch holding the status was acknowledged
    (or given up), so a message's `delivered` is never sent before its `sent` got through. A status may
    bring the `contacts[]` entry of its guest, which `build` puts beside the batch's statuses.
    """

    def __init__(
        self,
        deliverer: Deliverer,
        settings: Callable[[], Any],
        build: Callable[[Any, list[dict[str, Any]], list[dict[str, Any]]], dict[str, Any]],
        spawn: Callable[[Any], None],
    ) -> None:
        self._deliverer = deliverer
        self._settings = settings
        self._build = build
        self._spawn = spawn
        self._pending: dict[str, tuple[Any, list[_Pending]]] = {}

    async def submit(
        self,
        number: Any,
        item: dict[str, Any],
        record: Delivery,
        on_attempt: Callable[[], None],
        contact: dict[str, Any] | None = None,
    ) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        _, batch = self._pending.setdefault(number.id, (number, []))
        batch.append(_Pending(item, contact, record, on_attempt, done))
        settings = self._settings()
        if len(batch) >= settings.webhook_batch_max:
            self._spawn(self._flush(number.id))
        elif len(batch) == 1:
            self._spawn(self._flush_later(number.id, settings.webhook_batch_window_ms / 1000))
        return await done

    def clear(self) -> None:
        """Forget every waiting status (the sandbox was reset); their senders are cancelled."""
        for _, batch in self._pending.values():
            for pending in batch:
                pending.done.cancel()
        self._pending.clear()

    async def _flush_later(self, number_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._flush(number_id)

    async def _flush(self, number_id: str) -> None:
        if number_id not in self._pending:
            return
        number, batch = self._pending.pop(number_id)
        if not batch:
            return
        shared = Delivery()

        def attempted() -> None:
            for pending in batch:
                pending.record.attempts, pending.record.acknowledged = shared.attempts, shared.acknowledged
                pending.record.last_status, pending.record.last_error = shared.last_status, shared.last_error
                pending.on_attempt()

        payload = self._build(number, [p.item for p in batch], [p.contact for p in batch if p.contact])
        reference = ",".join(p.item["id"] for p in batch[:3]) + ("…" if len(batch) > 3 else "")
        ok = await self._deliverer.deliver(payload, f"statuses x{len(batch)}", reference, shared, attempted)
        for pending in batch:
            if not pending.done.done():
                pending.done.set_result(ok)
