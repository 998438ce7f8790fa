"""Guest consent to automation messages: the opt-out words, and the confirmation the guest gets. Pure.

A guest opts out by writing one of the words alone (optionally with "please"/"por favor"), so "stop" opts
out but "can I stop by reception?" does not. Any later message from the guest opts them back in: writing to
the hotel again is the clearest sign they want to hear from it (documented in the README). Consent is per
hotel number: opting out of one hotel does not silence another.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["OPT_OUT_PHRASES", "confirmation", "is_opt_out"]

OPT_OUT_PHRASES: Final = frozenset(
    {
        # Spanish
        "baja",
        "darme de baja",
        "dar de baja",
        "de baja",
        "me doy de baja",
        "quiero darme de baja",
        "no mas mensajes",
        "no quiero mas mensajes",
        "no me envies mas mensajes",
        "no me enviéis mas mensajes",
        "no me envien mas mensajes",
        "cancelar suscripcion",
        "parar",
        "alto",
        # English
        "stop",
        "unsubscribe",
        "opt out",
        "optout",
        "stop messages",
        "no more messages",
        "stop sending messages",
        "stop all",
        "cancel subscription",
    }
)
_POLITE: Final = ("please", "por favor", "pls", "gracias", "thanks", "thank you")
_NOT_LETTERS: Final = re.compile(r"[^a-z0-9 ]+")


def _normalised(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))
    return " ".join(_NOT_LETTERS.sub(" ", plain).split())


def is_opt_out(text: str) -> bool:
    """Whether a guest's message is a request to stop automation messages."""
    words = _normalised(text)
    for polite in _POLITE:
        words = words.removeprefix(polite + " ").removesuffix(" " + polite)
    return words in {_normalised(phrase) for phrase in OPT_OUT_PHRASES}


_CONFIRMATIONS: Final = {
    "es": "Hecho: no le enviaremos más mensajes automáticos. Si vuelve a escribirnos, volverá a recibirlos.",
    "en": "Done: we will send you no more automatic messages. If you write to us again, you will get them again.",
}


def confirmation(language: str) -> str:
    """What the guest reads after opting out, in their language (English for any other)."""
    return _CONFIRMATIONS.get(language, _CONFIRMATIONS["en"])
