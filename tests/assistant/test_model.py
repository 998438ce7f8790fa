"""The trained assistant (`make train` writes models/hotel.tar.gz) on messages it never saw in training, and a
whole conversation through Rasa and the real action server, as the WhatsApp channel will drive them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.assistant_nlu import MULTI_QUESTIONS, evaluate_multi_questions
from tests.processes import start_action_server
from tests.support import ACTION_SERVER_TOKEN

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "hotel.tar.gz"

pytestmark = [
    pytest.mark.skipif(not MODEL.exists(), reason="no trained model in models/: run `make train` (make test does)"),
    pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning"),
]

UNSEEN = [
    ("holaaa buenos días!", "greet"),
    ("hello hello", "greet"),
    ("adiós, buen día", "goodbye"),
    ("ok bye then", "goodbye"),
    ("muchas gracias por todo", "thank"),
    ("thanks so much!", "thank"),
    ("sí, claro", "affirm"),
    ("yes, that's it", "affirm"),
    ("no, no hace falta", "deny"),
    ("no thanks, that's all", "deny"),
    ("oye, eres un robot o una persona?", "bot_challenge"),
    ("am i chatting with a bot?", "bot_challenge"),
    ("quiero que me atienda una persona de recepción", "request_human"),
    ("can i talk to someone at the front desk please", "request_human"),
    ("me confirmas las fechas de la reserva?", "ask_reservation"),
    ("which dates is my booking for?", "ask_reservation"),
    ("a que hora puedo hacer el checkin?", "ask_checkin_time"),
    ("what time can we check in tomorrow?", "ask_checkin_time"),
    ("hasta qué hora es el checkout?", "ask_checkout_time"),
    ("what time do i need to check out", "ask_checkout_time"),
    ("tengo algo pendiente por pagar de la reserva?", "ask_payment_status"),
    ("is my booking fully paid?", "ask_payment_status"),
    ("me pasas el link para pagar?", "ask_payment_link"),
    ("could you send me the link to pay online?", "ask_payment_link"),
    ("cual es la direccion exacta?", "ask_address"),
    ("what is the address of the hotel?", "ask_address"),
    ("me das la contraseña del wifi?", "ask_wifi"),
    ("what is the password for the wifi", "ask_wifi"),
    ("el hotel tiene parking?", "ask_parking"),
    ("is there somewhere to park the car?", "ask_parking"),
    ("el desayuno a qué hora es?", "ask_breakfast"),
    ("what time does breakfast finish?", "ask_breakfast"),
    ("se puede cancelar gratis?", "ask_cancellation_policy"),
    ("what happens if i cancel my booking?", "ask_cancellation_policy"),
    ("mi localizador es CAL-2B6N4R", "provide_booking_code"),
    ("booking code: MDP-8H3L9X", "provide_booking_code"),
]


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The action server as `make run` starts it, on a free port; its calls carry its token."""
    process, url = start_action_server(tmp_path_factory.mktemp("actions"))
    yield f"{url}/webhook"
    process.stop()


@pytest.fixture(scope="module")
def agent(action_server: str) -> Any:
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(MODEL, action_endpoint=EndpointConfig(action_server, token=ACTION_SERVER_TOKEN))


async def test_unseen_messages_get_their_intent(agent: Any) -> None:
    wrong = {}
    for text, intent in UNSEEN:
        parsed = await agent.parse_message(text)
        if parsed["intent"]["name"] != intent:
            wrong[text] = (parsed["intent"]["name"], round(parsed["intent"]["confidence"], 2), intent)
    assert wrong == {}


@pytest.mark.parametrize(
    ("text", "code"),
    [("mi código es MDP-4F7K2Q", "MDP-4F7K2Q"), ("cal-2b6n4r", "cal-2b6n4r"), ("ref XYZ-12AB34 thanks", "XYZ-12AB34")],
)
async def test_the_booking_code_is_extracted(agent: Any, text: str, code: str) -> None:
    parsed = await agent.parse_message(text)
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [("booking_code", code)]


async def say(agent: Any, sender: str, text: str, **metadata: Any) -> list[str]:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    channel = CollectingOutputChannel()
    await agent.handle_message(UserMessage(text, channel, sender, metadata=metadata))
    return [message["text"] for message in channel.messages if "text" in message]


async def test_a_conversation_follows_the_guests_language_and_name(agent: Any) -> None:
    lucia = {"wa_id": "34612345678", "phone_number_id": "1000000001", "profile_name": "Lucía Fernández"}
    sender = "1000000001:34612345678"
    [greeting] = await say(agent, sender, "hola buenas", **lucia)
    assert greeting.startswith("¡Hola, Lucía!")
    assert await say(agent, sender, "cuál es la clave del wifi?", **lucia) == [
        "📶 Wifi: red «Mirador-Guest», contraseña «puerto2026»."
    ]
    assert await say(agent, sender, "what time is breakfast?", **lucia) == [
        "☕ Buffet breakfast from 07:30 to 10:30, 14 EUR per person."
    ]
    [location] = await say(agent, sender, "/share_location", **lucia)  # still English: no words in a location
    assert location.startswith("Thanks for sharing your location")
    [handoff] = await say(agent, sender, "quiero hablar con una persona", **lucia)
    assert handoff == (
        "De acuerdo, una persona de recepción de Hotel Mirador del Puerto te responderá por aquí en breve "
        "(recepción: 24 horas)."
    )


async def test_a_first_message_without_words_is_answered_in_the_language_of_the_number(agent: Any) -> None:
    oliver = {"wa_id": "447700900123", "phone_number_id": "1000000001", "profile_name": None}
    [answer] = await say(agent, "1000000001:447700900123", "/send_media", **oliver)
    assert answer.startswith("Thanks, I've received it.")


async def test_gibberish_asks_to_rephrase(agent: Any) -> None:
    [answer] = await say(agent, "1000000002:34600000001", "qwzx plkj vbnm", wa_id="34600000001")
    assert answer.startswith("Perdona, no te he entendido.")


async def test_most_messages_asking_several_things_get_every_question_answered(agent: Any) -> None:
    """The held-out messages of tests/nlu_multi_questions.yml through the channel's cut (`make evaluate` prints it)."""
    messages = yaml.safe_load(MULTI_QUESTIONS.read_text(encoding="utf-8"))["messages"]
    multi = await evaluate_multi_questions(agent, messages)
    assert multi.answered / multi.messages >= 0.9, multi.misses
