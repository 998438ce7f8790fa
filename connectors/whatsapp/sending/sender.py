"""Sending a business message: the window guard, the Graph call, and the message log, in that order.

Every send is recorded as `sending` before its Graph call and ends in the store as `accepted` (with its
wamid), `failed` (with WhatsApp's error code, title and details), `unknown` (the call timed out: WhatsApp may
have it, and its status webhooks settle it) or `blocked` (a free-form message outside the customer service
window, never sent to the API, so an action can choose a template instead).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from cloudapi.errors import ErrorInfo, GraphApiError, is_retryable, went_unanswered
from cloudapi.graph import GraphClient
from cloudapi.outbound import addressed
from cloudapi.window import is_template, window_state
from connectors.whatsapp.store import GatewayStore, LastInbound, OutboundRecord, SendSlot

log = logging.getLogger(__name__)
SEPARATOR = ":"
SETTLE_POLL_SECONDS = 0.25
AGENT_TOOK_OVER = "agent took over: the bot's answer was not sent"
"""The reason on a bot answer that was on its way when an agent took the thread over."""


@dataclass(frozen=True)
class Recipient:
    """Which business number writes to which guest: Rasa's sender id is both, joined by ':'."""

    business_id: str
    wa_id: str

    @property
    def sender_id(self) -> str:
        return f"{self.business_id}{SEPARATOR}{self.wa_id}"

    @classmethod
    def parse(cls, sender_id: str) -> Recipient:
        business_id, separator, wa_id = sender_id.partition(SEPARATOR)
        if not separator or not business_id or not wa_id:
            raise ValueError(
                f"sender id {sender_id!r} is not '<phone_number_id>{SEPARATOR}<wa_id>': "
                "the WhatsApp channel cannot tell which number should send"
            )
        return cls(business_id, wa_id)


SendState = Literal["accepted", "failed", "blocked", "unknown"]


@dataclass(frozen=True)
class SendOutcome:
    state: SendState
    wamid: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    reason: str | None = None
    message_id: int | None = None
    """The send's row in the store (what a kept attachment is filed under); None for a blocked one."""


class Sender:
    """Sends message bodies built by `outbound` for one gateway process.

    Each send is recorded under its key before the Graph call and marked with its outcome after, and the key
    goes out as `biz_opaque_callback_data`. A key the store already has is not sent again: a bot turn run
    again after a crash sends only what did not go out. The one exception is a send still `sending`, whose
    process stopped during its Graph call: WhatsApp may or may not have it, and no idempotency key exists to
    ask, so it is sent again unless a status webhook names it within `resend_wait` seconds.
    """

    def __init__(
        self, store: GatewayStore, graph: GraphClient, clock: Callable[[], float], resend_wait: float = 10.0
    ) -> None:
        self._store = store
        self._graph = graph
        self._clock = clock
        self._resend_wait = resend_wait

    async def send(
        self,
        recipient: Recipient,
        body: dict[str, Any],
        origin: str = "bot",
        context_id: str | None = None,
        last_inbound: LastInbound | Literal["unknown"] | None = "unknown",
        key: str | None = None,
    ) -> SendOutcome:
        """Send `body` unless the window forbids it; `last_inbound` spares the look-up when the caller has it.
        `key` makes the send once-only (a bot answer's is its guest message and its place in the turn)."""
        key = key or f"send:{uuid.uuid4().hex}"
        if last_inbound == "unknown":
            last_inbound = await self._store.last_inbound(recipient.business_id, recipient.wa_id)
        if not is_template(body):
            last = last_inbound.at if last_inbound is not None else None
            if not window_state(last, self._clock()).open:
                reason = (
                    "customer service window closed: the guest never wrote to this number"
                    if last is None
                    else "customer service window closed: the guest's last message is over 24 hours old"
                )
                return await self.withhold(recipient, body, origin, reason, key)
        # The number WhatsApp last gave for the guest, when their key is another id (their first, a BSUID, or
        # the number they changed from); else the key itself, addressed `to` a number or `recipient` a BSUID.
        to = (last_inbound.phone if last_inbound is not None else None) or recipient.wa_id
        message = addressed(body, to, context_message_id=context_id, callback_data=key)
        slot = await self._store.record_send(self._record(recipient, message, origin, "sending", key), self._clock())
        if slot.earlier == "sending":
            slot = await self._settled(slot)
        if slot.earlier is not None and slot.earlier != "sending":
            log.info("message %d (%s) was recorded before, %s: not sent again", slot.message_id, key, slot.earlier)
            return SendOutcome(_outcome_state(slot.earlier), wamid=slot.wamid, message_id=slot.message_id)
        if slot.earlier == "sending":
            log.warning(
                "message %d was being sent when a process stopped, and no status named it: sending it again",
                slot.message_id,
            )
        return await self._call(recipient, message, slot.message_id)

    async def _settled(self, slot: SendSlot) -> SendSlot:
        """A send whose fate is not known (a stopped process was making it, or its answer never came): if
        WhatsApp has it, its status webhooks (delivered again to the live processes) name it by its key within
        seconds. Wait that long, before sending it again or going on with the conversation."""
        deadline = self._clock() + self._resend_wait
        while True:
            current = await self._store.send_state(slot.message_id)
            if current.earlier != slot.earlier or self._clock() >= deadline:
                return current
            await asyncio.sleep(SETTLE_POLL_SECONDS)

    async def _call(self, recipient: Recipient, message: dict[str, Any], message_id: int) -> SendOutcome:
        """The Graph call of a recorded send, and its outcome in the record."""
        try:
            wamid = await self._graph.send(recipient.business_id, message)
        except GraphApiError as error:
            await self._store.finish_send(message_id, "failed", self._clock(), error=_info(error))
            log.error("send of message %d from %s refused: %s", message_id, recipient.business_id, error)
            log.debug("message %d was to %s", message_id, recipient.sender_id)
            return SendOutcome("failed", message_id=message_id, error_code=error.code, error_title=error.title)
        except Exception as error:
            if went_unanswered(error):
                title = "no answer from WhatsApp in time: it may have the message; its status webhooks will say"
                await self._store.finish_send(message_id, "unknown", self._clock(), error=_titled(title))
                log.error(
                    "send of message %d from %s unanswered: waiting for its status", message_id, recipient.business_id
                )
                # The guest's next message waits too: if WhatsApp has this one, it lands first.
                settled = await self._settled(SendSlot(message_id, "unknown"))
                if settled.earlier == "accepted":
                    return SendOutcome("accepted", message_id=message_id, wamid=settled.wamid)
                return SendOutcome("unknown", message_id=message_id, error_title=title)
            if not is_retryable(error):
                raise
            title = f"network error: {type(error).__name__}"
            await self._store.finish_send(message_id, "failed", self._clock(), error=_titled(title))
            log.error("send of message %d from %s failed after retries: %s", message_id, recipient.business_id, title)
            log.debug("message %d was to %s", message_id, recipient.sender_id)
            return SendOutcome("failed", message_id=message_id, error_title=title)
        await self._store.finish_send(message_id, "accepted", self._clock(), wamid=wamid)
        return SendOutcome("accepted", message_id=message_id, wamid=wamid)

    async def record_refusal(
        self, recipient: Recipient, body: dict[str, Any], origin: str, error: GraphApiError
    ) -> SendOutcome:
        """Record `body` as failed with WhatsApp's refusal of what it needed before any send (a media upload),
        so the message log shows the attempt and its error code like a refused send."""
        record = self._record(recipient, body, origin, "sending", f"send:{uuid.uuid4().hex}")
        slot = await self._store.record_send(record, self._clock())
        await self._store.finish_send(slot.message_id, "failed", self._clock(), error=_info(error))
        log.error(
            "message %d from %s not sent, WhatsApp refused its media: %s", slot.message_id, recipient.business_id, error
        )
        return SendOutcome("failed", message_id=slot.message_id, error_code=error.code, error_title=error.title)

    async def withhold(
        self, recipient: Recipient, body: dict[str, Any], origin: str, reason: str, key: str | None = None
    ) -> SendOutcome:
        """Record `body` as blocked, with why, and never send it."""
        record = replace(
            self._record(recipient, body, origin, "blocked", key or f"send:{uuid.uuid4().hex}"), blocked_reason=reason
        )
        slot = await self._store.record_send(record, self._clock())
        if slot.earlier is None:
            log.warning(
                "blocked %s message %d from %s: %s", body.get("type"), slot.message_id, recipient.business_id, reason
            )
            log.debug("message %d was to %s", slot.message_id, recipient.sender_id)
        return SendOutcome("blocked", reason=reason)

    @staticmethod
    def _record(recipient: Recipient, body: dict[str, Any], origin: str, state: str, key: str) -> OutboundRecord:
        return OutboundRecord(
            business_id=recipient.business_id,
            wa_id=recipient.wa_id,
            type=str(body.get("type", "unknown")),
            text=summary(body),
            body=body,
            state=state,
            origin=origin,
            send_key=key,
        )


def _outcome_state(state: str) -> SendState:
    return cast(SendState, state) if state in ("accepted", "failed", "blocked") else "unknown"


def _info(error: GraphApiError) -> ErrorInfo:
    return ErrorInfo(error.code, error.title, None, error.details, None)


def _titled(title: str) -> ErrorInfo:
    return ErrorInfo(None, title, None, None, None)


def summary(body: dict[str, Any]) -> str:
    """A one-line text of a message body, for the message log and the agents' search."""
    kind = body.get("type")
    content = body.get(kind) if isinstance(kind, str) else None
    if not isinstance(content, dict):
        return f"[{kind}]"
    if kind == "text":
        return str(content.get("body", ""))
    if kind == "interactive":
        return str((content.get("body") or {}).get("text", ""))
    if kind == "template":
        return f"[template {content.get('name')} {(content.get('language') or {}).get('code', '')}]"
    named = [content.get("filename")] if kind == "document" else []
    return " ".join(str(part) for part in (f"[{kind}]", *named, content.get("caption")) if part)
