"""The Graph API client: one long-lived aiohttp session per process, explicit timeouts and limits, and one
retry policy chosen by error class.

The gateway and the action server each build one `GraphClient` from a `GraphConfig`: the sends, read
receipts and the template list all go through it, so there is one reader of the template catalog (every
page, whichever of Meta's two paging styles the answer uses).

Retries cover timeouts, network errors, 5xx and the throttling codes (`errors.is_retryable`), with
exponential backoff and jitter, honouring `Retry-After`; a permanent error is raised at once. A send that
got a 2xx is never sent again, nor one that timed out (WhatsApp may have it: see `errors.went_unanswered`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from cloudapi.errors import GraphApiError, error_from_response, is_retryable, went_unanswered

__all__ = [
    "CONNECTIONS",
    "GraphClient",
    "GraphConfig",
    "MediaInfo",
    "MediaTooLargeError",
    "SentMessage",
    "next_page",
    "parse_media_info",
    "parse_send_answer",
]

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30.0
PAGE_SIZE = "100"
CONNECTIONS = 64
"""Open connections per client: 1,000 sends a second at up to 64 ms each."""
UPLOAD_SECONDS_PER_MB = 1.0
"""An upload's time allowance beyond the call's timeout, per megabyte (1 MB/s at worst): a 100 MB document
must not be cut off by the 10 seconds a send gets."""


@dataclass(frozen=True)
class GraphConfig:
    """Where the Graph API is and how hard to try: Meta's `https://graph.facebook.com`, or the sandbox."""

    api_url: str
    access_token: str
    api_version: str = "v23.0"
    timeout_seconds: float = 10.0
    max_attempts: int = 5
    """Attempts of one call, the first included; the outbox retries later by itself and asks for 1."""
    backoff_seconds: float = 0.5

    @property
    def versioned_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/{self.api_version}"


@dataclass(frozen=True)
class SentMessage:
    """What the Cloud API answered to an accepted send (accepted, not yet delivered).

    `input` is the recipient as the request gave it; `wa_id` the guest's phone number, given only for a send to
    a number; `user_id` their business-scoped user id, given for a send to one (or with both in the request).
    `message_status` is set for templates: `accepted`, or `held_for_quality_assessment` when Meta paces it."""

    message_id: str
    input: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    message_status: str | None = None


def _text_of(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def parse_send_answer(answer: Any) -> SentMessage:
    """The accepted message of a 2xx answer to `POST /{phone-number-id}/messages`: its wamid from `messages[0]`
    and, where Meta says so, whom it went to from `contacts[0]`, whose `wa_id` is absent for a send to a
    business-scoped user id. An answer without a message id raises `GraphApiError`: the send's outcome is then
    unknown, and must not be taken for a success."""
    messages = answer.get("messages") if isinstance(answer, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    if not isinstance(first, dict) or "id" not in first:
        raise GraphApiError(None, "Unexpected answer", details=str(answer)[:200], http_status=200)
    contacts = answer.get("contacts")
    contact = contacts[0] if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict) else {}
    return SentMessage(
        message_id=str(first["id"]),
        input=_text_of(contact, "input"),
        wa_id=_text_of(contact, "wa_id"),
        user_id=_text_of(contact, "user_id"),
        message_status=_text_of(first, "message_status"),
    )


@dataclass(frozen=True)
class MediaInfo:
    """What `GET /{media-id}` says of a guest's media: where to download it (for 5 minutes, with the access
    token) and what Meta says the bytes are."""

    media_id: str
    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None


class MediaTooLargeError(Exception):
    """A download went past the size its caller allows: stopped there, never retried."""


def parse_media_info(media_id: str, answer: Any) -> MediaInfo:
    """The media info of a 2xx answer; one without a download URL raises `GraphApiError` (nothing to fetch)."""
    url = answer.get("url") if isinstance(answer, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise GraphApiError(None, "Unexpected answer", details=str(answer)[:200], http_status=200)
    size = answer.get("file_size")
    return MediaInfo(
        media_id=media_id,
        url=url,
        mime_type=_text_of(answer, "mime_type"),
        sha256=_text_of(answer, "sha256"),
        file_size=int(size) if isinstance(size, (int, str)) and str(size).isdigit() else None,
    )


class GraphClient:
    """Sends messages and read receipts for any business phone number of the gateway.

    Built on aiohttp rather than httpx, which the rest of the project uses: this is the gateway's hot path
    (every answer, read receipt and automation send), and on this machine httpx 0.28 spent 1.2 to 2.5 ms of
    CPU per request against 0.2 to 0.5 ms for aiohttp (`python -m benchmarks.graph_client`). The session is
    opened on first use, inside the running event loop, as aiohttp requires.
    """

    def __init__(
        self,
        config: GraphConfig,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self._config.access_token}"},
                timeout=aiohttp.ClientTimeout(total=self._config.timeout_seconds, connect=5.0),
                connector=aiohttp.TCPConnector(limit=CONNECTIONS),
                raise_for_status=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, business_id: str, body: dict[str, Any], attempts: int | None = None) -> str:
        """Send one message body (already addressed) and return its wamid; `attempts` (default: the config's)
        bounds the retries of this call. A timeout is raised at once, never retried (`went_unanswered`)."""
        return (await self.send_message(business_id, body, attempts)).message_id

    async def send_message(self, business_id: str, body: dict[str, Any], attempts: int | None = None) -> SentMessage:
        """`send`, answering with all Meta said of the accepted message (`SentMessage`): whom it went to, and a
        template's pacing."""
        answer = await self._post(business_id, body, attempts or self._config.max_attempts, resend_unanswered=False)
        return parse_send_answer(answer)

    async def mark_read(self, business_id: str, message_id: str, typing: bool) -> None:
        """Mark a guest's message read (blue ticks), with the typing indicator while the bot thinks."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._post(business_id, body, self._config.max_attempts)

    async def upload_media(self, business_id: str, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file for `business_id` to send (`POST /{phone-number-id}/media`, multipart `file`, `type`,
        `messaging_product`) and return its media id, valid 30 days. Retried like a read receipt: an upload
        Meta never answered leaves at most an unused media id behind, never a message."""
        url = f"{self._config.versioned_url}/{business_id}/media"
        seconds = self._config.timeout_seconds + UPLOAD_SECONDS_PER_MB * len(data) / 1_000_000
        timeout = aiohttp.ClientTimeout(total=seconds, connect=5.0)

        def form() -> aiohttp.FormData:
            fields = aiohttp.FormData()
            fields.add_field("messaging_product", "whatsapp")
            fields.add_field("type", mime_type)
            fields.add_field("file", data, filename=filename, content_type=mime_type)
            return fields

        async def post() -> Any:
            async with self._client().post(url, data=form(), timeout=timeout) as response:
                return await _answer(response)

        answer = await self._retrying(post, self._config.max_attempts)
        media_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise GraphApiError(None, "Unexpected answer", details=str(answer)[:200], http_status=200)
        return media_id

    async def list_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of a WhatsApp Business Account (`GET /{waba_id}/message_templates`), all pages, until
        one has no `paging.next` (`next_page`); a page asked for twice ends the list instead of looping."""
        items: list[dict[str, Any]] = []
        request: tuple[str, dict[str, str]] | None = (
            f"{self._config.versioned_url}/{waba_id}/message_templates",
            {"limit": PAGE_SIZE},
        )
        asked: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        while request is not None and (key := (request[0], tuple(sorted(request[1].items())))) not in asked:
            asked.add(key)
            url, params = request
            async with self._client().get(url, params=params) as response:
                page = await _answer(response)
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise GraphApiError(None, "Unexpected answer", details=str(page)[:200], http_status=response.status)
            items.extend(item for item in page["data"] if isinstance(item, dict))
            request = next_page(url, page)
        return items

    async def media_info(self, media_id: str) -> MediaInfo:
        """`GET /{media-id}`: a fresh download URL of a guest's media and what Meta says of it, retried like any
        call (a GET changes nothing, so a timeout is retried too)."""
        url = f"{self._config.versioned_url}/{media_id}"

        async def ask() -> Any:
            async with self._client().get(url) as response:
                return await _answer(response)

        return parse_media_info(media_id, await self._retrying(ask, self._config.max_attempts))

    async def download(self, url: str, max_bytes: int) -> bytes:
        """The bytes at a media URL `media_info` gave, with the access token as Meta requires, retried like
        any call; more than `max_bytes` stops the download with `MediaTooLargeError`."""

        # A 100 MB document takes longer than one call's timeout: the download is bounded by its silences.
        timeout = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=self._config.timeout_seconds)

        async def fetch() -> bytes:
            async with self._client().get(url, timeout=timeout) as response:
                if response.status >= 300:
                    await _answer(response)
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        raise MediaTooLargeError(f"more than {max_bytes} bytes")
                return bytes(data)

        return await self._retrying(fetch, self._config.max_attempts)

    async def _post(self, business_id: str, body: dict[str, Any], attempts: int, resend_unanswered: bool = True) -> Any:
        url = f"{self._config.versioned_url}/{business_id}/messages"

        async def post() -> Any:
            async with self._client().post(url, json=body) as response:
                return await _answer(response)

        return await self._retrying(post, attempts, resend_unanswered)

    async def _retrying(self, call: Callable[[], Awaitable[Any]], attempts: int, resend_unanswered: bool = True) -> Any:
        """The one retry policy: `call` again after a retryable error (`errors.is_retryable`), with backoff."""
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except Exception as error:
                if attempt == attempts or not is_retryable(error):
                    raise
                if not resend_unanswered and went_unanswered(error):
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
        base = self._config.backoff_seconds * 2 ** (attempt - 1)
        return min(MAX_BACKOFF_SECONDS, base) * random.uniform(0.5, 1.0)


def next_page(url: str, page: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """Where the page after `page` is, or None after the last one. Meta's rule: the last page has no
    `paging.next` (a page may be empty and still have one). `next` is normally the whole URL, its query
    included; where it is not one, the `paging.cursors.after` cursor is asked for on the same URL."""
    paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
    following = paging.get("next")
    if not following:
        return None
    if isinstance(following, str) and following.startswith(("http://", "https://")):
        return following, {}
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
    after = cursors.get("after")
    if isinstance(after, str) and after:
        return url.split("?", 1)[0], {"limit": PAGE_SIZE, "after": after}
    return None


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
