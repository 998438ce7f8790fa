"""The 24-hour customer service window, as pure functions of timestamps.

A window opens, or resets to a full 24 hours, each time the guest writes; business messages never extend it.
It is measured from WhatsApp's own `timestamp` of the guest's last inbound message (not from when the gateway
received it), so a webhook delivered late by Meta's retries does not stretch the window. Inside it any message
may be sent; outside it only an approved template (else error 131047).

A free entry point (FEP) is a second, longer window that only affects the price: a guest who writes from a
click-to-WhatsApp ad or a Facebook Page button (the message carries a `referral` of source type `ad` or
`post`) and gets the business's reply within 24 hours opens, with that reply, 72 hours in which every message,
templates included, is free. It does not let free-form messages through: those still need the 24-hour window.
"""

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

__all__ = [
    "ENTRY_POINT_REPLY",
    "ENTRY_POINT_SOURCES",
    "ENTRY_POINT_WINDOW",
    "WINDOW",
    "EntryPoints",
    "WindowState",
    "first_replies",
    "in_entry_point",
    "is_template",
    "window_state",
]

WINDOW = timedelta(hours=24)
ENTRY_POINT_REPLY = timedelta(hours=24)
"""How long after the guest's message from an ad or Page button the business may reply to open an FEP."""
ENTRY_POINT_WINDOW = timedelta(hours=72)
"""How long an FEP lasts from the reply that opened it."""
ENTRY_POINT_SOURCES = frozenset({"ad", "post"})
"""The `referral.source_type` values of a click-to-WhatsApp ad and of a Facebook Page button."""


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


@dataclass(frozen=True)
class EntryPoints:
    """What decides a guest's free entry points: the WhatsApp timestamps of their messages from an ad or Page
    button, and when the business's first accepted message after each of them went out (None: none yet)."""

    referrals: tuple[int, ...] = ()
    first_replies: tuple[float | None, ...] = ()

    def open_at(self, moment: float) -> bool:
        return in_entry_point(self.referrals, self.first_replies, moment)


def in_entry_point(referrals: Sequence[int], first_replies: Sequence[float | None], moment: float) -> bool:
    """Whether a business message sent at `moment` falls in a free entry point window.

    `first_replies[i]` is the business's first message at or after `referrals[i]` (None: none before
    `moment`); a message at `moment` with no earlier reply is itself the reply that opens the window. The
    reply must come within `ENTRY_POINT_REPLY` of the referral (inclusive, as the service window), and opens
    `ENTRY_POINT_WINDOW` from the reply.
    """
    reply_limit = ENTRY_POINT_REPLY.total_seconds()
    length = ENTRY_POINT_WINDOW.total_seconds()
    for referral, first in zip(referrals, first_replies, strict=True):
        opener = first if first is not None and first <= moment else moment
        if referral <= opener <= referral + reply_limit and opener <= moment <= opener + length:
            return True
    return False


def first_replies(referrals: Sequence[int], sends: Sequence[float]) -> tuple[float | None, ...]:
    """For each referral, the first of the business's `sends` (sorted times) at or after it."""
    found: list[float | None] = []
    for referral in referrals:
        index = bisect.bisect_left(sends, referral)
        found.append(sends[index] if index < len(sends) else None)
    return tuple(found)
