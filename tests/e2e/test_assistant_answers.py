"""The assistant end to end: guests write through the sandbox, the real Rasa server with the WhatsApp channel
and the trained model understands them, the real action server answers from the hotel facts and the sample
reservations, and the answers arrive in the guest's thread. One Rasa and one action server for the module;
each guest's conversation is one test, its messages one after the other as a person types them.

The facts asserted are the contract of ../shared/HOTELS.md.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from hotel import answers
from hotel.facts import load_hotels
from hotel.language import detect_language
from hotel.reservations import Reservation
from hotel.settings import DEFAULT_SEED_FILE
from tests.e2e.test_handoff_rasa import agent
from tests.support import ALAMEDA, LUCIA, MIRADOR, OLIVER, RASA_API_TOKEN, SandboxClient

HOTELS = load_hotels()


async def ask(sandbox: SandboxClient, wa_id: str, hotel: str, text: str, replies: int = 1) -> list[str]:
    """The guest writes `text` to `hotel`; the texts of the `replies` answers it gets."""
    return [entry["content"]["body"] for entry in await ask_for_entries(sandbox, wa_id, hotel, text, replies)]


async def ask_for_entries(
    sandbox: SandboxClient, wa_id: str, hotel: str, text: str, replies: int = 1
) -> list[dict[str, Any]]:
    """The guest writes `text` to `hotel`; the thread entries of the `replies` answers it gets."""
    before = len(await outbound(sandbox, wa_id, hotel))
    await sandbox.guest_says(wa_id, text, to=hotel)
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        sent = await outbound(sandbox, wa_id, hotel)
        if len(sent) >= before + replies:
            await asyncio.sleep(0.3)  # an unexpected extra answer would arrive now
            sent = await outbound(sandbox, wa_id, hotel)
            assert len(sent) == before + replies, f"{text!r}: expected {replies} answers, got {sent[before:]}"
            return sent[before:]
        assert asyncio.get_running_loop().time() < deadline, f"{text!r} got {sent[before:]} within 30 s"
        await asyncio.sleep(0.1)


async def outbound(sandbox: SandboxClient, wa_id: str, hotel: str) -> list[dict[str, Any]]:
    return [e for e in await sandbox.thread(wa_id, hotel) if e["direction"] == "outbound"]


def stay(code: str) -> Reservation:
    records = json.loads(DEFAULT_SEED_FILE.read_text(encoding="utf-8"))["reservations"]
    return Reservation.from_mapping(next(r for r in records if r["booking_code"] == code))


def cancellation_fact(hotel: str, code: str, language: str) -> str:
    """The deadline while it is ahead, else the words that say it passed (the sample dates are fixed)."""
    deadline = answers.free_cancellation_deadline(HOTELS[hotel], stay(code))
    if datetime.now(timezone.utc) < deadline:
        return answers.format_moment(deadline.astimezone(HOTELS[hotel].timezone), language)
    return "ya ha pasado" if language == "es" else "has passed"


QUESTIONS = {
    "es": {
        "ask_checkin_time": "a que hora es el check-in?",
        "ask_checkout_time": "y hasta que hora es el checkout?",
        "ask_address": "cuál es la dirección del hotel?",
        "ask_wifi": "cuál es la clave del wifi?",
        "ask_parking": "tenéis parking? 🚗",
        "ask_breakfast": "a qué hora es el desayuno?",
        "ask_cancellation_policy": "puedo cancelar gratis?",
        "ask_reservation": "me confirmas las fechas de mi reserva?",
        "ask_payment_status": "cuánto me queda por pagar?",
        "ask_payment_link": "me mandas el enlace de pago?",
    },
    "en": {
        "ask_checkin_time": "what time can I check in",
        "ask_checkout_time": "what time is checkout?",
        "ask_address": "where is the hotel?",
        "ask_wifi": "what's the wifi password?",
        "ask_parking": "is there parking?",
        "ask_breakfast": "what time is breakfast?",
        "ask_cancellation_policy": "can i cancel for free?",
        "ask_reservation": "can you check my booking?",
        "ask_payment_status": "how much do i still owe?",
        "ask_payment_link": "can you send me the payment link?",
    },
}


def facts(hotel: str, code: str, language: str) -> dict[str, tuple[str, ...]]:
    """What each answer must say for this stay, in this language."""
    mirador = hotel == MIRADOR
    reservation = stay(code)
    arrival = answers.format_date(reservation.arrival, language)
    departure = answers.format_date(reservation.departure, language)
    pending = answers.format_money(reservation.pending, "EUR")
    link = reservation.payment_link or ""
    return {
        "ask_checkin_time": ("15:00" if mirador else "14:00", arrival),
        "ask_checkout_time": ("12:00" if mirador else "11:00", departure),
        "ask_address": (
            "Paseo Marítimo 12, 29016 Málaga" if mirador else "Calle Alameda de Hércules 30, 41002 Sevilla",
            "https://www.google.com/maps/search/?api=1&query=",
        ),
        "ask_wifi": ("Mirador-Guest", "puerto2026") if mirador else ("Alameda-WiFi", "azahar24"),
        "ask_parking": ("18 EUR",) if mirador else ("Plaza de Armas", "400 m"),
        "ask_breakfast": ("07:30", "10:30", "14 EUR") if mirador else ("08:00", "11:00", "12 EUR"),
        "ask_cancellation_policy": (code, "48" if mirador else "24", cancellation_fact(hotel, code, language)),
        "ask_reservation": (code, arrival, departure, reservation.room(language)),
        "ask_payment_status": (code, pending, link) if link else (code, "✅"),
        "ask_payment_link": (link,) if link else (code, "✅"),
    }


GUESTS_WITH_A_RESERVATION = {
    "lucia-mirador-es": (LUCIA, MIRADOR, "MDP-4F7K2Q", "es", "¡Hola, Lucía!"),
    "lucia-alameda-en": (LUCIA, ALAMEDA, "CAL-2B6N4R", "en", "Hello, Lucía!"),
    "oliver-en": (OLIVER, MIRADOR, "MDP-8H3L9X", "en", "Hello, Oliver!"),
    "oliver-es": (OLIVER, ALAMEDA, "CAL-3A6B8C", "es", "¡Hola, Oliver!"),
}
"""Oliver also has a stay at Casa Alameda in the sample data, asked about in Spanish there."""


async def conversation(
    sandbox: SandboxClient, wa_id: str, hotel: str, code: str, language: str, greeting: str
) -> dict[str, Any]:
    """Greets, then asks every question; what was wrong (the greeting, or answers missing facts)."""
    wrong: dict[str, Any] = {}
    [hello] = await ask(sandbox, wa_id, hotel, "hola buenas" if language == "es" else "hi there")
    if not hello.startswith(greeting) or HOTELS[hotel].name not in hello:
        wrong["greeting"] = hello
    expected = facts(hotel, code, language)
    for intent, text in QUESTIONS[language].items():
        [reply] = await ask(sandbox, wa_id, hotel, text)
        missing = [fact for fact in expected[intent] if fact not in reply]
        if missing:
            wrong[text] = (reply, missing)
    return wrong


async def test_guests_with_a_reservation_get_every_answer_for_their_own_stay(guest: SandboxClient) -> None:
    """Four conversations at once (Lucía and Oliver at each hotel, Spanish and English), each question in turn."""
    results = await asyncio.gather(*(conversation(guest, *case) for case in GUESTS_WITH_A_RESERVATION.values()))
    assert dict(zip(GUESTS_WITH_A_RESERVATION, results, strict=True)) == {key: {} for key in GUESTS_WITH_A_RESERVATION}


async def test_lucia_gets_the_stay_of_the_hotel_she_writes_to_in_either_language(guest: SandboxClient) -> None:
    """Both hotels answer the same question at once, each for its own reservation, and then in Spanish."""
    mirador, alameda = await asyncio.gather(
        ask(guest, LUCIA, MIRADOR, "how much do i still owe?"), ask(guest, LUCIA, ALAMEDA, "how much do i still owe?")
    )
    assert "MDP-4F7K2Q" in mirador[0]
    assert "289.40 EUR" in mirador[0]
    assert "CAL-2B6N4R" in alameda[0]
    assert "142.00 EUR" in alameda[0]
    [spanish] = await ask(guest, LUCIA, ALAMEDA, "y a qué hora es el check in?")
    assert spanish.startswith("Tu llegada es el 9 de enero de 2027")


@pytest.mark.parametrize(
    ("wa_id", "hotel", "language", "question", "code", "answer_facts"),
    [
        ("34699000111", ALAMEDA, "es", "¿está pagada mi reserva?", "mi localizador es cal-7y1m5t",
         ("Sophie", "CAL-7Y1M5T", "275.00 EUR")),
        ("447700900999", MIRADOR, "en", "what dates is my booking?", "my booking code is MDP-8H3L9X",
         ("Oliver", "MDP-8H3L9X", "2 December 2026", "5 December 2026")),
    ],
    ids=["unknown-es", "unknown-en"],
)  # fmt: skip
async def test_an_unknown_number_is_asked_for_the_code_and_then_answered(
    guest: SandboxClient,
    wa_id: str,
    hotel: str,
    language: str,
    question: str,
    code: str,
    answer_facts: tuple[str, ...],
) -> None:
    [asked] = await ask(guest, wa_id, hotel, question)
    assert "ABC-1234XY" in asked
    assert asked.startswith("No encuentro" if language == "es" else "I can't find")
    other_hotel_code = "MDP-4F7K2Q" if hotel == ALAMEDA else "CAL-2B6N4R"
    [not_found] = await ask(guest, wa_id, hotel, other_hotel_code)
    assert other_hotel_code in not_found
    found, answer = await ask(guest, wa_id, hotel, code, replies=2)
    assert answer_facts[0] in found
    joined = found + " " + answer
    assert [fact for fact in answer_facts if fact not in joined] == []
    [wifi] = await ask(guest, wa_id, hotel, "wifi password?" if language == "en" else "clave del wifi?")
    assert HOTELS[hotel].wifi_password in wifi


@pytest.mark.parametrize(
    ("wa_id", "hotel", "text", "expected"),
    [
        (OLIVER, ALAMEDA, "can I talk to a person please?", "someone from reception at Casa Alameda"),
        ("34699000222", MIRADOR, "quiero hablar con una persona", "una persona de recepción de Hotel Mirador"),
    ],
)
async def test_asking_for_a_person_is_answered_once_in_the_guests_language(
    guest: SandboxClient, wa_id: str, hotel: str, text: str, expected: str
) -> None:
    """The hand-off instruction to the gateway is never sent to WhatsApp: the guest gets one answer."""
    [reply] = await ask(guest, wa_id, hotel, text)
    reception_open = HOTELS[hotel].reception_open_at(datetime.now(timezone.utc))
    if reception_open:
        assert expected in reply
    else:
        assert "cerrada" in reply or "closed" in reply


async def test_an_automation_reaches_a_guest_inside_and_outside_the_window(guest: SandboxClient, rasa: str) -> None:
    """Rasa's `trigger_intent` (how automations reach a guest): free text while the guest's window is open; once
    the guest's last message is over 24 hours old, the approved template in their language, with its
    parameters in order. A guest message processed that late is answered with `reopen_conversation`."""
    [hello] = await ask(guest, LUCIA, MIRADOR, "hola buenas")
    assert hello.startswith("¡Hola, Lucía!")
    open_window = await trigger(guest, rasa, LUCIA, MIRADOR, "EXTERNAL_payment_request")
    assert open_window["type"] == "text"
    assert open_window["content"]["body"].startswith("Hola Lucía, su reserva tiene un pago pendiente de 289.40 EUR.")

    # Sophie writes to Casa Alameda with WhatsApp's timestamp 25 hours in the past (the sandbox's clock): to
    # the assistant her window has lapsed already.
    await guest.advance(-25 * 3600)
    [reopen] = await ask_for_entries(guest, "33612345678", ALAMEDA, "hello, what time is check-in?")
    assert reopen["type"] == "template"
    assert reopen["content"]["name"] == "reopen_conversation"
    assert reopen["content"]["language"]["code"] == "en"
    reminder = await trigger(guest, rasa, "33612345678", ALAMEDA, "EXTERNAL_reservation_reminder")
    assert reminder["type"] == "template"
    assert reminder["content"]["name"] == "reservation_reminder"
    parameters = [p["text"] for p in reminder["content"]["components"][0]["parameters"]]
    assert parameters == ["Sophie", "27 December 2026", "Casa Alameda"]


async def trigger(sandbox: SandboxClient, rasa: str, wa_id: str, hotel: str, intent: str) -> dict[str, Any]:
    before = len(await outbound(sandbox, wa_id, hotel))
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(
            f"{rasa}/conversations/{hotel}:{wa_id}/trigger_intent",
            params={"output_channel": "whatsapp", "token": RASA_API_TOKEN},
            json={"name": intent},
        )
    assert response.status_code == 200, response.text
    deadline = asyncio.get_running_loop().time() + 30
    while len(sent := await outbound(sandbox, wa_id, hotel)) <= before:
        assert asyncio.get_running_loop().time() < deadline, f"{intent} sent nothing"
        await asyncio.sleep(0.1)
    return sent[before]


TOPIC_QUESTIONS = {
    "es": {
        "pets": "puedo ir con mi perro?",
        "late_check_out": "podemos dejar la habitación más tarde el último día?",
        "early_check_in": "llegamos a las 10, podemos entrar antes?",
        "pool": "hay piscina?",
        "gym": "tenéis gimnasio?",
        "airport_transfer": "cómo llego desde el aeropuerto?",
        "luggage_storage": "puedo dejar las maletas en recepción?",
        "smoking": "se puede fumar en el hotel?",
        "accessibility": "el hotel tiene ascensor? voy en silla de ruedas",
    },
    "en": {
        "pets": "can we bring our dog?",
        "late_check_out": "could we check out late on sunday?",
        "early_check_in": "is an early check in possible?",
        "pool": "do you have a swimming pool?",
        "gym": "is there a gym?",
        "airport_transfer": "can you pick us up at the airport?",
        "luggage_storage": "can we leave our bags after checkout?",
        "smoking": "can i smoke in my room?",
        "accessibility": "do you have rooms for wheelchair users?",
    },
}


async def topics_conversation(sandbox: SandboxClient, wa_id: str, hotel: str, language: str) -> dict[str, str]:
    """Every topic question in turn; the answers that are not the hotel's own sentence on that topic."""
    wrong = {}
    for topic, text in TOPIC_QUESTIONS[language].items():
        [reply] = await ask(sandbox, wa_id, hotel, text)
        if reply != HOTELS[hotel].topics[topic].in_language(language):
            wrong[text] = reply
    return wrong


async def test_the_hotels_other_facts_are_answered_from_the_hotel_written_to(guest: SandboxClient) -> None:
    """Pets, a late check-out (its offer, not the check-out time), the pool... at each hotel, in each language."""
    cases = {
        "mirador-es": ("34699000301", MIRADOR, "es"),
        "mirador-en": ("447700900301", MIRADOR, "en"),
        "alameda-es": ("34699000302", ALAMEDA, "es"),
        "alameda-en": ("447700900302", ALAMEDA, "en"),
    }
    results = await asyncio.gather(*(topics_conversation(guest, *case) for case in cases.values()))
    assert dict(zip(cases, results, strict=True)) == {key: {} for key in cases}


@pytest.mark.parametrize(
    ("wa_id", "hotel", "text", "expected"),
    [
        ("34699000303", MIRADOR, "puedo volar un dron desde la azotea?", "No tengo esa información"),
        ("447700900303", ALAMEDA, "is there a fridge in the room?", "I don't have that information"),
    ],
)
async def test_a_question_no_fact_covers_is_passed_to_reception_not_guessed(
    guest: SandboxClient, rasa: str, wa_id: str, hotel: str, text: str, expected: str
) -> None:
    """The honest answer, and the thread waits for an agent with the reason, the question being its last message."""
    [reply] = await ask(guest, wa_id, hotel, text)
    assert reply.startswith(expected)
    assert HOTELS[hotel].name in reply
    thread = await queued_for(rasa, hotel, wa_id)
    assert thread["conversation"]["handoff"]["reason"] == "unanswered_question"
    assert [m["text"] for m in thread["messages"] if m["direction"] == "inbound"] == [text]


async def queued_for(rasa: str, hotel: str, wa_id: str) -> dict[str, Any]:
    """The thread once the gateway has put it in the agents' queue."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        thread = (await agent(rasa, "GET", f"/conversations/{hotel}/{wa_id}")).json()
        if thread["conversation"]["handoff"]["state"] == "queue":
            return thread
        assert asyncio.get_running_loop().time() < deadline, f"never handed over: {thread['conversation']}"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    ("wa_id", "hotel", "text", "replies", "expected"),
    [
        ("34699000304", MIRADOR, "quiero cambiar las fechas de mi reserva", 1, ("Los cambios de reserva",)),
        ("447700900304", ALAMEDA, "we need an extra bed for our son", 1, ("Changes to a booking",)),
        (LUCIA, MIRADOR, "quiero cancelar mi reserva", 2, ("MDP-4F7K2Q", "48", "Los cambios de reserva")),
    ],
    ids=["dates-es", "extra-bed-en", "cancel-es"],
)
async def test_a_stay_to_change_or_cancel_goes_to_a_person(
    guest: SandboxClient, rasa: str, wa_id: str, hotel: str, text: str, replies: int, expected: tuple[str, ...]
) -> None:
    """Told who handles it (the cancellation policy for the stay first), and queued with `change_request`."""
    said = " ".join(await ask(guest, wa_id, hotel, text, replies=replies))
    assert [fact for fact in expected if fact not in said] == []
    assert HOTELS[hotel].name in said
    thread = await queued_for(rasa, hotel, wa_id)
    assert thread["conversation"]["handoff"]["reason"] == "change_request"
    assert [m["text"] for m in thread["messages"] if m["direction"] == "inbound"][-1] == text


@pytest.mark.parametrize(
    ("wa_id", "hotel", "text", "expected"),
    [
        ("34699000305", MIRADOR, "¿A qué hora es el check-in y tenéis parking?", [("15:00",), ("18 EUR",)]),
        (
            "447700900305",
            ALAMEDA,
            "what's the wifi password, is there a gym, and when is breakfast?",
            [("Alameda-WiFi", "azahar24"), (HOTELS[ALAMEDA].topics["gym"].in_language("en"),), ("08:00", "12 EUR")],
        ),
        (
            "34699000306",
            ALAMEDA,
            "Hola! cuál es la clave del wifi? y a qué hora es el desayuno",
            [("Alameda-WiFi", "azahar24"), ("08:00", "12 EUR")],
        ),
    ],
    ids=["checkin-parking-es", "three-questions-en", "greeting-and-two-es"],
)
async def test_every_question_of_a_message_is_answered_in_order_in_its_language(
    guest: SandboxClient, rasa: str, wa_id: str, hotel: str, text: str, expected: list[tuple[str, ...]]
) -> None:
    """One answer per question, in the order asked and the language written; the agents see one message."""
    replies = await ask(guest, wa_id, hotel, text, replies=len(expected))
    language = "es" if wa_id.startswith("34") else "en"
    missing = [[fact for fact in facts if fact not in reply] for reply, facts in zip(replies, expected, strict=True)]
    assert missing == [[]] * len(expected), replies
    assert {detect_language(reply, None, None) for reply in replies} == {language}
    thread = (await agent(rasa, "GET", f"/conversations/{hotel}/{wa_id}")).json()
    assert [m["text"] for m in thread["messages"] if m["direction"] == "inbound"] == [text]


@pytest.mark.parametrize(
    ("text", "topic"),
    [("can I bring my dog and my cat?", "pets"), ("Hola, ¿hay piscina?", "pool")],
)
async def test_one_question_with_more_words_is_answered_once(guest: SandboxClient, text: str, topic: str) -> None:
    """A second thing named in the same question, or a greeting before it, is no second question."""
    language = "en" if text.startswith("can") else "es"
    [reply] = await ask(guest, "447700900307" if language == "en" else "34699000307", MIRADOR, text)
    assert reply == HOTELS[MIRADOR].topics[topic].in_language(language)


async def test_a_change_request_beside_a_question_gets_both_and_waits_for_a_person(
    guest: SandboxClient, rasa: str
) -> None:
    """The change goes to the queue with its reason, and the question beside it is still answered."""
    text = "quiero cambiar las fechas de mi reserva y también saber si hay parking"
    change, parking = await ask(guest, "34699000308", MIRADOR, text, replies=2)
    assert "Los cambios de reserva" in change
    assert "18 EUR" in parking
    thread = await queued_for(rasa, MIRADOR, "34699000308")
    assert thread["conversation"]["handoff"]["reason"] == "change_request"


@pytest.mark.parametrize(
    ("wa_id", "hotel", "text", "expected"),
    [
        ("33612000301", MIRADOR, "Bonjour, à quelle heure est le petit-déjeuner ?", ("07:30", "10:30", "14 EUR")),
        ("33612000301", MIRADOR, "on peut venir avec notre chien ?", (HOTELS[MIRADOR].topics["pets"].en,)),
        ("4915112000301", ALAMEDA, "Hallo, wie ist das WLAN-Passwort?", ("Alameda-WiFi", "azahar24")),
        ("4915112000301", ALAMEDA, "Wann ist der Check-out?", ("11:00",)),
    ],
    ids=["breakfast-fr", "pets-fr", "wifi-de", "checkout-de"],
)
async def test_a_french_or_german_guest_gets_the_facts_in_english(
    guest: SandboxClient, rasa: str, wa_id: str, hotel: str, text: str, expected: tuple[str, ...]
) -> None:
    """Never the Spanish "no te he entendido": the facts of the hotel written to, in English; and the templates
    an agent is offered for the thread are the English ones first."""
    [reply] = await ask(guest, wa_id, hotel, text)
    assert [fact for fact in expected if fact not in reply] == [], reply
    assert detect_language(reply, None, None) == "en", reply
    offered = (await agent(rasa, "GET", f"/conversations/{hotel}/{wa_id}/templates")).json()
    assert offered["language"] == "en"
    assert offered["templates"][0]["language"] == "en", offered["templates"][0]
