"""The Graph API errors the sandbox answers with, in Meta's exact shape.

A gateway keys its retry policy on `code` (and sometimes `details`), so every refusal the sandbox can
produce is one `GraphError` built from the table below, never an ad-hoc dict.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

#: code -> (title, HTTP status), as in WHATSAPP.md section 6; 131062 (a template a BSUID cannot receive) is on
#: Meta's "Business-scoped user IDs" page, which gives only its details: they are the title here too.
ERROR_TABLE: dict[int, tuple[str, int]] = {
    100: ("Invalid parameter", 400),
    190: ("Invalid OAuth access token - Cannot parse access token", 401),
    130429: ("Rate limit hit", 429),
    131000: ("Something went wrong", 500),
    131008: ("Required parameter is missing", 400),
    131009: ("Parameter value is not valid", 400),
    131021: ("Recipient cannot be sender", 400),
    131026: ("Message undeliverable", 400),
    131047: ("Re-engagement message", 400),
    131053: ("Media upload error", 400),
    131056: ("(Business Account, Consumer Account) pair rate limit hit", 429),
    131062: ("Business-scoped User ID (BSUID) recipients are not supported for this message.", 400),
    132000: ("Number of parameters does not match the expected number of params", 400),
    132001: ("Template name does not exist in the translation", 404),
    132005: ("Translated text too long", 400),
    132015: ("Template is Paused", 400),
    132016: ("Template is Disabled", 400),
}


@dataclass(frozen=True)
class GraphError(Exception):
    """A refusal of the Cloud API: raised by validation, answered by the app as Meta's error body."""

    code: int
    details: str
    subcode: int | None = None
    error_type: str = "OAuthException"

    @property
    def title(self) -> str:
        return ERROR_TABLE[self.code][0]

    @property
    def http_status(self) -> int:
        return ERROR_TABLE[self.code][1]

    def __str__(self) -> str:
        return f"({self.code}) {self.title}: {self.details}"

    def body(self) -> dict[str, Any]:
        """The JSON body of the HTTP answer: `{"error": {...}}`."""
        if self.code == 190:
            # Meta's token errors carry no `error_data` and no `(#code)` prefix.
            error: dict[str, Any] = {"message": self.title, "type": self.error_type, "code": 190}
        elif self.error_type == "GraphMethodException":
            error = {"message": self.details, "type": self.error_type, "code": self.code}
        else:
            error = {
                "message": f"(#{self.code}) {self.title}",
                "type": self.error_type,
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details},
            }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": error}

    def webhook_error(self) -> dict[str, Any]:
        """The same error as it rides on a `failed` status or in `value.errors` of a webhook."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }


def invalid(details: str) -> GraphError:
    """Meta's catch-all for a malformed request: code 100 with the reason in `details`."""
    return GraphError(100, details)


def unknown_object(object_id: str) -> GraphError:
    """What the Graph API answers for an id it does not know (a phone number id, a WABA, a media id)."""
    return GraphError(
        100,
        f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation.",
        subcode=33,
        error_type="GraphMethodException",
    )
