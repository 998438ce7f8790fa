"""The Graph API client: one long-lived aiohttp session per client, explicit timeouts and limits, and one
retry policy chosen by error class.

Retries cover timeouts, network errors, 5xx and the throttling codes (`errors.is_retryable`), with
exponential backoff and jitter, honouring `Retry-After`; a permanent error is raised at once. A send that
got a 2xx is never sent again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from cloudapi.errors import GraphApiError, error_from_response, is_retryable

if TYPE_CHECKING:
    from connectors.whatsapp.settings import GatewaySettings

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30.0
CONNECTIONS = 64
"""Open connections per client: 1,000 sends a second at up to 64 ms each."""


class GraphClient:
    """Sends messages and read receipts for any business phone number of the gateway.

    Built on aiohttp rather than httpx, which the rest of the project uses: this is the gateway's hot path
    (every answer, read receipt and automation send), and on this machine httpx 0.28 spent 1.2 to 2.5 ms of
    CPU per request against 0.2 to 0.5 ms for aiohttp (`python -m benchmarks.graph_client`). The session is
    opened on first use, inside the running event loop, as aiohttp requires.
    """

    def __init__(
        self,
        settings: GatewaySettings,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self._settings.access_token}"},
                timeout=aiohttp.ClientTimeout(total=self._settings.send_timeout_seconds, connect=5.0),
                connector=aiohttp.TCPConnector(limit=CONNECTIONS),
                raise_for_status=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, business_id: str, body: dict[str, Any]) -> str:
        """Send one message body (already addressed) and return its wamid."""
        answer = await self._post(business_id, body)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if not messages or not isinstance(messages[0], dict) or "id" not in messages[0]:
            raise GraphApiError(None, "Unexpected answer", details=str(answer)[:200], http_status=200)
        return str(messages[0]["id"])

    async def mark_read(self, business_id: str, message_id: str, typing: bool) -> None:
        """Mark a guest's message read (blue ticks), with the typing indicator while the bot thinks."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._post(business_id, body)

    async def list_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of a WhatsApp Business Account (`GET /{waba_id}/message_templates`), all pages."""
        items: list[dict[str, Any]] = []
        url: str | None = f"{self._settings.messages_url}/{waba_id}/message_templates"
        params: dict[str, str] | None = {"limit": "100"}
        while url:
            async with self._client().get(url, params=params) as response:
                page = await _answer(response)
            items.extend(item for item in page.get("data") or [] if isinstance(item, dict))
            url, params = (page.get("paging") or {}).get("next"), None
        return items

    async def _post(self, business_id: str, body: dict[str, Any]) -> Any:
        url = f"{self._settings.messages_url}/{business_id}/messages"
        attempts = self._settings.send_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self._client().post(url, json=body) as response:
                    return await _answer(response)
            except Exception as error:
                if attempt == attempts or not is_retryable(error):
                    raise
                delay = self._backoff(attempt, error)
                log.info(
                    "Graph API call failed (%s); attempt %d of %d in %.2fs", _describe(error), attempt, attempts, delay
                )
                await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _backoff(self, attempt: int, error: BaseException) -> float:
        if isinstance(error, GraphApiError) and error.retry_after is not None:
            return min(MAX_BACKOFF_SECONDS, error.retry_after)
        base = self._settings.send_backoff_seconds * 2 ** (attempt - 1)
        return min(MAX_BACKOFF_SECONDS, base) * random.uniform(0.5, 1.0)


async def _answer(response: aiohttp.ClientResponse) -> Any:
    """The JSON of a successful answer; a `GraphApiError` for any other."""
    text = await response.text()
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    if response.status < 300:
        if isinstance(body, str):
            raise GraphApiError(None, "Unreadable answer", details=text[:200], http_status=response.status)
        return body
    retry_after = response.headers.get("retry-after", "")
    raise error_from_response(response.status, body, float(retry_after) if retry_after.isdigit() else None)


def _describe(error: BaseException) -> str:
    if isinstance(error, GraphApiError):
        return f"{error.code} {error.title}"
    return type(error).__name__
