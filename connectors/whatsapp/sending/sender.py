"""Sending a business message: the window guard, the Graph call, and the message log, in that order.

Every send ends in the store as `accepted` (with its wamid), `failed` (with WhatsApp's error code, title and
details) or `blocked` (a free-form message outside the customer service window, never sent to the API, so
an action can choose a template instead).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cloudapi.errors import GraphApiError, is_retryable
from cloudapi.graph import GraphClient
from cloudapi.outbound import addressed
from cloudapi.window import is_template, window_state
from connectors.whatsapp.store import GatewayStore, LastInbound, OutboundRecord

log = logging.getLogger(__name__)
SEPARATOR = ":"
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


@dataclass(frozen=True)
class SendOutcome:
    state: Literal["accepted", "failed", "blocked"]
    wamid: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    reason: str | None = None


class Sender:
    """Sends message bodies built by `outbound` for one gateway process."""

    def __init__(self, store: GatewayStore, graph: GraphClient, clock: Callable[[], float]) -> None:
        self._store = store
        self._graph = graph
        self._clock = clock

    async def send(
        self,
        recipient: Recipient,
        body: dict[str, Any],
        origin: str = "bot",
        context_id: str | None = None,
        last_inbound: LastInbound | Literal["unknown"] | None = "unknown",
    ) -> SendOutcome:
        """Send `body` unless the window forbids it; `last_inbound` spares the look-up when the caller has it."""
        preview = summary(body)
        if not is_template(body):
            if last_inbound == "unknown":
                last_inbound = await self._store.last_inbound(recipient.business_id, recipient.wa_id)
            last = last_inbound.at if last_inbound is not None else None
            if not window_state(last, self._clock()).open:
                reason = (
                    "customer service window closed: the guest never wrote to this number"
                    if last is None
                    else "customer service window closed: the guest's last message is over 24 hours old"
                )
                return await self.withhold(recipient, body, origin, reason)
        message = addressed(body, recipient.wa_id, context_message_id=context_id)
        try:
            wamid = await self._graph.send(recipient.business_id, message)
        except GraphApiError as error:
            message_id = await self._record(
                recipient,
                message,
                preview,
                origin,
                "failed",
                error_code=error.code,
                error_title=error.title,
                error_details=error.details,
            )
            log.error("send of message %d from %s refused: %s", message_id, recipient.business_id, error)
            log.debug("message %d was to %s", message_id, recipient.sender_id)
            return SendOutcome("failed", error_code=error.code, error_title=error.title)
        except Exception as error:
            if not is_retryable(error):
                raise
            title = f"network error: {type(error).__name__}"
            message_id = await self._record(recipient, message, preview, origin, "failed", error_title=title)
            log.error("send of message %d from %s failed after retries: %s", message_id, recipient.business_id, title)
            log.debug("message %d was to %s", message_id, recipient.sender_id)
            return SendOutcome("failed", error_title=title)
        await self._record(recipient, message, preview, origin, "accepted", wamid=wamid)
        return SendOutcome("accepted", wamid=wamid)

    async def withhold(self, recipient: Recipient, body: dict[str, Any], origin: str, reason: str) -> SendOutcome:
        """Record `body` as blocked, with why, and never send it."""
        message_id = await self._record(recipient, body, summary(body), origin, "blocked", blocked_reason=reason)
        log.warning("blocked %s message %d from %s: %s", body.get("type"), message_id, recipient.business_id, reason)
        log.debug("message %d was to %s", message_id, recipient.sender_id)
        return SendOutcome("blocked", reason=reason)

    async def _record(
        self, recipient: Recipient, body: dict[str, Any], preview: str, origin: str, state: str, **outcome: Any
    ) -> int:
        """The message log's id of the recorded send: the logs name it, never the guest's number."""
        record = OutboundRecord(
            business_id=recipient.business_id,
            wa_id=recipient.wa_id,
            type=str(body.get("type", "unknown")),
            text=preview,
            body=body,
            state=state,
            origin=origin,
            **outcome,
        )
        return await self._store.record_outbound(record, self._clock())


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
    return f"[{kind}] {content.get('caption', '')}".strip()
