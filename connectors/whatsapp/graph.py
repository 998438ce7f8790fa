"""The Graph API client: one long-lived `httpx.AsyncClient` per process, explicit timeouts and limits, and
one retry policy chosen by error class.

Retries cover timeouts, network errors, 5xx and the throttling codes (`errors.is_retryable`), with
exponential backoff and jitter, honouring `Retry-After`; a permanent error is raised at once. A send that
got a 2xx is never sent again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from .errors import GraphApiError, error_from_response, is_retryable
from .settings import GatewaySettings

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30.0


class GraphClient:
    """Sends messages and read receipts for any business phone number of the gateway."""

    def __init__(
        self,
        settings: GatewaySettings,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            base_url=settings.messages_url,
            headers={"Authorization": f"Bearer {settings.access_token}"},
            timeout=httpx.Timeout(settings.send_timeout_seconds, connect=5.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            transport=transport,
        )

    async def close(self) -> None:
        await self._client.aclose()

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
        url: str | None = f"/{waba_id}/message_templates"
        params: dict[str, str] | None = {"limit": "100"}
        while url:
            response = await self._client.get(url, params=params)
            if not response.is_success:
                raise _error(response)
            page = response.json()
            items.extend(item for item in page.get("data") or [] if isinstance(item, dict))
            url, params = (page.get("paging") or {}).get("next"), None
        return items

    async def _post(self, business_id: str, body: dict[str, Any]) -> Any:
        attempts = self._settings.send_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                response = await self._client.post(f"/{business_id}/messages", json=body)
                if response.is_success:
                    return response.json()
                raise _error(response)
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


def _error(response: httpx.Response) -> GraphApiError:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    retry_after = response.headers.get("retry-after", "")
    return error_from_response(response.status_code, body, float(retry_after) if retry_after.isdigit() else None)


def _describe(error: BaseException) -> str:
    if isinstance(error, GraphApiError):
        return f"{error.code} {error.title}"
    return type(error).__name__
