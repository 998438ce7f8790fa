"""Which language to answer a guest in: Spanish or English, decided from what they write.

Pure and cheap, because Rasa runs it through `action_detect_language` after every user message. The text is the
strongest evidence; a message with none (an emoji, "ok", a booking code, a shared location) keeps the language
the conversation already has, and the first such message falls back to the guest's country calling code.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal, cast

from cloudapi.user_ids import is_bsuid

Language = Literal["es", "en"]

LANGUAGES: Final[tuple[Language, ...]] = ("es", "en")

SPANISH_SPEAKING_CALLING_CODES: Final = frozenset(
    {
        "34",  # Spain
        "51",  # Peru
        "52",  # Mexico
        "53",  # Cuba
        "54",  # Argentina
        "56",  # Chile
        "57",  # Colombia
        "58",  # Venezuela
        "240",  # Equatorial Guinea
        "502",  # Guatemala
        "503",  # El Salvador
        "504",  # Honduras
        "505",  # Nicaragua
        "506",  # Costa Rica
        "507",  # Panama
        "591",  # Bolivia
        "593",  # Ecuador
        "595",  # Paraguay
        "598",  # Uruguay
        "1787",  # Puerto Rico
        "1939",  # Puerto Rico
        "1809",  # Dominican Republic
        "1829",  # Dominican Republic
        "1849",  # Dominican Republic
    }
)
SPANISH_SPEAKING_REGIONS: Final = frozenset(
    {
        "ES",
        "PE",
        "MX",
        "CU",
        "AR",
        "CL",
        "CO",
        "VE",
        "GQ",
        "GT",
        "SV",
        "HN",
        "NI",
        "CR",
        "PA",
        "BO",
        "EC",
        "PY",
        "UY",
        "PR",
        "DO",
    }
)
"""The same countries by ISO 3166 code, the first two letters of a business-scoped user id."""
"""Calling codes whose guests get Spanish when their words do not say. Codes are prefix-free, so a wa_id (the
number in international format without "+") starts with at most one of them."""

SPANISH_WORDS: Final = frozenset(
    """
    hola buenas buenos dias tardes noches gracias muchas muchisimas adios hasta luego chao vale perfecto genial
    que cual cuales como donde cuando cuanto cuanta cuesta por favor para porque el la los las del al un una unos
    es esta estan estoy soy eres son hay tengo tiene tienen quiero quisiera necesito puedo puede podria podemos
    mi mis su sus tu nuestra nuestro con sin pero tambien ya si claro hora horas llegada salida llegar
    salir entrada reserva reservas reservado habitacion habitaciones pago pagar pagado pendiente enlace
    factura cuenta direccion ubicacion calle desayuno comer aparcamiento aparcar coche garaje plaza
    cancelar cancelacion anular reembolso politica gratis clave contrasena codigo numero persona humano
    hablar alguien recepcion agente ayuda ayudar maquina de en y o le lo te se nos algo nada
    todo bien mal muy mas menos hoy manana ayer semana dia mes ano precio cobran hace haber hacer dime
    saber sabes queria
    """.split()  # noqa: SIM905 - a word list reads better as prose than as 150 quoted strings
)
"""Common Spanish words, accents removed, as guests type them on a phone. Words both languages use ("no",
"wifi", "parking", "check", "ok", "hotel", "link") are in neither list, so they never decide."""

ENGLISH_WORDS: Final = frozenset(
    """
    hello hi hey hiya morning afternoon evening good thanks thank thx ty cheers bye goodbye later see great cool
    what which how where when why who whats hows wheres much many is are was were am be been do does did can could
    would will should may might have has had the an this that these those my your our their it its i you we they
    she and or but with without for from to of at on about please yes yeah yep sure okay fine not dont cant
    time arrival arrive departure leave early late booking booked reservation reserve room rooms stay night
    nights pay paid payment pending balance invoice bill address located location street get there breakfast
    eat food car park garage cancel cancellation refund policy free password network code number person human
    someone somebody talk speak agent reception help machine anything something today tomorrow
    tonight week day price cost costs charge know tell want need like here im ive
    """.split()  # noqa: SIM905 - as above
)
"""Common English words, as guests type them on a phone; see `SPANISH_WORDS` for the words left out."""

_SPANISH_ONLY_MARKS: Final = frozenset("ñ¿¡")
_ACCENTED_VOWELS: Final = frozenset("áéíóúü")
_WORD: Final = re.compile(r"[^\W\d_]+")


def _without_accents(word: str) -> str:
    """`word` with its diacritics removed, so "qué", "que", "adiós" and "adios" count alike."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def language_scores(text: str) -> tuple[int, int]:
    """(Spanish, English) evidence in `text`: one point per known word, plus two for ñ, ¿ or ¡ and one for an
    accented vowel, which English text on a phone does not have."""
    lowered = text.lower()
    words = [_without_accents(word) for word in _WORD.findall(lowered)]
    spanish = sum(word in SPANISH_WORDS for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    spanish += 2 * any(c in _SPANISH_ONLY_MARKS for c in lowered) + any(c in _ACCENTED_VOWELS for c in lowered)
    return spanish, english


def language_of_number(wa_id: str | None) -> Language:
    """Spanish for a number from a Spanish-speaking country, English for any other or an unknown number; for
    a guest known only by a business-scoped user id, the country it starts with."""
    if wa_id and is_bsuid(wa_id):
        return "es" if wa_id[:2] in SPANISH_SPEAKING_REGIONS else "en"
    digits = (wa_id or "").lstrip("+")
    return "es" if any(digits.startswith(code) for code in SPANISH_SPEAKING_CALLING_CODES) else "en"


def detect_language(text: str, previous: str | None, wa_id: str | None) -> Language:
    """The language to answer `text` in: the one with more evidence in the text; on a tie the conversation's
    `previous` language (when it is one we speak), else the language of the guest's number."""
    spanish, english = language_scores(text)
    if spanish != english:
        return "es" if spanish > english else "en"
    if previous in LANGUAGES:
        return cast(Language, previous)
    return language_of_number(wa_id)
