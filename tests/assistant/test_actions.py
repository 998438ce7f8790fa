"""The actions as the action server runs them: rasa-sdk's `ActionExecutor` given the request Rasa sends.

Each request is built the way Rasa's `RemoteAction` builds it, from a real `DialogueStateTracker` and the
project's `domain.yml`, so a change in either shows here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk.executor import ActionExecutor

import actions.actions
from tests.support import ACCESS_TOKEN, SandboxProcess

ROOT = Path(__file__).resolve().parents[2]

# Rasa 3.6 warns about the removed slot auto-fill whenever it loads a domain with slots, whatever they say.
pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")
SENDER = "1000000001:34612345678"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
"""The actions' clock in these tests: 13:00 in Seville, both receptions open, Lucía's stays still cancellable."""
RECENT = int(NOW.timestamp()) - 600
PMS = "https://pms.example.com/api"


@pytest.fixture(autouse=True)
def action_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The embedded reservations and a fixed clock; services rebuilt from the environment for each test."""
    for name in ("RESERVATIONS_BACKEND", "PMS_API_URL", "WHATSAPP_API_URL", "WHATSAPP_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(actions.actions, "utcnow", lambda: NOW)
    actions.actions.reset_services()
    yield
    actions.actions.reset_services()


def metadata(
    wa_id: str = "34612345678",
    profile_name: str | None = "Lucía Fernández",
    phone_number_id: str = "1000000001",
    timestamp: int = RECENT,
) -> dict[str, Any]:
    """The metadata the WhatsApp channel stores with a user message (connectors.whatsapp.bot_input.rasa_metadata)."""
    return {
        "waba_id": "2000000001",
        "phone_number_id": phone_number_id,
        "wa_id": wa_id,
        "user_id": None,
        "profile_name": profile_name,
        "message_id": "wamid.TEST",
        "timestamp": timestamp,
        "type": "text",
    }


def user_says(
    text: str, intent: str, meta: dict[str, Any] | None, *before: Event, entities: list[dict[str, Any]] | None = None
) -> list[Event]:
    """The events of a conversation that ends with the guest writing `text`."""
    message = UserUttered(text, intent={"name": intent, "confidence": 0.99}, entities=entities, metadata=meta)
    return [*before, ActionExecuted("action_listen"), message]


async def run(
    executor: ActionExecutor, domain: Domain, action: str, events: list[Event], sender: str = SENDER
) -> dict[str, Any]:
    """Runs `action` on the tracker made of `events`, with the request body Rasa would send."""
    tracker = DialogueStateTracker.from_events(sender, events, slots=domain.slots)
    call = {
        "next_action": action,
        "sender_id": sender,
        "tracker": tracker.current_state(EventVerbosity.ALL),
        "domain": domain.as_dict(),
        "version": "3.6.21",
    }
    result = await executor.run(call)
    assert result is not None
    return result


@pytest.mark.parametrize(
    ("text", "wa_id", "language"),
    [
        ("hola buenas", "447700900123", "es"),
        ("hi there", "34612345678", "en"),
        ("👍", "34612345678", "es"),
        ("👍", "447700900123", "en"),
        ("/share_location", "5215512345678", "es"),  # a triggered intent has no words: the number decides
    ],
)
async def test_detect_language_sets_the_slot_on_the_first_message(
    executor: ActionExecutor, domain: Domain, text: str, wa_id: str, language: str
) -> None:
    result = await run(executor, domain, "action_detect_language", user_says(text, "greet", metadata(wa_id)))
    assert result["events"] == [{"event": "slot", "timestamp": None, "name": "language", "value": language}]
    assert result["responses"] == []


async def test_detect_language_keeps_the_conversation_language_without_an_event(
    executor: ActionExecutor, domain: Domain
) -> None:
    """An emoji from an English-speaking guest with a Spanish number stays in English, and adds no event."""
    events = user_says("👍", "affirm", metadata("34612345678"), SlotSet("language", "en"))
    assert await run(executor, domain, "action_detect_language", events) == {"events": [], "responses": []}


async def test_detect_language_switches_when_the_guest_does(executor: ActionExecutor, domain: Domain) -> None:
    events = user_says("what time is breakfast?", "ask_breakfast", metadata(), SlotSet("language", "es"))
    result = await run(executor, domain, "action_detect_language", events)
    assert [(e["name"], e["value"]) for e in result["events"]] == [("language", "en")]


async def test_detect_language_without_channel_metadata(executor: ActionExecutor, domain: Domain) -> None:
    """`rasa shell` and the REST channel send no metadata: the words still decide, English otherwise."""
    for text, language in (("hola", "es"), ("ok", "en")):
        result = await run(executor, domain, "action_detect_language", user_says(text, "greet", None), "default")
        assert result["events"][0]["value"] == language


async def test_greet_by_the_profile_name(executor: ActionExecutor, domain: Domain) -> None:
    result = await run(executor, domain, "action_greet", user_says("hola", "greet", metadata()))
    assert result["events"] == []
    [response] = result["responses"]
    assert response["response"] == "utter_greet_by_name"
    assert response["name"] == "Lucía"


@pytest.mark.parametrize("meta", [metadata(profile_name=None), metadata(profile_name="  "), None])
async def test_greet_without_a_name(executor: ActionExecutor, domain: Domain, meta: dict[str, Any] | None) -> None:
    """A number with no reservation here and no profile name: a greeting without a name."""
    unknown = {**meta, "wa_id": "34600000001"} if meta else None
    result = await run(executor, domain, "action_greet", user_says("hi", "greet", unknown), "1000000001:34600000001")
    assert [r["response"] for r in result["responses"]] == ["utter_greet"]


async def test_request_human_answers_then_hands_off_through_the_gateway(
    executor: ActionExecutor, domain: Domain
) -> None:
    events = user_says("quiero hablar con una persona", "request_human", metadata(), SlotSet("language", "es"))
    result = await run(executor, domain, "action_request_human", events)
    answer, instruction = result["responses"]
    assert answer["response"] == "utter_human_handoff"
    assert (answer["hotel"], answer["hours"]) == ("Hotel Mirador del Puerto", "24 horas")
    assert instruction["custom"] == {"gateway": {"handoff": {"reason": "guest_asked"}}}
    assert result["events"] == []  # not paused: while it waits in the queue the bot still answers


async def test_every_custom_action_of_the_domain_is_served(executor: ActionExecutor, domain: Domain) -> None:
    assert set(domain.as_dict()["actions"]) <= set(executor.actions)


async def test_every_response_the_actions_send_is_in_the_domain(executor: ActionExecutor, domain: Domain) -> None:
    sent = set()
    actions_of_the_domain = [a for a in domain.as_dict()["actions"] if a.startswith("action_")]
    for action in actions_of_the_domain:
        for meta, sender in ((metadata(), SENDER), (None, "1000000002:34600000001")):
            result = await run(executor, domain, action, user_says("hola MDP-4F7K2Q", "greet", meta), sender)
            sent |= {r["response"] for r in result["responses"] if r.get("response")}
    assert sent
    assert sent <= set(domain.responses)


def answer_of(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(response, its values) of each response an action sent."""
    keep = ("response", "template", "text", "buttons", "elements", "custom", "image", "attachment", "json_message")
    return [
        (r["response"], {k: v for k, v in r.items() if k not in keep and v is not None}) for r in result["responses"]
    ]


LUCIA_MIRADOR = "1000000001:34612345678"
LUCIA_ALAMEDA = "1000000002:34612345678"
OLIVER_MIRADOR = "1000000001:447700900123"
UNKNOWN_ALAMEDA = "1000000002:34600000001"


def meta_of(sender: str) -> dict[str, Any]:
    hotel, wa_id = sender.split(":")
    return metadata(wa_id=wa_id, profile_name=None, phone_number_id=hotel)


@pytest.mark.parametrize(
    ("sender", "language", "action", "response", "values"),
    [
        (LUCIA_MIRADOR, "es", "action_answer_checkin_time", "utter_checkin_time_for_stay",
         {"hotel": "Hotel Mirador del Puerto", "time": "15:00", "date": "18 de diciembre de 2026"}),
        (LUCIA_ALAMEDA, "es", "action_answer_checkin_time", "utter_checkin_time_for_stay",
         {"hotel": "Casa Alameda", "time": "14:00", "date": "9 de enero de 2027"}),
        (OLIVER_MIRADOR, "en", "action_answer_checkout_time", "utter_checkout_time_for_stay",
         {"hotel": "Hotel Mirador del Puerto", "time": "12:00", "date": "5 December 2026"}),
        (UNKNOWN_ALAMEDA, "en", "action_answer_checkin_time", "utter_checkin_time",
         {"hotel": "Casa Alameda", "time": "14:00"}),
        (LUCIA_ALAMEDA, "en", "action_answer_wifi", "utter_wifi", {"network": "Alameda-WiFi", "password": "azahar24"}),
        (LUCIA_MIRADOR, "es", "action_answer_parking", "utter_parking",
         {"hotel": "Hotel Mirador del Puerto",
          "parking": "Parking subterráneo, 18 EUR por noche; se reserva en recepción."}),
        (OLIVER_MIRADOR, "en", "action_answer_breakfast", "utter_breakfast",
         {"hotel": "Hotel Mirador del Puerto",
          "breakfast": "Buffet breakfast from 07:30 to 10:30, 14 EUR per person."}),
        (LUCIA_ALAMEDA, "es", "action_answer_address", "utter_address",
         {"hotel": "Casa Alameda", "address": "Calle Alameda de Hércules 30, 41002 Sevilla",
          "map_url": "https://www.google.com/maps/search/?api=1&query=Calle+Alameda+de+H%C3%A9rcules+30%2C+41002+Sevilla"}),
        (LUCIA_MIRADOR, "es", "action_answer_payment_status", "utter_payment_pending_with_link",
         {"code": "MDP-4F7K2Q", "total": "389.40 EUR", "paid": "100.00 EUR", "pending": "289.40 EUR",
          "link": "https://pay.example.com/MDP-4F7K2Q"}),
        (LUCIA_ALAMEDA, "es", "action_answer_payment_link", "utter_payment_link",
         {"code": "CAL-2B6N4R", "pending": "142.00 EUR", "link": "https://pay.example.com/CAL-2B6N4R"}),
        (OLIVER_MIRADOR, "en", "action_answer_payment_link", "utter_payment_complete",
         {"code": "MDP-8H3L9X", "total": "612.00 EUR"}),
        (OLIVER_MIRADOR, "en", "action_answer_cancellation_policy", "utter_cancellation_free_until",
         {"hours": "48", "code": "MDP-8H3L9X", "arrival": "2 December 2026", "deadline": "30 November 2026 at 15:00"}),
        (LUCIA_ALAMEDA, "es", "action_answer_reservation", "utter_reservation_details",
         {"name": "Lucía", "code": "CAL-2B6N4R", "hotel": "Casa Alameda", "arrival": "9 de enero de 2027",
          "departure": "11 de enero de 2027", "nights": "2", "room": "Individual"}),
    ],
)  # fmt: skip
async def test_each_question_is_answered_for_the_stay_at_the_hotel_written_to(
    executor: ActionExecutor, domain: Domain, sender: str, language: str, action: str, response: str, values: dict
) -> None:
    events = user_says("?", "ask", meta_of(sender), SlotSet("language", language))
    result = await run(executor, domain, action, events, sender)
    assert answer_of(result) == [(response, values)]
    assert result["events"] == []


async def test_a_number_without_a_reservation_is_asked_for_the_code_then_answered(
    executor: ActionExecutor, domain: Domain
) -> None:
    first = user_says("is my booking paid?", "ask_payment_status", meta_of(UNKNOWN_ALAMEDA), SlotSet("language", "en"))
    asked = await run(executor, domain, "action_answer_payment_status", first, UNKNOWN_ALAMEDA)
    assert answer_of(asked) == [("utter_ask_booking_code", {"hotel": "Casa Alameda"})]
    assert [(e["name"], e["value"]) for e in asked["events"]] == [("pending_question", "ask_payment_status")]

    code = [{"entity": "booking_code", "value": "cal-7y1m5t", "start": 3, "end": 13}]
    then = user_says(
        "it cal-7y1m5t",
        "provide_booking_code",
        meta_of(UNKNOWN_ALAMEDA),
        *first,
        SlotSet("pending_question", "ask_payment_status"),
        entities=code,
    )
    found = await run(executor, domain, "action_lookup_booking_code", then, UNKNOWN_ALAMEDA)
    assert answer_of(found) == [
        ("utter_booking_found", {"name": "Sophie", "code": "CAL-7Y1M5T"}),
        ("utter_payment_complete", {"code": "CAL-7Y1M5T", "total": "275.00 EUR"}),
    ]
    assert [(e["name"], e["value"]) for e in found["events"]] == [
        ("booking_code", "CAL-7Y1M5T"),
        ("pending_question", None),
    ]

    later = user_says(
        "wifi?", "ask_cancellation_policy", meta_of(UNKNOWN_ALAMEDA), *then, *[SlotSet("booking_code", "CAL-7Y1M5T")]
    )
    policy = await run(executor, domain, "action_answer_cancellation_policy", later, UNKNOWN_ALAMEDA)
    assert answer_of(policy)[0][0] == "utter_cancellation_free_until"


async def test_a_code_of_the_other_hotel_is_not_found(executor: ActionExecutor, domain: Domain) -> None:
    events = user_says("MDP-4F7K2Q", "provide_booking_code", meta_of(UNKNOWN_ALAMEDA), SlotSet("language", "es"))
    result = await run(executor, domain, "action_lookup_booking_code", events, UNKNOWN_ALAMEDA)
    assert answer_of(result) == [("utter_booking_code_not_found", {"code": "MDP-4F7K2Q", "hotel": "Casa Alameda"})]
    assert result["events"] == []


async def test_the_greeting_uses_the_name_on_the_reservation(executor: ActionExecutor, domain: Domain) -> None:
    meta = metadata(wa_id="447700900123", profile_name="Olly 🏄")
    result = await run(executor, domain, "action_greet", user_says("hi", "greet", meta), OLIVER_MIRADOR)
    assert answer_of(result) == [("utter_greet_by_name", {"name": "Oliver", "hotel": "Hotel Mirador del Puerto"})]


async def test_two_fallbacks_in_a_row_hand_over_to_a_person(executor: ActionExecutor, domain: Domain) -> None:
    once = user_says("qwzx", "nlu_fallback", metadata(), SlotSet("language", "en"))
    first = await run(executor, domain, "action_fallback", once)
    assert answer_of(first) == [("utter_default", {})]
    twice = user_says("plkj", "nlu_fallback", metadata(), *once, ActionExecuted("action_fallback"))
    second = await run(executor, domain, "action_fallback", twice)
    assert [r.get("response") for r in second["responses"]] == ["utter_fallback_handoff", "utter_human_handoff", None]
    assert second["responses"][2]["custom"] == {"gateway": {"handoff": {"reason": "bot_fallback"}}}
    assert second["events"] == []
    understood_between = user_says(
        "plkj", "nlu_fallback", metadata(), *user_says("wifi", "ask_wifi", metadata(), *once)
    )
    assert answer_of(await run(executor, domain, "action_fallback", understood_between)) == [("utter_default", {})]


async def test_reception_closed_says_when_a_person_will_answer(
    executor: ActionExecutor, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    night = datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)  # 00:30 in Seville
    monkeypatch.setattr(actions.actions, "utcnow", lambda: night)
    meta = {**meta_of(LUCIA_ALAMEDA), "timestamp": int(night.timestamp())}
    events = user_says("quiero hablar con alguien", "request_human", meta, SlotSet("language", "es"))
    result = await run(executor, domain, "action_request_human", events, LUCIA_ALAMEDA)
    assert answer_of(result)[0] == (
        "utter_human_handoff_reception_closed",
        {"hotel": "Casa Alameda", "hours": "08:00-23:00", "opens": "08:00"},
    )


@pytest.mark.parametrize(
    ("failure", "logged"),
    [(httpx.Response(500, json={"error": "down"}), "answered 500"), (httpx.ReadTimeout("slow"), "in time")],
    ids=["500", "timeout"],
)
async def test_a_pms_that_fails_gets_a_polite_answer_and_an_error_in_the_log(
    executor: ActionExecutor,
    domain: Domain,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: httpx.Response | Exception,
    logged: str,
) -> None:
    monkeypatch.setenv("RESERVATIONS_BACKEND", "http")
    monkeypatch.setenv("PMS_API_URL", PMS)
    events = user_says("cuanto me queda por pagar?", "ask_payment_status", metadata(), SlotSet("language", "es"))
    with respx.mock(base_url=PMS, assert_all_called=True) as pms, caplog.at_level(logging.ERROR):
        pms.get("/hotels/1000000001/reservations").mock(side_effect=[failure])
        result = await run(executor, domain, "action_answer_payment_status", events)
    assert answer_of(result) == [("utter_reservations_unavailable", {})]
    assert any(logged in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


async def test_a_pms_through_http_answers_like_the_embedded_store(
    executor: ActionExecutor, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from hotel.settings import DEFAULT_SEED_FILE

    record = json.loads(DEFAULT_SEED_FILE.read_text(encoding="utf-8"))["reservations"][0]
    monkeypatch.setenv("RESERVATIONS_BACKEND", "http")
    monkeypatch.setenv("PMS_API_URL", PMS)
    events = user_says("wifi", "ask_reservation", metadata(), SlotSet("language", "en"))
    with respx.mock(base_url=PMS, assert_all_called=True) as pms:
        pms.get("/hotels/1000000001/reservations", params={"wa_id": "34612345678"}).respond(
            json={"reservations": [record]}
        )
        result = await run(executor, domain, "action_answer_reservation", events)
    assert answer_of(result)[0][1]["code"] == "MDP-4F7K2Q"


@pytest.fixture
def graph_api(sandbox_process: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """The actions read the template catalog from the sandbox, as they would from Meta."""
    monkeypatch.setenv("WHATSAPP_API_URL", sandbox_process.url)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)


STALE = int(NOW.timestamp()) - 25 * 3600


@pytest.mark.usefixtures("graph_api")
@pytest.mark.parametrize(
    ("intent", "action", "language", "template", "parameters"),
    [
        ("EXTERNAL_reservation_reminder", "action_send_reservation_reminder", "es", "reservation_reminder",
         ["Lucía", "18 de diciembre de 2026", "Hotel Mirador del Puerto"]),
        ("EXTERNAL_payment_request", "action_send_payment_request", "en", "payment_request",
         ["Lucía", "289.40 EUR", "https://pay.example.com/MDP-4F7K2Q"]),
    ],
)  # fmt: skip
async def test_an_automations_message_outside_the_window_is_the_approved_template(
    executor: ActionExecutor, domain: Domain, intent: str, action: str, language: str, template: str, parameters: list
) -> None:
    earlier = user_says("hola", "greet", metadata(timestamp=STALE), SlotSet("language", language))
    events = [*earlier, ActionExecuted("action_listen"), UserUttered(f"/{intent}", intent={"name": intent})]
    result = await run(executor, domain, action, events)
    [response] = result["responses"]
    body = response["custom"]
    assert body["type"] == "template"
    assert body["template"]["name"] == template
    assert body["template"]["language"] == {"code": language}
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == parameters


async def test_an_automations_message_inside_the_window_is_free_text(executor: ActionExecutor, domain: Domain) -> None:
    earlier = user_says("hola", "greet", metadata(), SlotSet("language", "es"))
    trigger = UserUttered("/EXTERNAL_payment_request", intent={"name": "EXTERNAL_payment_request"})
    result = await run(
        executor, domain, "action_send_payment_request", [*earlier, ActionExecuted("action_listen"), trigger]
    )
    [response] = result["responses"]
    assert response["text"].startswith("Hola Lucía, su reserva tiene un pago pendiente de 289.40 EUR.")


async def test_a_payment_request_for_a_paid_stay_sends_nothing(executor: ActionExecutor, domain: Domain) -> None:
    trigger = UserUttered("/EXTERNAL_payment_request", intent={"name": "EXTERNAL_payment_request"})
    result = await run(
        executor, domain, "action_send_payment_request", [ActionExecuted("action_listen"), trigger], OLIVER_MIRADOR
    )
    assert result["responses"] == []


async def test_a_closed_window_without_a_catalog_logs_an_error_and_sends_nothing(
    executor: ActionExecutor, domain: Domain, caplog: pytest.LogCaptureFixture
) -> None:
    trigger = UserUttered("/EXTERNAL_reservation_reminder", intent={"name": "EXTERNAL_reservation_reminder"})
    with caplog.at_level(logging.ERROR):
        result = await run(
            executor, domain, "action_send_reservation_reminder", [ActionExecuted("action_listen"), trigger]
        )
    assert result["responses"] == []
    assert any("WHATSAPP_API_URL" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("graph_api")
async def test_a_reply_processed_after_the_window_lapsed_reopens_with_the_template(
    executor: ActionExecutor, domain: Domain
) -> None:
    events = user_says("wifi?", "ask_wifi", metadata(timestamp=STALE), SlotSet("language", "en"))
    result = await run(executor, domain, "action_answer_wifi", events)
    [response] = result["responses"]
    template = response["custom"]["template"]
    assert (template["name"], template["language"]["code"]) == ("reopen_conversation", "en")
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["Lucía", "Hotel Mirador del Puerto"]
