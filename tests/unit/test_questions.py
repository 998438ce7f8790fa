"""Cutting a guest message into one bot turn per question (`connectors.whatsapp.questions`), with the parses
given as values: what the model would say of each clause."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from connectors.whatsapp.questions import QUESTION_CONFIDENCE, clauses, question_turns


def parse(intent: str, confidence: float = 0.99) -> dict[str, Any]:
    return {"intent": {"name": intent, "confidence": confidence}}


def pieces(text: str) -> list[str]:
    return [text[c.start : c.end] for c in clauses(text)]


def test_clauses_are_cut_at_sentence_ends_joining_words_and_commas() -> None:
    assert pieces("¿A qué hora es el check-in y tenéis parking?") == ["¿A qué hora es el check-in", "tenéis parking"]
    assert pieces("what's the wifi password, is there a gym, and when is breakfast?") == [
        "what's the wifi password",
        "is there a gym",
        "when is breakfast",
    ]
    expected = ["Hola", "¿Dónde está el hotel", "🙂 ¿Hay parking"]
    assert pieces("Hola!\n¿Dónde está el hotel? 🙂 ¿Hay parking?") == expected
    assert pieces("ok") == ["ok"]
    assert pieces("🙂?") == []


def test_two_questions_become_two_turns_in_the_order_asked_with_their_marks() -> None:
    text = "¿A qué hora es el check-in y tenéis parking?"
    turns = question_turns(text, clauses(text), [parse("ask_checkin_time"), parse("ask_parking")])
    assert turns == ["¿A qué hora es el check-in", "tenéis parking?"]


def test_a_greeting_rides_with_the_first_question_and_a_fragment_with_the_one_before() -> None:
    text = "Hola! cual es la clave del wifi? y a que hora es el desayuno, y el precio"
    found = clauses(text)
    parses = [parse("greet"), parse("ask_wifi"), parse("ask_breakfast"), parse("ask_breakfast", 0.4)]
    assert question_turns(text, found, parses) == [
        "Hola! cual es la clave del wifi?",
        "a que hora es el desayuno, y el precio",
    ]


def test_one_question_stays_whole_however_it_is_cut() -> None:
    text = "Can I bring my dog and my cat?"
    assert question_turns(text, clauses(text), [parse("ask_pets"), parse("affirm", 0.61)]) == [text]
    text = "what time is check-in? I mean, when can we arrive?"
    assert question_turns(text, clauses(text), [parse("ask_checkin_time")] * 3) == [text]


def test_an_unsure_clause_is_no_question_of_its_own() -> None:
    text = "what time is check-in and the other thing"
    unsure = parse("ask_parking", QUESTION_CONFIDENCE - 0.01)
    assert question_turns(text, clauses(text), [parse("ask_checkin_time"), unsure]) == [text]


def test_a_pasted_list_of_many_questions_stays_whole() -> None:
    intents = ["ask_wifi", "ask_parking", "ask_breakfast", "ask_pool", "ask_gym"]
    text = "? ".join(intents) + "?"
    assert question_turns(text, clauses(text), [parse(i) for i in intents]) == [text]


INTENTS = st.sampled_from(["ask_wifi", "ask_parking", "greet", "nlu_fallback", "ask_pool"])


@given(st.text(alphabet=st.sampled_from(list("ab ?,.!y\n¿é")), max_size=40), st.data())
def test_every_word_written_is_in_exactly_one_turn_in_order(text: str, data: st.DataObject) -> None:
    """Nothing the guest wrote is lost or said twice: the turns are the clauses' text, in order, none twice."""
    found = clauses(text)
    parses = [parse(data.draw(INTENTS), data.draw(st.floats(0, 1))) for _ in found]
    turns = question_turns(text, found, parses)
    assert all(c.start < c.end for c in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    if turns == [text]:
        return
    at = 0
    for turn in turns:
        at = text.index(turn, at) + len(turn)
    for clause in found:
        assert sum(text[clause.start : clause.end] in turn for turn in turns) >= 1
