"""The sandbox's memory: every message between a business number and a guest, windows, media and who the
guests are.

One in-process store, because the sandbox is one process standing in for Meta; listeners (the guest
page's live stream) are told of every change. Threads are keyed by the guest's key (`sandbox.identities`):
the phone number or BSUID the guest was first seen with, which either id leads to.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from sandbox.identities import Identities

WINDOW_SECONDS = 24 * 60 * 60
ENTRY_POINT_SECONDS = 72 * 60 * 60
ENTRY_POINT_SOURCES = ("ad", "post")
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}

Direction = Literal["inbound", "outbound"]


@dataclass
class Delivery:
    """How the webhook carrying a message (inbound) or a status (outbound) fared at the gateway."""

    attempts: int = 0
    acknowledged: bool = False
    last_status: int | None = None
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "acknowledged": self.acknowledged,
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


@dataclass
class Entry:
    """One message of a thread, in either direction.

    `guest` is the thread's key; `wa_id` and `user_id` are the guest's phone number and BSUID as this message
    carried them (a guest writing with a username only has no `wa_id`).
    """

    wamid: str
    business: str
    guest: str
    direction: Direction
    type: str
    content: dict[str, Any]
    text: str
    timestamp: float
    wa_id: str | None = None
    user_id: str | None = None
    context_id: str | None = None
    callback_data: str | None = None
    template: dict[str, Any] | None = None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    delivery: Delivery = field(default_factory=Delivery)
    read_by_business: bool = False

    @property
    def status(self) -> str:
        """The furthest status reached; `failed` is terminal."""
        if not self.statuses:
            return "accepted"
        return max((s["status"] for s in self.statuses), key=STATUS_RANK.__getitem__)

    def to_json(self) -> dict[str, Any]:
        return {
            "wamid": self.wamid,
            "business": self.business,
            "guest": self.guest,
            "wa_id": self.wa_id,
            "user_id": self.user_id,
            "direction": self.direction,
            "type": self.type,
            "content": self.content,
            "text": self.text,
            "timestamp": self.timestamp,
            "context_id": self.context_id,
            "callback_data": self.callback_data,
            "template": self.template,
            "status": self.status,
            "statuses": self.statuses,
            "webhook": self.delivery.to_json(),
            "read_by_business": self.read_by_business,
        }


@dataclass(frozen=True)
class Media:
    id: str
    data: bytes
    mime_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class Threads:
    """Messages by thread and by wamid, the last inbound time per thread, media, guests and listeners."""

    def __init__(self) -> None:
        self.identities = Identities()
        self.by_wamid: dict[str, Entry] = {}
        self.by_thread: dict[tuple[str, str], list[Entry]] = {}
        self.last_inbound: dict[tuple[str, str], float] = {}
        self.media: dict[str, Media] = {}
        self.media_faults: dict[str, int] = {}
        """Downloads of a media id still to fail (`POST /sandbox/media/{id}/faults`), as a flaky CDN would."""
        self.service_sent: dict[tuple[str, str], int] = {}
        self.referrals: dict[tuple[str, str], float] = {}
        """The time of each thread's latest guest message from an ad or Page button not yet replied to."""
        self.entry_points: dict[tuple[str, str], list[tuple[float, float]]] = {}
        """Each thread's free entry point windows (from, until)."""
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()

    def add(self, entry: Entry) -> None:
        self.by_wamid[entry.wamid] = entry
        self.by_thread.setdefault((entry.business, entry.guest), []).append(entry)
        if entry.direction == "inbound" and entry.type != "system":
            key = (entry.business, entry.guest)
            self.last_inbound[key] = max(self.last_inbound.get(key, 0.0), entry.timestamp)
            referral = entry.content.get("referral")
            if isinstance(referral, dict) and referral.get("source_type") in ENTRY_POINT_SOURCES:
                self.referrals[key] = entry.timestamp
        self.changed(entry)

    def replied(self, business: str, guest: str, now: float) -> None:
        """The business got a message through to the guest: within 24 h of a message from an ad or Page
        button, it opens a 72 h free entry point."""
        referred = self.referrals.pop((business, guest), None)
        if referred is not None and now - referred <= WINDOW_SECONDS:
            self.entry_points.setdefault((business, guest), []).append((now, now + ENTRY_POINT_SECONDS))

    def in_entry_point(self, business: str, guest: str, now: float) -> bool:
        return any(start <= now <= end for start, end in self.entry_points.get((business, guest), ()))

    def guest_key(self, any_id: str) -> str:
        """The thread key of the guest with this phone number or BSUID; an id never seen is its own key."""
        return self.identities.key_of(any_id) or any_id

    def thread(self, guest: str, business: str | None = None) -> list[Entry]:
        entries = [e for (b, g), items in self.by_thread.items() if g == guest and business in (None, b) for e in items]
        return sorted(entries, key=lambda e: e.timestamp)

    def window_open(self, business: str, guest: str, now: float) -> bool:
        last = self.last_inbound.get((business, guest))
        return last is not None and now - last <= WINDOW_SECONDS

    def window_expires(self, business: str, guest: str) -> float | None:
        last = self.last_inbound.get((business, guest))
        return None if last is None else last + WINDOW_SECONDS

    def add_status(self, entry: Entry, status: dict[str, Any]) -> None:
        entry.statuses.append(status)
        self.changed(entry)

    def changed(self, entry: Entry) -> None:
        if not self._listeners:
            return
        event = entry.to_json()
        for queue in self._listeners:
            queue.put_nowait(event)

    def listen(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._listeners.discard(queue)

    def clear(self) -> None:
        self.identities.clear()
        self.by_wamid.clear()
        self.by_thread.clear()
        self.last_inbound.clear()
        self.media.clear()
        self.media_faults.clear()
        self.service_sent.clear()
        self.referrals.clear()
        self.entry_points.clear()
