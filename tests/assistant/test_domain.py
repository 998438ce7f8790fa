"""The assistant's files keep their contracts: every intent answered, every answer in both languages, the
intents the channel triggers present, enough training examples in each language, and `rasa data validate`
clean but for the warnings this design causes on purpose."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.utils.io import read_yaml_file

from actions.topics import TOPIC_INTENTS
from connectors.whatsapp.bot_input import INTENT_TRIGGERS
from hotel.language import language_scores

ROOT = Path(__file__).resolve().parents[2]
RASA = Path(sys.executable).parent / "rasa"

CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "request_human", "nlu_fallback",
    "ask_reservation", "ask_checkin_time", "ask_checkout_time", "ask_payment_status", "ask_payment_link",
    "ask_address", "ask_wifi", "ask_parking", "ask_breakfast", "ask_cancellation_policy", "provide_booking_code",
}  # fmt: skip
HOTEL_INTENTS = {intent for intent in CONTRACT_INTENTS if intent.startswith(("ask_", "provide_"))} | {
    *TOPIC_INTENTS,
    "ask_other_topic",
    "request_change",
    "request_cancellation",
}
TRIGGERED_INTENTS = {trigger.lstrip("/") for trigger in INTENT_TRIGGERS.values()}
EXTERNAL_INTENTS = {"EXTERNAL_reservation_reminder", "EXTERNAL_payment_request"}
"""Intents automations trigger through Rasa's API (`trigger_intent`): never typed, so no NLU examples."""
MIN_EXAMPLES_PER_LANGUAGE = 15

pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


def rule_intents() -> set[str]:
    """Every intent some rule starts from, `or` branches included."""
    intents = set()
    for rule in read_yaml_file(ROOT / "data" / "rules.yml")["rules"]:
        for step in rule["steps"]:
            branches = step.get("or", [step])
            intents |= {branch["intent"] for branch in branches if "intent" in branch}
    return intents


def responses_sent_by_actions() -> set[str]:
    """Every response name the action server's code sends (`actions/*.py`, and the answers it picks from
    `hotel/*.py`)."""
    paths = [*(ROOT / "actions").glob("*.py"), *(ROOT / "hotel").glob("*.py")]
    code = "\n".join(path.read_text(encoding="utf-8") for path in paths)
    return set(re.findall(r'"(utter_\w+)"', code))


def responses_in_rules_and_stories() -> set[str]:
    steps = [
        step
        for name, key in (("rules.yml", "rules"), ("stories.yml", "stories"))
        for flow in read_yaml_file(ROOT / "data" / name)[key]
        for step in flow["steps"]
    ]
    return {step["action"] for step in steps if str(step.get("action", "")).startswith("utter_")}


def test_the_contract_intents_and_the_triggered_ones_are_in_the_domain(domain: Domain) -> None:
    assert (CONTRACT_INTENTS | TRIGGERED_INTENTS | EXTERNAL_INTENTS) - set(domain.intents) == set()


def test_every_response_is_used_and_every_response_the_actions_send_exists(domain: Domain) -> None:
    sent = responses_sent_by_actions()
    assert sent - set(domain.responses) == set()
    assert set(domain.responses) - sent - responses_in_rules_and_stories() == set()


def test_every_intent_has_a_rule(domain: Domain) -> None:
    own_intents = set(domain.as_dict()["intents"])
    assert own_intents - rule_intents() == set()


def test_every_response_speaks_both_languages_and_has_a_bilingual_default(domain: Domain) -> None:
    def languages(variations: list[dict[str, Any]]) -> Counter[str | None]:
        return Counter(
            next((c["value"] for c in v.get("condition", []) if c["name"] == "language"), None) for v in variations
        )

    for name, variations in domain.responses.items():
        assert languages(variations) == Counter({"es": 1, "en": 1, None: 1}), name


def test_every_hotel_intent_has_enough_examples_in_each_language() -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for example in load_data(str(ROOT / "data" / "nlu.yml")).intent_examples:
        spanish, english = language_scores(example.get("text"))
        if spanish != english:
            counts[example.get("intent"), "es" if spanish > english else "en"] += 1
    short = {
        (intent, language): counts[intent, language]
        for intent in HOTEL_INTENTS
        for language in ("es", "en")
        if counts[intent, language] < MIN_EXAMPLES_PER_LANGUAGE
    }
    assert short == {}


def expected_validation_warnings() -> set[str]:
    """What `rasa data validate` warns about by design: the triggered intents have no NLU examples (they arrive
    as `/intent`), and the responses the actions send appear in no rule."""
    without_examples = {
        f"The intent '{intent}' is listed in the domain file, but is not found in the NLU training data."
        for intent in TRIGGERED_INTENTS | EXTERNAL_INTENTS
    }
    without_rules = {
        f"The utterance '{name}' is not used in any story or rule."
        for name in responses_sent_by_actions() - responses_in_rules_and_stories()
    }
    return without_examples | without_rules


def test_rasa_data_validate_warns_only_about_what_the_design_intends() -> None:
    result = subprocess.run(
        [str(RASA), "data", "validate"],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    warnings = set(re.findall(r"UserWarning: (.+?)\s*(?:\x1b\[0m)?$", output, flags=re.MULTILINE))
    assert warnings == expected_validation_warnings()
