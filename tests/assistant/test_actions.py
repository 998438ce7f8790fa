"""The actions as the action server runs them: rasa-sdk's `ActionExecutor` given the request Rasa sends.

Each request is built the way Rasa's `RemoteAction` builds it, from a real `DialogueStateTracker` and the
project's `domain.yml`, so a change in either shows here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk.executor import ActionExecutor

ROOT = Path(__file__).resolve().parents[2]

# Rasa 3.6 warns about the removed slot auto-fill whenever it loads a domain with slots, whatever they say.
pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")
SENDER = "1000000001:34612345678"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


def metadata(wa_id: str = "34612345678", profile_name: str | None = "Lucía Fernández") -> dict[str, Any]:
    """The metadata the WhatsApp channel stores with a user message (connectors.whatsapp.inbound.rasa_metadata)."""
    return {
        "waba_id": "2000000001",
        "phone_number_id": "1000000001",
        "wa_id": wa_id,
        "user_id": None,
        "profile_name": profile_name,
        "message_id": "wamid.TEST",
        "timestamp": 1795000000,
        "type": "text",
    }


def user_says(text: str, intent: str, meta: dict[str, Any] | None, *before: Event) -> list[Event]:
    """The events of a conversation that ends with the guest writing `text`."""
    message = UserUttered(text, intent={"name": intent, "confidence": 0.99}, metadata=meta)
    return [*before, ActionExecuted("action_listen"), message]


async def run(executor: ActionExecutor, domain: Domain, action: str, events: list[Event]) -> dict[str, Any]:
    """Runs `action` on the tracker made of `events`, with the request body Rasa would send."""
    tracker = DialogueStateTracker.from_events(SENDER, events, slots=domain.slots)
    call = {
        "next_action": action,
        "sender_id": SENDER,
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
        result = await run(executor, domain, "action_detect_language", user_says(text, "greet", None))
        assert result["events"][0]["value"] == language


async def test_greet_by_the_profile_name(executor: ActionExecutor, domain: Domain) -> None:
    result = await run(executor, domain, "action_greet", user_says("hola", "greet", metadata()))
    assert result["events"] == []
    [response] = result["responses"]
    assert response["response"] == "utter_greet_by_name"
    assert response["name"] == "Lucía"


@pytest.mark.parametrize("meta", [metadata(profile_name=None), metadata(profile_name="  "), None])
async def test_greet_without_a_name(executor: ActionExecutor, domain: Domain, meta: dict[str, Any] | None) -> None:
    result = await run(executor, domain, "action_greet", user_says("hi", "greet", meta))
    assert [r["response"] for r in result["responses"]] == ["utter_greet"]


async def test_request_human_acknowledges(executor: ActionExecutor, domain: Domain) -> None:
    events = user_says("quiero hablar con una persona", "request_human", metadata())
    result = await run(executor, domain, "action_request_human", events)
    assert [r["response"] for r in result["responses"]] == ["utter_human_handoff"]
    assert result["events"] == []


async def test_every_custom_action_of_the_domain_is_served(executor: ActionExecutor, domain: Domain) -> None:
    assert set(domain.as_dict()["actions"]) <= set(executor.actions)


async def test_every_response_the_actions_send_is_in_the_domain(executor: ActionExecutor, domain: Domain) -> None:
    sent = set()
    for action, meta in (("action_greet", metadata()), ("action_greet", None), ("action_request_human", None)):
        result = await run(executor, domain, action, user_says("hola", "greet", meta))
        sent |= {r["response"] for r in result["responses"]}
    assert sent <= set(domain.responses)
