"""How well and how fast the trained assistant understands a message.

Quality: intent F1 and `booking_code` entity F1 on `tests/nlu_holdout.yml`, messages written by hand and never
used in training, with each intent's precision, recall and F1 and the share right by the language written
(`make evaluate` prints only these, and the multi-question share). Speed: `Agent.parse_message` on the model
`make train` writes, one message at a time, beside `/intent` texts (what the channel sends for a location or a
photo): Rasa reads their intent from the text, but still runs them through the same graph, so they show what
parsing costs around the NLU models themselves.

Needs models/hotel.tar.gz (`make train`); the model is loaded once, outside the timings.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import yaml

from benchmarks.measure import Figures
from tests.support import ACTION_SERVER_TOKEN

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "hotel.tar.gz"
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
MULTI_QUESTIONS = ROOT / "tests" / "nlu_multi_questions.yml"
MESSAGES_PER_RUN = 200
GUEST_MESSAGES = (
    "hola buenas",
    "hi there",
    "cuál es la clave del wifi?",
    "what time can I check in",
    "a que hora es el checkout",
    "is breakfast included?",
    "me mandas el enlace de pago?",
    "how much do i still owe?",
    "tienen parking? 🚗",
    "where is the hotel?",
    "mi código es MDP-4F7K2Q",
    "can i cancel for free?",
    "quiero hablar con una persona",
    "are you a bot?",
    "muchas gracias!!",
    "ok bye",
)
TRIGGERED_INTENTS = ("/share_location", "/send_media", "/react", "/unsupported_message")


async def time_parses(agent: Any, label: str, texts: tuple[str, ...]) -> Figures:
    """Parse `MESSAGES_PER_RUN` messages cycling through `texts`, one at a time, timing each."""
    latencies = []
    started = time.perf_counter()
    for text in islice(cycle(texts), MESSAGES_PER_RUN):
        before = time.perf_counter()
        await agent.parse_message(text)
        latencies.append((time.perf_counter() - before) * 1000)
    seconds = time.perf_counter() - started
    return Figures(label, MESSAGES_PER_RUN, MESSAGES_PER_RUN, seconds, tuple(latencies))


@dataclass(frozen=True)
class Evaluation:
    messages: int
    intent_f1_weighted: float
    intent_f1_macro: float
    entity_precision: float
    entity_recall: float
    entity_f1: float
    per_intent: tuple[IntentScore, ...]
    per_language: tuple[tuple[str, int, int], ...]
    """(language written, messages, intents right) by `hotel.language.written_language` of each message."""
    errors: tuple[tuple[str, str, str], ...]
    """(text, expected intent, predicted intent) of each message whose intent was wrong."""


@dataclass(frozen=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


async def evaluate(agent: Any, holdout: Path = HOLDOUT) -> Evaluation:
    """Intent F1 (support-weighted, as `rasa test nlu` reports it, and macro) and exact-match entity F1
    (same entity, same text as typed) of the model on the held-out messages."""
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    from hotel.language import written_language

    examples = load_data(str(holdout)).intent_examples
    expected, predicted, errors = [], [], []
    entities: Counter[str] = Counter()
    written: Counter[str] = Counter()
    written_right: Counter[str] = Counter()
    for example in examples:
        text = example.get("text")
        parsed = await agent.parse_message(text)
        expected.append(example.get("intent"))
        predicted.append(parsed["intent"]["name"])
        if expected[-1] != predicted[-1]:
            errors.append((text, expected[-1], predicted[-1]))
        language = written_language(text) or "none"
        written[language] += 1
        written_right[language] += expected[-1] == predicted[-1]
        gold = {(e["entity"], text[e["start"] : e["end"]]) for e in example.get("entities") or []}
        found = {(e["entity"], str(e["value"])) for e in parsed["entities"]}
        entities.update(tp=len(gold & found), fp=len(found - gold), fn=len(gold - found))
    labels = sorted(set(expected))
    precision = entities["tp"] / ((entities["tp"] + entities["fp"]) or 1)
    recall = entities["tp"] / ((entities["tp"] + entities["fn"]) or 1)
    scores = precision_recall_fscore_support(expected, predicted, labels=labels, zero_division=0)
    return Evaluation(
        messages=len(examples),
        # Scored over the intents the messages have: `nlu_fallback` predicted for one is a miss of that intent,
        # not a class of its own that would pull the macro average down a second time.
        intent_f1_weighted=float(f1_score(expected, predicted, labels=labels, average="weighted", zero_division=0)),
        intent_f1_macro=float(f1_score(expected, predicted, labels=labels, average="macro", zero_division=0)),
        entity_precision=precision,
        entity_recall=recall,
        entity_f1=_f1(precision, recall),
        per_intent=tuple(
            IntentScore(label, *map(float, score[:3]), int(score[3]))
            for label, *score in zip(labels, *scores, strict=True)
        ),
        per_language=tuple((language, count, written_right[language]) for language, count in written.most_common()),
        errors=tuple(errors),
    )


@dataclass(frozen=True)
class MultiQuestions:
    messages: int
    answered: int
    """Messages whose turns (connectors.whatsapp.questions) cover every intent the message asks."""
    answered_whole: int
    """The same, were each message one turn: what the assistant did before its questions were cut apart."""
    misses: tuple[tuple[str, tuple[str, ...]], ...]
    """(text, the intents its turns had) of each message not fully answered."""


async def evaluate_multi_questions(agent: Any, messages: list[dict[str, Any]]) -> MultiQuestions:
    """How many of the held-out `messages` that ask several things (`MULTI_QUESTIONS`) get every question
    answered."""
    from connectors.whatsapp.questions import question_texts

    answered, whole, misses = 0, 0, []
    for message in messages:
        asked = set(message["intents"])
        turns = await question_texts(message["text"], agent.parse_message)
        intents = tuple([(await agent.parse_message(turn))["intent"]["name"] for turn in turns])
        answered += asked <= set(intents)
        whole += asked <= {(await agent.parse_message(message["text"]))["intent"]["name"]}
        if not asked <= set(intents):
            misses.append((message["text"], intents))
    return MultiQuestions(answered + len(misses), answered, whole, tuple(misses))


def print_multi_questions(multi: MultiQuestions) -> None:
    print(f"Several questions in one message: {multi.messages} held-out messages ({MULTI_QUESTIONS.relative_to(ROOT)})")
    print(
        f"  fully answered {multi.answered} ({multi.answered / multi.messages:.0%}); "
        f"as one turn each (before) {multi.answered_whole} ({multi.answered_whole / multi.messages:.0%})"
    )
    for text, intents in multi.misses:
        print(f"  missed: {text!r} got turns {', '.join(intents)}")


def print_evaluation(evaluation: Evaluation) -> None:
    print(f"Assistant NLU quality: {evaluation.messages} held-out messages ({HOLDOUT.relative_to(ROOT)})")
    print(f"  intent F1 {evaluation.intent_f1_weighted:.3f} (weighted), {evaluation.intent_f1_macro:.3f} (macro)")
    print(
        f"  booking_code entity F1 {evaluation.entity_f1:.3f} "
        f"(precision {evaluation.entity_precision:.3f}, recall {evaluation.entity_recall:.3f})"
    )
    print(f"  {'intent':<26} {'precision':>9} {'recall':>7} {'F1':>6} {'messages':>8}")
    for score in evaluation.per_intent:
        print(f"  {score.intent:<26} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>6.3f} {score.support:>8}")
    print(
        "  intent right by the language written: "
        + ", ".join(f"{language} {right}/{count}" for language, count, right in evaluation.per_language)
    )
    for text, gold, guess in evaluation.errors:
        print(f"  wrong: {text!r} is {gold}, parsed as {guess}")


async def measure(agent: Any) -> list[Figures]:
    await time_parses(agent, "warm-up", GUEST_MESSAGES)
    return [
        await time_parses(agent, "/intent texts (intent given)", TRIGGERED_INTENTS),
        await time_parses(agent, "guest messages (NLU pipeline)", GUEST_MESSAGES),
    ]


def load_agent(action_endpoint: str | None = None) -> Any:
    """The trained model, with Rasa's logging configured as `rasa run` does it (and the action server at
    `action_endpoint`, started by `tests.processes.start_action_server`, when the benchmark runs whole turns)."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    # Rasa and TensorFlow are imported only once there is a model to measure.
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # As `rasa run` does; left unconfigured, Rasa prints a debug line per parse and times the terminal.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig(action_endpoint, token=ACTION_SERVER_TOKEN) if action_endpoint else None
    return Agent.load(MODEL, action_endpoint=endpoint)


def main(quality_only: bool = False) -> None:
    if not MODEL.exists():
        print(f"Assistant NLU: skipped, no {MODEL.relative_to(ROOT)} (run `make train`)")
        return
    loading = time.perf_counter()
    agent = load_agent()
    loaded_in = time.perf_counter() - loading
    print_evaluation(asyncio.run(evaluate(agent)))
    multi = yaml.safe_load(MULTI_QUESTIONS.read_text(encoding="utf-8"))["messages"]
    print_multi_questions(asyncio.run(evaluate_multi_questions(agent, multi)))
    if quality_only:
        return
    baseline, nlu = asyncio.run(measure(agent))
    print(f"Assistant NLU: Agent.parse_message, {MESSAGES_PER_RUN} messages per run, one at a time")
    print(f"  model loaded in {loaded_in:.1f} s")
    print(baseline.line())
    print(nlu.line())
    print(f"  the NLU models add {nlu.percentile(0.5) - baseline.percentile(0.5):.2f} ms at p50")


if __name__ == "__main__":
    main(quality_only="--quality" in sys.argv[1:])
