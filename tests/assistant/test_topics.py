"""The questions beyond the basics (HOTELS.md "More facts"), answered from the hotel the guest wrote to; and
the honest "I'll ask reception" for what the hotel's facts do not cover, with the thread handed to a person."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa_sdk.executor import ActionExecutor

import actions.actions
from actions.topics import TOPIC_INTENTS, topic_of
from hotel.facts import TOPICS, HotelFactsError, hotel_from_mapping, load_hotels
from tests.assistant.test_actions import (
    LUCIA_ALAMEDA,
    LUCIA_MIRADOR,
    OLIVER_MIRADOR,
    ROOT,
    answer_of,
    meta_of,
    run,
    user_says,
)
from tests.assistant.test_actions import action_environment as action_environment  # the same clock, same data

pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")


@pytest.mark.parametrize(
    ("sender", "language", "intent", "answer"),
    [
        (LUCIA_MIRADOR, "es", "ask_pets", "Se admiten perros de hasta 10 kg, 15 EUR por noche, bajo petición."),
        (LUCIA_ALAMEDA, "en", "ask_pets", "No pets; guide dogs are welcome."),
        (OLIVER_MIRADOR, "en", "ask_late_check_out",
         "Late check-out until 14:00 for 25 EUR, on request at reception, if the room is free."),
        (LUCIA_ALAMEDA, "es", "ask_late_check_out",
         "Salida tardía hasta las 13:00 por 20 EUR, bajo petición en recepción y si la habitación está libre."),
        (LUCIA_ALAMEDA, "en", "ask_early_check_in", "Early check-in from 12:00, free, if the room is ready."),
        (OLIVER_MIRADOR, "en", "ask_pool", "Rooftop pool, May to October, 10:00-20:00."),
        (LUCIA_ALAMEDA, "es", "ask_pool", "No tenemos piscina."),
        (LUCIA_MIRADOR, "en", "ask_gym", "We have no gym."),
        (LUCIA_ALAMEDA, "en", "ask_gym", "Small gym, 07:00-22:00."),
        (OLIVER_MIRADOR, "en", "ask_airport_transfer",
         "Transfer from Málaga airport, 35 EUR each way; book it at reception 24 h ahead."),
        (LUCIA_ALAMEDA, "es", "ask_luggage_storage",
         "Consigna gratuita en recepción, hasta las 20:00 del día de salida."),
        (LUCIA_MIRADOR, "es", "ask_smoking", "Es un hotel sin humo; se puede fumar en la terraza de la azotea."),
        (LUCIA_ALAMEDA, "en", "ask_accessibility",
         "A historic building with a lift to every floor; there are no adapted rooms."),
    ],
)  # fmt: skip
async def test_each_topic_is_answered_from_the_hotel_written_to(
    executor: ActionExecutor, domain: Domain, sender: str, language: str, intent: str, answer: str
) -> None:
    events = user_says("?", intent, meta_of(sender), SlotSet("language", language))
    result = await run(executor, domain, "action_answer_topic", events, sender)
    hotel = "Hotel Mirador del Puerto" if sender.startswith("1000000001") else "Casa Alameda"
    assert answer_of(result) == [("utter_hotel_topic", {"hotel": hotel, "answer": answer})]
    assert result["events"] == []


def test_every_topic_has_an_intent_and_every_sample_hotel_answers_every_topic(domain: Domain) -> None:
    assert set(TOPIC_INTENTS) <= set(domain.intents)
    assert [topic_of(f"ask_{name}") for name in TOPICS] == list(TOPICS)
    assert topic_of("ask_wifi") is None
    assert topic_of(None) is None
    for hotel in load_hotels().values():
        assert set(hotel.topics) == set(TOPICS), hotel.name


async def test_a_question_no_fact_covers_is_passed_to_reception(executor: ActionExecutor, domain: Domain) -> None:
    events = user_says("puedo volar un dron?", "ask_other_topic", meta_of(LUCIA_MIRADOR), SlotSet("language", "es"))
    result = await run(executor, domain, "action_ask_reception", events, LUCIA_MIRADOR)
    answer, instruction = result["responses"]
    assert (answer["response"], answer["hotel"], answer["hours"]) == (
        "utter_question_for_reception",
        "Hotel Mirador del Puerto",
        "24 horas",
    )
    assert instruction["custom"] == {"gateway": {"handoff": {"reason": "unanswered_question"}}}
    assert result["events"] == []  # not paused: while it waits in the queue the bot still answers


async def test_a_topic_the_hotel_left_out_is_never_guessed(
    executor: ActionExecutor, domain: Domain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A hotel file without `pool`: the question goes to reception, at night with when it opens."""
    for source in (ROOT / "hotel/data/hotels").glob("*.yml"):
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        data["topics"].pop("pool")
        (tmp_path / source.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("HOTEL_FACTS_DIR", str(tmp_path))
    night = datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)  # 00:30 in Seville: Alameda's reception closed
    monkeypatch.setattr(actions.actions, "utcnow", lambda: night)
    actions.actions.reset_services()
    meta = {**meta_of(LUCIA_ALAMEDA), "timestamp": int(night.timestamp())}
    events = user_says("is there a pool?", "ask_pool", meta, SlotSet("language", "en"))
    result = await run(executor, domain, "action_answer_topic", events, LUCIA_ALAMEDA)
    assert answer_of(result)[0] == (
        "utter_question_for_reception_reception_closed",
        {"hotel": "Casa Alameda", "hours": "08:00-23:00", "opens": "08:00"},
    )
    assert result["responses"][1]["custom"] == {"gateway": {"handoff": {"reason": "unanswered_question"}}}


def test_a_misspelt_topic_in_a_hotel_file_is_refused_by_name() -> None:
    data = yaml.safe_load((ROOT / "hotel/data/hotels/1000000001.yml").read_text(encoding="utf-8"))
    data["topics"]["swimming_pool"] = {"es": "Sí", "en": "Yes"}
    with pytest.raises(HotelFactsError, match="unknown topic swimming_pool"):
        hotel_from_mapping(data, "1000000001.yml")
    del data["topics"]["swimming_pool"]
    data["topics"]["gym"] = {"es": "No"}
    with pytest.raises(HotelFactsError, match="'en'"):
        hotel_from_mapping(data, "1000000001.yml")
