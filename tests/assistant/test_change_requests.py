"""Stays to change or cancel go to a person: the guest is told who handles it and when, the thread is handed
over with `change_request`, and a cancellation first gets the policy for the guest's own stay."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa_sdk.executor import ActionExecutor

import actions.actions
from tests.assistant.test_actions import (
    LUCIA_ALAMEDA,
    LUCIA_MIRADOR,
    UNKNOWN_ALAMEDA,
    answer_of,
    meta_of,
    run,
    user_says,
)
from tests.assistant.test_actions import action_environment as action_environment  # the same clock, same data

pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")
CHANGE_REQUEST = {"gateway": {"handoff": {"reason": "change_request"}}}


async def test_a_change_of_dates_goes_to_a_person_without_asking_for_a_code(
    executor: ActionExecutor, domain: Domain
) -> None:
    events = user_says(
        "queremos cambiar las fechas", "request_change", meta_of(UNKNOWN_ALAMEDA), SlotSet("language", "es")
    )
    result = await run(executor, domain, "action_request_change", events, UNKNOWN_ALAMEDA)
    assert answer_of(result)[0] == ("utter_change_request", {"hotel": "Casa Alameda", "hours": "08:00-23:00"})
    assert result["responses"][1]["custom"] == CHANGE_REQUEST
    assert result["events"] == []  # not paused: while it waits in the queue the bot still answers


async def test_a_cancellation_quotes_the_policy_for_the_guests_stay_then_goes_to_a_person(
    executor: ActionExecutor, domain: Domain
) -> None:
    events = user_says(
        "quiero cancelar mi reserva", "request_cancellation", meta_of(LUCIA_MIRADOR), SlotSet("language", "es")
    )
    result = await run(executor, domain, "action_request_cancellation", events, LUCIA_MIRADOR)
    policy, handed = answer_of(result)[:2]
    assert policy == (
        "utter_cancellation_free_until",
        {"hours": "48", "code": "MDP-4F7K2Q", "arrival": "18 de diciembre de 2026",
         "deadline": "16 de diciembre de 2026 a las 15:00"},
    )  # fmt: skip
    assert handed == ("utter_change_request", {"hotel": "Hotel Mirador del Puerto", "hours": "24 horas"})
    assert result["responses"][2]["custom"] == CHANGE_REQUEST


async def test_at_night_the_guest_is_told_when_reception_will_write(
    executor: ActionExecutor, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    night = datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)  # 00:30 in Seville: Alameda's reception closed
    monkeypatch.setattr(actions.actions, "utcnow", lambda: night)
    meta = {**meta_of(LUCIA_ALAMEDA), "timestamp": int(night.timestamp())}
    events = user_says("we need an extra bed", "request_change", meta, SlotSet("language", "en"))
    result = await run(executor, domain, "action_request_change", events, LUCIA_ALAMEDA)
    assert answer_of(result)[0] == (
        "utter_change_request_reception_closed",
        {"hotel": "Casa Alameda", "hours": "08:00-23:00", "opens": "08:00"},
    )
    assert result["responses"][1]["custom"] == CHANGE_REQUEST
