"""The 24-hour customer service window, as pure functions of timestamps.

A window opens, or resets to a full 24 hours, each time the guest writes; business messages never extend it.
It is measured from WhatsApp's own `timestamp` of the guest's last inbound message (not from when the gateway
received it), so a webhook delivered late by Meta's retries does not stretch the window. Inside it any message
may be sent; outside it only an approved template (else error 131047).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

__all__ = ["WINDOW", "WindowState", "is_template", "may_send", "window_state"]

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class WindowState:
    """Whether free-form messages may be sent to a guest now, and until when (Unix seconds)."""

    open: bool
    expires_at: float | None
    remaining_seconds: float


def window_state(last_inbound_timestamp: int | None, now: float) -> WindowState:
    """The window at `now` given the guest's last inbound message time (None: the guest never wrote).

    The window lasts 24 hours inclusive: a message exactly 24 hours later is still inside it, one second more
    is not. Meta only documents "24 hours"; should Meta count the last second differently, the send is rejected
    with 131047 (`WindowClosedError`), exactly as for any closed window.
    """
    if last_inbound_timestamp is None:
        return WindowState(open=False, expires_at=None, remaining_seconds=0.0)
    expires_at = float(last_inbound_timestamp) + WINDOW.total_seconds()
    remaining = expires_at - now
    return WindowState(open=remaining >= 0, expires_at=expires_at, remaining_seconds=max(remaining, 0.0))


def is_template(body: Mapping[str, Any]) -> bool:
    """Whether a message body (addressed or not) is a template, the only kind allowed outside the window."""
    return body.get("type") == "template"


def may_send(body: Mapping[str, Any], state: WindowState) -> bool:
    """Whether the Cloud API would accept `body` given the window: templates always, anything else only inside."""
    return is_template(body) or state.open
