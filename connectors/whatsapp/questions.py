"""A guest message that asks several things, as one bot turn per question.

Guests write "what time is check-in and is there parking?" as one message; the NLU model gives a message one
intent, so one of the questions would go unanswered. The channel cuts the message into clauses (sentences,
then clauses joined by "and", "y", "also"... or commas), has the model parse each one, and when two or more
clauses are confident questions of different intents, gives the bot one turn per question, in the order
written. A clause that is no question of its own ("hola", "my cat" in "my dog and my cat") stays with the
question beside it, so nothing the guest wrote is lost; a message with one question stays whole, as before.

Pure: the parses come in as values, or through the `parse` function given, so the plan is tested without a
model; the channel passes the running model's, `make evaluate` the trained one's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

QUESTION_CONFIDENCE: Final = 0.7
"""A clause counts as a question of its own only above this intent confidence (the fallback threshold is 0.5):
a cut in the wrong place leaves fragments the model is unsure of, and those stay whole."""

NOT_QUESTIONS: Final = frozenset({"nlu_fallback", "greet", "thank", "goodbye", "affirm", "deny", "bot_challenge"})
"""Intents that answer nothing the guest asked: a greeting or thanks beside questions rides along with them."""

MAX_QUESTIONS: Final = 4
"""The most turns one message becomes; past it the message stays whole (a list pasted in is not a chat)."""

_SENTENCE_END: Final = re.compile(r"[?!.;\n]+")
_JOINER: Final = re.compile(
    r"\s*,\s*(?:(?:and|y|e|also|plus|además|ademas|también|tambien|et|und)\s+)?"
    r"|\s+(?:and|y|e|also|plus|además|ademas|también|tambien|et|und)\s+",
    re.IGNORECASE,
)
_WORD: Final = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Clause:
    """A stretch of the guest's text, by its place in the message."""

    start: int
    end: int


def clauses(text: str) -> list[Clause]:
    """The clauses of `text` in order: cut at sentence ends, then at the words and commas that join clauses;
    pieces with no letter or digit (an emoji, "¿") are left out."""
    found: list[Clause] = []
    for sentence in _spans(text, _SENTENCE_END, 0, len(text)):
        for start, end in _spans(text, _JOINER, *sentence):
            piece = text[start:end]
            if _WORD.search(piece):
                stripped = len(piece) - len(piece.lstrip())
                found.append(Clause(start + stripped, start + len(piece.rstrip())))
    return found


def _spans(text: str, separator: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """The (start, end) stretches of text[start:end] between the matches of `separator`."""
    spans, at = [], start
    for match in separator.finditer(text, start, end):
        spans.append((at, match.start()))
        at = match.end()
    spans.append((at, end))
    return [(s, e) for s, e in spans if e > s]


def _question(parse: Mapping[str, Any]) -> str | None:
    """The intent a clause asks, when it is a confident question."""
    intent = parse.get("intent") or {}
    name = intent.get("name")
    if name in NOT_QUESTIONS or float(intent.get("confidence") or 0.0) < QUESTION_CONFIDENCE:
        return None
    return str(name) if name else None


def question_turns(text: str, found: Sequence[Clause], parses: Sequence[Mapping[str, Any]]) -> list[str]:
    """The texts to give the bot for `text`, one turn each: one per question when the clauses `found` (parsed
    as `parses`) ask two or more different things, else `text` whole. A clause that asks nothing, or asks again
    what the clause before it asked, joins the turn before it (the first question, for those before any);
    each turn is the guest's own text from its first clause to its last, with the "?" that ends it."""
    asked = [_question(parse) for parse in parses]
    if len({intent for intent in asked if intent}) < 2:
        return [text]
    turns: list[tuple[int, int, str | None]] = []  # (start, end, the question asked, None before the first)
    for clause, intent in zip(found, asked, strict=True):
        if not turns:
            turns.append((clause.start, clause.end, intent))
        elif intent is None or intent == turns[-1][2]:
            turns[-1] = (turns[-1][0], clause.end, turns[-1][2])
        elif turns[-1][2] is None:
            turns[-1] = (turns[-1][0], clause.end, intent)
        else:
            turns.append((clause.start, clause.end, intent))
    if len(turns) > MAX_QUESTIONS:
        return [text]
    return [text[start : _with_mark(text, end)] for start, end, _ in turns]


def _with_mark(text: str, end: int) -> int:
    """`end` moved past the question or exclamation marks right after it."""
    while end < len(text) and text[end] in "?!":
        end += 1
    return end


Parse = Callable[[str], Awaitable[Mapping[str, Any]]]


async def question_texts(typed: str, parse: Parse) -> list[str]:
    """The texts of the bot turns for what a guest `typed`: one per question when it asks several, each clause
    parsed by `parse`; `typed` itself when it asks one thing, or is our own `/intent` payload (never cut)."""
    found = clauses(typed) if not typed.startswith("/") else []
    if len(found) < 2:
        return [typed]
    return question_turns(typed, found, [await parse(typed[clause.start : clause.end]) for clause in found])
