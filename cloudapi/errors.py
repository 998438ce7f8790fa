"""The Graph API error taxonomy: each Cloud API error code maps to one typed exception, and one rule says
which of them may be retried.

Meta reports errors in two places: synchronously in the HTTP response of a send, and asynchronously in
webhooks (a `failed` status, `value.errors`, `messages[].errors`). Both become the same exception classes, so
the sender, the store and the logs speak one vocabulary. Codes and their meaning follow WHATSAPP.md §6.

    GraphApiError                 any error Meta reported (or an HTTP failure with no readable body)
    ├── AuthError                 the token or its permissions: fix the credentials, do not retry
    ├── ThrottledError            a rate limit: back off (131048, a spam restriction, is not retried)
    ├── WindowClosedError         the 24-hour window is closed: send an approved template instead
    ├── TemplateError             the template (132xxx): missing, paused, wrong parameters
    ├── RecipientError            this guest cannot get the message (not on WhatsApp, opted out, capped)
    ├── TransientError            Meta's side failed for now: retry a few times
    └── PermanentError            everything else: the request itself is wrong, do not retry

Network failures (timeouts, refused connections) are not Graph errors: they stay aiohttp's exceptions,
and `is_retryable` recognises them.
"""

import asyncio
import http
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

__all__ = [
    "RETRYABLE_CODES",
    "AuthError",
    "ErrorInfo",
    "GraphApiError",
    "PermanentError",
    "RecipientError",
    "TemplateError",
    "ThrottledError",
    "TransientError",
    "WindowClosedError",
    "error_from_response",
    "is_retryable",
    "parse_error_info",
    "went_unanswered",
]

RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057})
"""The only Graph codes worth sending again (WHATSAPP.md §6); 131056 means: that recipient, later."""

_NETWORK_ERRORS = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
)
_CODE_IN_MESSAGE = re.compile(r"^\(#\d+\)\s*")


@dataclass(frozen=True)
class ErrorInfo:
    """One error object as Meta writes it in webhooks: `{"code", "title", "message", "error_data": {"details"},
    "href"}`. Every field is optional because a webhook must be stored even when Meta leaves one out."""

    code: int | None
    title: str | None
    message: str | None
    details: str | None
    href: str | None


class GraphApiError(Exception):
    """An error reported by the Cloud API, keyed on `code` (and `details`), as Meta advises.

    `http_status` is None for errors that arrived by webhook; `subcode` is deprecated by Meta but still seen, so
    it is kept for the logs; `fbtrace_id` is what Meta support asks for; `retry_after` is the seconds a
    `Retry-After` header asked the caller to wait, if any.
    """

    def __init__(
        self,
        code: int | None,
        title: str,
        *,
        details: str | None = None,
        http_status: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.retry_after = retry_after
        self.title = title
        self.details = details
        self.http_status = http_status
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        super().__init__(self._summary())

    def _summary(self) -> str:
        text = f"({self.code}) {self.title}"
        if self.details:
            text += f": {self.details}"
        if self.http_status is not None:
            text += f" [HTTP {self.http_status}]"
        return text


class AuthError(GraphApiError):
    """The access token is invalid or expired, or lacks a permission (0, 3, 10, 190, 131005): an operator must
    act, so retrying only burns quota."""


class ThrottledError(GraphApiError):
    """A rate limit was hit: the app (4), the account (80007), the number's throughput (130429), the pair rate to
    one guest (131056) or a spam restriction (131048, not retried: the number must slow down for hours)."""


class WindowClosedError(GraphApiError):
    """The guest last wrote more than 24 hours ago (131047; 470 in the legacy API): only a template can reach
    them now."""


class TemplateError(GraphApiError):
    """The template cannot be sent as asked (132xxx): unknown name or language, parameter mismatch, paused or
    disabled."""


class RecipientError(GraphApiError):
    """This guest cannot receive the message: not on WhatsApp, the business's own number, opted out of
    marketing, capped by Meta, blocked or out of the allowed countries or test list, or addressed by a
    business-scoped user id where the message needs a phone number (131062: authentication templates)."""


class TransientError(GraphApiError):
    """Meta failed on its side (1, 2, 131000, 131016, 131057, or a 5xx with an unknown code): the same request
    may succeed a little later."""


class PermanentError(GraphApiError):
    """Any other error, including codes not known yet: the request or the account must change first."""


def _template_code(code: int) -> bool:
    return 132000 <= code <= 132999


_CODE_CLASSES: Mapping[int, type[GraphApiError]] = {
    **dict.fromkeys((0, 3, 10, 190, 131005), AuthError),
    **dict.fromkeys((4, 80007, 130429, 131048, 131056), ThrottledError),
    **dict.fromkeys((470, 131047), WindowClosedError),
    **dict.fromkeys((130403, 130472, 130497, 131021, 131026, 131030, 131049, 131050, 131062), RecipientError),
    **dict.fromkeys((1, 2, 131000, 131016, 131057), TransientError),
    **dict.fromkeys(
        (33, 100, 368, 131008, 131009, 131031, 131037, 131042, 131045, 131051, 131052, 131053, 133010, 133016),
        PermanentError,
    ),
}


def _known_class(code: int | None) -> type[GraphApiError] | None:
    """The class Meta's code table gives `code`, or None for a code that is absent or not in the table."""
    if code is None:
        return None
    if _template_code(code):
        return TemplateError
    return _CODE_CLASSES.get(code)


def _class_for(code: int | None, http_status: int | None) -> type[GraphApiError]:
    """A known code decides; otherwise the HTTP status does (5xx transient, 429 throttled, 401 auth)."""
    known = _known_class(code)
    if known is not None:
        return known
    if http_status is not None and http_status >= 500:
        return TransientError
    if http_status == 429:
        return ThrottledError
    if http_status == 401:
        return AuthError
    return PermanentError


def is_retryable(error: BaseException) -> bool:
    """Whether sending the same request again can succeed: a network failure, a code in `RETRYABLE_CODES`, or a
    5xx/429 whose code Meta's table does not know. A known non-retryable code wins over a 5xx status (Meta's
    table gives code 3 a 500, yet it means "stop"), and any other 4xx is never retried."""
    if isinstance(error, _NETWORK_ERRORS):
        return True
    if not isinstance(error, GraphApiError):
        return False
    if error.code in RETRYABLE_CODES:
        return True
    if _known_class(error.code) is not None or error.http_status is None:
        return False
    return error.http_status >= 500 or error.http_status == 429


def went_unanswered(error: BaseException) -> bool:
    """Whether a request timed out: it may have reached WhatsApp, which may have accepted the message. The Cloud
    API takes no idempotency key, so sending it again could reach the guest twice; such a send is left to its
    status webhooks to settle. (A refused connection, or one dropped before an answer began, is retried: aiohttp
    raises those for a pooled connection the server had closed, which the request never reached.)"""
    return isinstance(error, (TimeoutError, asyncio.TimeoutError))


def _as_int(value: Any) -> int | None:
    """An integer code from JSON, which Meta writes as a number (and, rarely, as a numeric string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _details(error_data: Any) -> str | None:
    """`error_data.details`; some older errors carry `error_data` as a bare string."""
    if isinstance(error_data, Mapping):
        return _as_str(error_data.get("details"))
    return _as_str(error_data)


def parse_error_info(raw: Any) -> ErrorInfo | None:
    """The typed form of one webhook error object, or None when `raw` is not an object at all."""
    if not isinstance(raw, Mapping):
        return None
    return ErrorInfo(
        code=_as_int(raw.get("code")),
        title=_as_str(raw.get("title")),
        message=_as_str(raw.get("message")),
        details=_details(raw.get("error_data")),
        href=_as_str(raw.get("href")),
    )


def _status_phrase(status_code: int) -> str:
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return f"HTTP {status_code}"


def error_from_response(status_code: int, body: Any, retry_after: float | None = None) -> GraphApiError:
    """The exception for a failed Graph call, from its HTTP status and decoded JSON body.

    Never raises: a body that is not Meta's `{"error": {...}}` (an HTML error page from a proxy, None, a list)
    still yields an error classified by the status alone. The title is Meta's `message` without its
    `(#code)` prefix.
    """
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        error = {}
    code = _as_int(error.get("code"))
    message = _as_str(error.get("message"))
    title = _CODE_IN_MESSAGE.sub("", message) if message else _status_phrase(status_code)
    return _class_for(code, status_code)(
        code,
        title,
        details=_details(error.get("error_data")),
        http_status=status_code,
        subcode=_as_int(error.get("error_subcode")),
        fbtrace_id=_as_str(error.get("fbtrace_id")),
        retry_after=retry_after,
    )
