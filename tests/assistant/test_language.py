"""`detect_language`: the guest's words decide, then the conversation's language, then the calling code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotel.language import LANGUAGES, detect_language, language_of_number, written_language

SPAIN = "34612345678"
UK = "447700900123"
FRANCE = "33612345678"


@pytest.mark.parametrize(
    ("text", "previous", "wa_id", "expected"),
    [
        # Spanish words win, whatever the number or the conversation so far
        ("hola buenas", None, UK, "es"),
        ("¿A qué hora es el check-in?", "en", UK, "es"),
        ("cuál es la clave del wifi?", None, FRANCE, "es"),
        ("cual es la clave del wifi", "en", UK, "es"),  # no accents, still Spanish words
        ("tienen parking?", "en", UK, "es"),
        ("gracias!!", "en", UK, "es"),
        ("¿?", None, UK, "es"),  # the inverted question mark alone is Spanish
        ("mañana", None, UK, "es"),
        ("hora del check in", "en", UK, "es"),  # loanwords do not count for English
        # English words win
        ("hi there", None, SPAIN, "en"),
        ("what time can I check in", "es", SPAIN, "en"),
        ("wifi password?", "es", SPAIN, "en"),
        ("thx", "es", SPAIN, "en"),
        ("Hello, is breakfast included?", None, SPAIN, "en"),
        # no evidence: the conversation keeps its language
        ("ok", "es", UK, "es"),
        ("ok", "en", SPAIN, "en"),
        ("👍", "es", UK, "es"),
        ("MDP-4F7K2Q", "en", SPAIN, "en"),
        ("parking?", "es", UK, "es"),
        # no evidence and no conversation yet: the calling code
        ("ok", None, SPAIN, "es"),
        ("👍", None, UK, "en"),
        ("", None, FRANCE, "en"),
        ("", None, "5215512345678", "es"),  # Mexico
        ("", None, "18095551234", "es"),  # Dominican Republic, inside the +1 plan
        ("", None, "12025550123", "en"),  # United States
        ("", None, "5511912345678", "en"),  # Brazil: 55 is not a Spanish-speaking code
        ("", None, None, "en"),
        # a previous value that is not one of ours is ignored
        ("ok", "fr", SPAIN, "es"),
    ],
)
def test_detect_language(text: str, previous: str | None, wa_id: str | None, expected: str) -> None:
    assert detect_language(text, previous, wa_id) == expected


@pytest.mark.parametrize(
    ("wa_id", "expected"),
    [("34612345678", "es"), ("+34612345678", "es"), ("5491112345678", "es"), ("447700900123", "en"), ("", "en")],
)
def test_language_of_number(wa_id: str, expected: str) -> None:
    assert language_of_number(wa_id) == expected


@given(
    text=st.text(),
    previous=st.one_of(st.none(), st.sampled_from(["es", "en"]), st.text(max_size=5)),
    wa_id=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"\A\d{6,15}\Z")),
)
def test_detect_language_never_raises_and_answers_a_language_we_speak(
    text: str, previous: str | None, wa_id: str | None
) -> None:
    assert detect_language(text, previous, wa_id) in LANGUAGES


@given(text=st.text(alphabet=st.characters(blacklist_categories=("L",))), previous=st.sampled_from(["es", "en"]))
def test_text_without_letters_keeps_the_conversation_language(text: str, previous: str) -> None:
    """Digits, emojis and punctuation carry no language, except the Spanish-only ¿ and ¡."""
    expected = "es" if "¿" in text or "¡" in text else previous
    assert detect_language(text, previous, None) == expected


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Bonjour, à quelle heure est le petit-déjeuner ?", "fr"),
        ("est-ce que vous avez un parking ?", "fr"),
        ("je voudrais annuler ma réservation", "fr"),
        ("Hallo, wie ist das WLAN-Passwort?", "de"),
        ("Gibt es einen Parkplatz beim Hotel?", "de"),
        ("Wann ist der Check-out?", "de"),
        ("A che ora è la colazione?", "it"),
        ("posso portare il mio cane?", "it"),
        ("quanto costa il parcheggio", "it"),
        ("Qual é a senha do wifi?", "pt"),
        ("posso levar o meu cão?", "pt"),
        ("¿A qué hora es el check-in y tenéis parking?", "es"),
        ("puedo llevar a mi perro", "es"),
        ("quiero cancelar mi reserva", "es"),
        ("what time is breakfast", "en"),
        ("ok", None),
        ("MDP-4F7K2Q", None),
    ],
)
def test_the_written_language_is_named(text: str, written: str | None) -> None:
    assert written_language(text) == written


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, à quelle heure est le petit-déjeuner ?",
        "Hallo, wie ist das WLAN-Passwort?",
        "A che ora è la colazione?",
        "a que horas é o check-in?",  # Portuguese shares "que", "horas" and "o" with Spanish
    ],
)
def test_french_german_italian_and_portuguese_are_answered_in_english(text: str) -> None:
    """Even from a Spanish number in a Spanish conversation: never the Spanish answer."""
    assert detect_language(text, "es", SPAIN) == "en"
