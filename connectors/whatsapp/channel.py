"""The Rasa channel: WhatsApp Cloud API webhooks in, Rasa responses out. Thin glue over `gateway`.

Loaded from credentials.yml by its module path, `connectors.whatsapp.channel.WhatsAppInput`. The webhook
path in order: raw bytes, size cap, signature, persist, 200, work; the bot is never awaited inside the
request.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text

from cloudapi.outbound import attachment_messages, button_messages, custom_message, image_messages, text_messages
from cloudapi.signatures import SIGNATURE_HEADER, is_valid_signature
from connectors.whatsapp.gateway import Gateway
from connectors.whatsapp.handoff import InstructionError, parse_instruction, state_of
from connectors.whatsapp.questions import question_texts
from connectors.whatsapp.routes import add_gateway_routes
from connectors.whatsapp.sending import AGENT_TOOK_OVER, Recipient, Sender
from connectors.whatsapp.settings import GatewaySettings, load_settings
from connectors.whatsapp.store import LastInbound, PendingDispatch, StoreClosedError
from connectors.whatsapp.tracker_control import RasaTrackers, tracker_control_for
from connectors.whatsapp.turn_failures import TurnFailedError, action_failures

log = logging.getLogger(__name__)
CHANNEL_NAME = "whatsapp"


def settle_heap() -> None:
    """Collect once, then freeze what start-up built (Rasa, the model, the gateway) out of the collector's
    sight. Those objects live as long as the process; left in view, every full collection walks them all
    again: 80 to 100 ms each, about once a second under load (measured in the automation sends benchmark),
    during which no answer or send goes out."""
    gc.collect()
    gc.freeze()


class WhatsAppOutput(OutputChannel):
    """Turns Rasa's responses into WhatsApp messages sent by the gateway's `Sender`.

    `reply_to` is the guest message being answered: with `WHATSAPP_REPLY_CONTEXT=auto` the first message of
    the answer quotes it when the guest has written again since, so the reply shows what it answers. Each
    message of the answer is sent under the key `reply:<guest message>#<place in the turn>`: a turn run again
    after a crash, or replayed from the tracker, sends only what did not go out.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def __init__(self, gateway: Gateway, reply_to: str | None = None) -> None:
        self._gateway = gateway
        self._reply_to = reply_to
        self._turn = reply_to
        self._sent = 0

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_all(recipient_id, text_messages(text))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        options = [(str(b.get("title", "")), str(b.get("payload", b.get("title", "")))) for b in buttons]
        try:
            bodies = button_messages(text, options)
        except ValueError as error:
            log.error("buttons not sendable on WhatsApp (%s); sending their titles as text", error)
            bodies = text_messages("\n".join([text, *(f"• {title}" for title, _ in options)]))
        await self._send_all(recipient_id, bodies)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send_all(recipient_id, image_messages(image))

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, str):
            await self._send_all(recipient_id, attachment_messages(attachment))
        else:
            await self.send_custom_json(recipient_id, attachment)

    async def send_elements(self, recipient_id: str, elements: list[dict[str, Any]], **kwargs: Any) -> None:
        for element in elements:
            lines = [str(element.get(key)) for key in ("title", "subtitle") if element.get(key)]
            buttons = element.get("buttons") or []
            if buttons:
                await self.send_text_with_buttons(recipient_id, "\n".join(lines) or "·", buttons)
            elif lines:
                await self.send_text_message(recipient_id, "\n".join(lines))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        if isinstance(json_message, dict) and "gateway" in json_message:
            await self._follow(Recipient.parse(recipient_id), json_message["gateway"])
            return
        try:
            body = custom_message(json_message)
        except ValueError as error:
            log.error("custom response is not a WhatsApp message object: %s", error)
            return
        await self._send_all(recipient_id, [body])

    async def _follow(self, recipient: Recipient, instruction: Any) -> None:
        """A custom message with a top-level "gateway" key is the bot talking to the gateway (the handoff
        contract with the actions), never a message for WhatsApp."""
        try:
            request = parse_instruction(instruction)
        except InstructionError as error:
            log.error("gateway instruction from the bot ignored: %s", error)
            return
        await self._gateway.handoffs.bot_hands_over(recipient, request)

    async def _send_all(self, recipient_id: str, bodies: list[dict[str, Any]]) -> None:
        """Send the bot's answer, unless an agent took the thread over while the bot was working on it (the
        tracker is paused then, but an answer already on its way still comes here): the guest would get the
        bot's words after the agent's. It is recorded as blocked instead, for the agent to see."""
        recipient = Recipient.parse(recipient_id)
        sender = self._sender()
        handoff, last_inbound = await asyncio.gather(
            self._gateway.handoffs.state(recipient.business_id, recipient.wa_id),
            self._gateway.store.last_inbound(recipient.business_id, recipient.wa_id),
        )
        if state_of(handoff.holder) == "agent":
            for body in bodies:
                await sender.withhold(recipient, body, "bot", AGENT_TOOK_OVER, self._next_key())
            return
        context = self._context(last_inbound)
        for body in bodies:
            key = self._next_key()
            await sender.send(recipient, body, origin="bot", context_id=context, last_inbound=last_inbound, key=key)
            context = None

    def _next_key(self) -> str | None:
        """The next message's key in this turn; None for a message that answers no guest message (a proactive
        send through `trigger_intent`), which gets a key of its own."""
        if self._turn is None:
            return None
        self._sent += 1
        return f"reply:{self._turn}#{self._sent}"

    def _context(self, last_inbound: LastInbound | None) -> str | None:
        """The guest message to quote on this answer's first message, if any (then never again): with
        `auto`, when the guest's newest message is another one, so the answer shows what it answers."""
        reply_to, self._reply_to = self._reply_to, None
        mode = self._gateway.settings.reply_context
        if reply_to is None or mode == "never":
            return None
        if mode == "always":
            return reply_to
        wrote_again = last_inbound is not None and last_inbound.wamid != reply_to
        return reply_to if wrote_again else None

    def _sender(self) -> Sender:
        if self._gateway.sender is None:
            raise RuntimeError("the WhatsApp gateway has not started: no server is running this channel")
        return self._gateway.sender


class WhatsAppInput(InputChannel):
    """The WhatsApp Cloud API webhook, and the gateway behind it."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        """Rasa's way in (credentials.yml), so where the glue only a Rasa server needs is installed: the gateway
        intake builds the channel itself and never imports Rasa's actions, nor the TensorFlow they load (about
        430 MB of its memory)."""
        from connectors.whatsapp import action_results

        action_results.install()
        return cls(load_settings(credentials))

    def __init__(self, settings: GatewaySettings, clock: Callable[[], float] | None = None) -> None:
        self.gateway = Gateway(settings, clock) if clock else Gateway(settings)
        self._trackers: RasaTrackers | None = None
        self._app: Any = None

    async def _to_bot(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], item: PendingDispatch) -> None:
        """Give a guest message to the bot: one turn per question it asks (`questions`), the first under the
        message's own id and the others under `<wamid>/<place>`. A turn that may have run in a process that
        stopped is looked up in the tracker first: if it is there, its answers are sent again (only those that
        did not go out leave), instead of running the bot twice. An action that failed fails the message."""
        recipient = Recipient(item.business_id, item.wa_id)
        output = WhatsAppOutput(self.gateway, reply_to=item.wamid)
        for place, turn_text in enumerate(await self._turn_texts(item.text)):
            message_id = item.wamid if place == 0 else f"{item.wamid}/{place}"
            if item.resumed and self._trackers is not None:
                said = await self._trackers.turn_responses(recipient.sender_id, message_id)
                if said is not None:
                    log.info(
                        "message %s: its turn ran before a process stopped; sending what did not go out", message_id
                    )
                    for response in said:
                        await output.send_response(recipient.sender_id, response)
                    continue
            message = UserMessage(
                text=turn_text,
                output_channel=output,
                sender_id=recipient.sender_id,
                input_channel=CHANNEL_NAME,
                message_id=message_id,
                metadata=item.meta,
            )
            with action_failures() as failures:
                await on_new_message(message)
            if failures:
                raise TurnFailedError(failures[0])

    async def _turn_texts(self, typed: str) -> list[str]:
        """One text per question the guest asks, by the running model (`typed` whole when no model is loaded:
        Rasa serves the channel before a model arrives, and its agent refuses to parse until then)."""
        agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
        if agent is None or not agent.is_ready():
            return [typed]
        return await question_texts(typed, agent.parse_message)

    def get_output_channel(self) -> OutputChannel:
        """The channel Rasa uses for `trigger_intent?output_channel=whatsapp` and other proactive sends."""
        return WhatsAppOutput(self.gateway)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        gateway = self.gateway
        webhook = Blueprint("whatsapp_webhook", __name__)

        async def to_bot(item: PendingDispatch) -> None:
            await self._to_bot(on_new_message, item)

        @webhook.listener("before_server_start")
        async def start(app: Any, _: Any) -> None:
            await gateway.start(to_bot)

        @webhook.listener("after_server_start")
        async def recover(app: Any, _: Any) -> None:
            settle_heap()
            self._app = app
            gateway.handoffs.tracker = tracker_control_for(app)
            if isinstance(gateway.handoffs.tracker, RasaTrackers):
                self._trackers = gateway.handoffs.tracker
            gateway.handoffs.start()
            if gateway.processor is not None:
                gateway.processor.start()

        @webhook.listener("before_server_stop")
        async def stop(app: Any, _: Any) -> None:
            await gateway.stop()

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token", "")
            matches = hmac.compare_digest(token.encode(), gateway.settings.verify_token.encode())
            if request.args.get("hub.mode") == "subscribe" and matches:
                return text(request.args.get("hub.challenge", ""))
            log.warning("webhook verification refused: wrong mode or verify token")
            return text("verification failed: the verify token does not match WHATSAPP_VERIFY_TOKEN", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > gateway.settings.max_body_bytes:
                return text("payload too large", status=413)
            if not is_valid_signature(body, request.headers.get(SIGNATURE_HEADER), gateway.settings.app_secret):
                log.warning("webhook refused: missing or wrong %s", SIGNATURE_HEADER)
                return text("invalid signature", status=403)
            if gateway.stopping:
                # Checked with no await before the save starts its commit, so the stop's flush waits for every
                # webhook it let in: a later one would commit (or hold a connection) after the store closed.
                return text("the gateway is stopping; deliver again", status=503)
            try:
                await gateway.intake.save(body)
            except StoreClosedError:
                return text("the gateway is stopping; deliver again", status=503)
            except Exception as error:
                # Whatever kept the commit from happening (SQLAlchemy's errors, and the driver's own that a
                # connect can raise unwrapped, such as asyncpg's ConnectionDoesNotExistError): nothing was
                # stored, so Meta is asked to deliver again.
                log.error("webhook not stored, the gateway store is unavailable: %r", error)
                return text("the gateway store is unavailable; deliver again", status=503)
            if gateway.processor is not None:
                gateway.processor.submit()
            return text("EVENT_RECEIVED")

        add_gateway_routes(webhook, gateway)
        return webhook
