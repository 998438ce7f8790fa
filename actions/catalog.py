"""The approved templates of a WhatsApp Business Account, as the actions need them to write to a guest whose
customer service window has lapsed.

Read from the Graph API's `GET /{version}/{waba_id}/message_templates` (the sandbox, or Meta with a real
number) with the same `WHATSAPP_API_URL` and `WHATSAPP_ACCESS_TOKEN` the gateway uses, all pages followed,
and kept for `CACHE_SECONDS`: templates change when someone approves or pauses one, not per message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final

import httpx

from hotel.template_choice import CatalogTemplate

log = logging.getLogger(__name__)

CACHE_SECONDS: Final = 300.0
MAX_PAGES: Final = 20


class CatalogUnavailableError(RuntimeError):
    """The template list could not be read (not configured, unreachable, or refused)."""


class GraphTemplateCatalog:
    def __init__(
        self,
        api_url: str | None,
        version: str,
        access_token: str | None,
        timeout_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._configured = bool(api_url and access_token)
        self._version = version
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[CatalogTemplate, ...]]] = {}
        self._client = httpx.AsyncClient(
            base_url=api_url or "http://unconfigured.invalid",
            headers={"Authorization": f"Bearer {access_token}"} if access_token else {},
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
        )

    async def templates(self, waba_id: str) -> tuple[CatalogTemplate, ...]:
        """Every template of the account, approved or not (template choice filters by status)."""
        cached = self._cache.get(waba_id)
        if cached and self._clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        if not self._configured:
            raise CatalogUnavailableError("WHATSAPP_API_URL and WHATSAPP_ACCESS_TOKEN are needed to list the templates")
        templates = await self._fetch(waba_id)
        self._cache[waba_id] = (self._clock(), templates)
        return templates

    async def _fetch(self, waba_id: str) -> tuple[CatalogTemplate, ...]:
        found: list[CatalogTemplate] = []
        params: dict[str, Any] = {"limit": 100}
        for _ in range(MAX_PAGES):
            try:
                response = await self._client.get(f"/{self._version}/{waba_id}/message_templates", params=params)
                body = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError) as error:
                raise CatalogUnavailableError(f"the template list cannot be read ({type(error).__name__})") from error
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise CatalogUnavailableError(f"the Graph API answered {response.status_code} to the template list")
            found += [CatalogTemplate.from_graph(item) for item in body["data"] if isinstance(item, dict)]
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            if not (body.get("paging") or {}).get("next") or not after:
                break
            params = {"limit": 100, "after": after}
        return tuple(found)

    async def close(self) -> None:
        await self._client.aclose()
