"""Which language to answer a guest in: Spanish or English, decided from what they write.

Pure and cheap, because Rasa runs it through `action_detect_language` after every user message. The text is the
strongest evidence; a message with none (an emoji, "ok", a booking code, a shared location) keeps the language
the conversation already has, and the first such message falls back to the guest's country calling code.

Guests also write French, German, Italian and Portuguese. The assistant answers them in English, never in
Spanish: the `language` slot stays es/en, so the responses and templates chosen follow with no domain change.
Their words and letters are evidence too, or a Portuguese "a que horas é o check-in?", which shares "que",
"horas" and "o" with Spanish, would get a Spanish answer.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal, cast

from cloudapi.user_ids import is_bsuid

Language = Literal["es", "en"]

LANGUAGES: Final[tuple[Language, ...]] = ("es", "en")
"""The languages the assistant answers in, the values of the `language` slot."""

WrittenLanguage = Literal["es", "en", "fr", "de", "it", "pt"]
"""The languages `written_language` recognises; the last four are answered in English."""

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

FRENCH_WORDS: Final = frozenset(
    """
    bonjour bonsoir salut coucou merci revoir bientot bonne journee soiree nuit matin soir demain aujourd hui
    je vous nous il elle moi votre notre mon ma et est cest ce ca qui quoi qu quel quelle quels quelles ou
    combien coute coutent prix au aux du dans avec sans chez pas oui svp stp beaucoup aussi encore ici
    heure heures chambre chambres petit dejeuner inclus compris garer voiture stationnement piscine salle
    chien chiens animaux aeroport navette bagages valise valises consigne annuler annulation remboursement
    reserver paiement payer paye lien adresse trouve mot passe reseau arrivee arriver depart tard tot avant
    apres peut peux pouvez pourriez puis voudrais voudrions veux faut dois ai avez avons suis sommes etes
    parler quelqu personne humain accueil fumer ascenseur fauteuil roulant changer modifier lit gratuit
    gratuite frais
    """.split()  # noqa: SIM905 - as above
)
GERMAN_WORDS: Final = frozenset(
    """
    hallo guten morgen tag abend moin servus danke dankeschon vielen dank bitte tschuss wiedersehen bald ich
    wir sie du ihr mein meine meinen unser unsere ist sind bin habe haben hatten gibt gibts ein eine einen
    einem der die dem und oder mit ohne fur von vom zum zur zu um auf aus nach bei beim wann wie wo welche
    welcher viel wieviel kostet kosten preis zimmer fruhstuck uhr parkplatz parken tiefgarage hund hunde
    haustier haustiere tiere schwimmbad fitnessstudio fitnessraum flughafen abholen gepack koffer
    aufbewahren stornieren stornierung storno buchung gebucht reservierung bezahlen bezahlt zahlung zahlen
    rechnung adresse passwort wlan kann konnen konnte mochte mochten brauche brauchen ab fruh fruher spat
    spater nicht kein keine nein gut sehr noch auch schon hier heute jetzt abreise anreise ankunft
    einchecken auschecken jemand jemanden sprechen mitarbeiter mensch rezeption kostenlos nacht nachte
    strasse bahnhof andern umbuchen geoffnet offen lange erlaubt rauchen aufzug rollstuhl
    """.split()  # noqa: SIM905 - as above
)
ITALIAN_WORDS: Final = frozenset(
    """
    buongiorno buonasera buonanotte salve grazie mille prego arrivederci vorrei vorremmo possiamo posso
    potete potrei avete abbiamo ho hai hanno sono siamo sei il gli della dello delle degli dell nella nel
    sul dal per di ci ma e quale quali qual dove quando quanto quanti perche ora ore orario colazione
    stanza letto prenotazione prenotato prenotare pagamento pagare pagato conto indirizzo trova parcheggio
    parcheggiare macchina palestra animali cane cani aeroporto navetta bagagli valigia valigie cancellare
    disdire cancellazione rimborso modificare cambiare spostare arrivo partenza tardi domani oggi stasera
    notte molto tutto bene anche ancora gia qui qualcuno parlare umano operatore nuotare aperta aperto
    chiude fumare ascensore mio mia nostro nostra vostro vostra voi noi io compreso compresa possibile
    uscita ingresso rete chiave parlo vero vera mandate inviate accettate cancellate rimborsate potreste
    posizione collego
    """.split()  # noqa: SIM905 - as above
)
PORTUGUESE_WORDS: Final = frozenset(
    """
    oi bom boa noite obrigado obrigada obg valeu tchau ate logo voce voces vc vcs eu meu minha meus minhas
    seu sua tem tenho temos quero gostaria gostariamos preciso precisamos posso pode podem qual quais
    quanto quanta quantos onde quando senha rede estacionamento estacionar garagem manha almoco quarto
    chegada chegar chego chegamos saida sair endereco fica localizacao rua pagamento paguei pagou
    cancelamento animais cao ginasio aeroporto bagagem deixar levar mudar trocar datas cedo mais muito
    muita tambem agora hoje amanha ontem pessoa alguem falar atendente ajuda ajudar sim nao uma isso isto
    esse essa ainda depois pra sem em na ao aos pelo pela estou sou sao fazer faz tudo bem certo preco
    custa aberta aberto cancelem e
    """.split()  # noqa: SIM905 - as above
)
"""The commonest words of the four other languages guests write, accents removed. None is a Spanish or an
English word (a Spanish "que", "la", "reserva" or "piscina" is in most of them, "das" and "deja" are Spanish
verbs), so Spanish and English text never scores for them."""

SHARED_SPANISH_WORDS: Final = frozenset(
    """
    que como por favor para porque la del al un una es esta son mi tu te se nos le lo de en y o con si claro
    hora horas dia dias entrada reserva reservas reservado pago pagar cancelar politica gratis codigo numero
    persona humano agente maquina algo nada todo bien mal mas menos semana mes ano saber sabes queria
    podemos comer genial
    """.split()  # noqa: SIM905 - as above
)
"""The Spanish words French, German, Italian or Portuguese write too. Once a text shows one of those
languages they no longer count for Spanish, as the accented vowels do not: they are its words as much."""

_SPANISH_ONLY_MARKS: Final = frozenset("ñ¿¡")
_ACCENTED_VOWELS: Final = frozenset("áéíóúü")
OTHER_LANGUAGES: Final[dict[WrittenLanguage, tuple[frozenset[str], frozenset[str]]]] = {
    "fr": (FRENCH_WORDS, frozenset("àâçèêëîïôùûÿœæ")),
    "de": (GERMAN_WORDS, frozenset("äöß")),
    "it": (ITALIAN_WORDS, frozenset("àèìòù")),
    "pt": (PORTUGUESE_WORDS, frozenset("àâãçêôõ")),
}
"""Each language's words and the letters Spanish and English do not write (é and ü are Spanish too)."""
_WORD: Final = re.compile(r"\b[^\W\d_]+\b")


def _without_accents(word: str) -> str:
    """`word` with its diacritics removed, so "qué", "que", "adiós" and "adios" count alike."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _words(lowered: str) -> list[str]:
    """The words of a lower-cased text, accents removed; "c'est" and "dov'è" split at the apostrophe."""
    return [_without_accents(word) for word in _WORD.findall(lowered)]


def language_scores(text: str) -> tuple[int, int]:
    """(Spanish, English) evidence in `text`: one point per known word, plus two for ñ, ¿ or ¡ and one for an
    accented vowel, which English text on a phone does not have."""
    lowered = text.lower()
    return _spanish_and_english(lowered, _words(lowered))


def _spanish_and_english(lowered: str, words: list[str]) -> tuple[int, int]:
    spanish = sum(word in SPANISH_WORDS for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    spanish += 2 * any(c in _SPANISH_ONLY_MARKS for c in lowered) + any(c in _ACCENTED_VOWELS for c in lowered)
    return spanish, english


def written_language_scores(text: str) -> dict[WrittenLanguage, int]:
    """The evidence in `text` for each language: a point per known word, two for letters only that language
    of ours writes. While the text shows none of the four, Spanish and English score as `language_scores`
    says, so their phrases keep their answers; once it shows one, Spanish keeps only its own words and ñ ¿ ¡."""
    lowered = text.lower()
    words = _words(lowered)
    spanish, english = _spanish_and_english(lowered, words)
    others = {
        language: sum(word in vocabulary for word in words) + 2 * any(c in marks for c in lowered)
        for language, (vocabulary, marks) in OTHER_LANGUAGES.items()
    }
    if any(others.values()):
        spanish = sum(word in SPANISH_WORDS and word not in SHARED_SPANISH_WORDS for word in words)
        spanish += 2 * any(c in _SPANISH_ONLY_MARKS for c in lowered)
    return {"es": spanish, "en": english, **others}


def _leaders(text: str) -> set[WrittenLanguage]:
    """The languages with the most evidence in `text`; none when it has no evidence at all."""
    scores = written_language_scores(text)
    best = max(scores.values())
    return {language for language, score in scores.items() if score == best} if best else set()


def written_language(text: str) -> WrittenLanguage | None:
    """The language `text` is written in, when one has strictly the most evidence; None for "ok", a booking
    code or a tie."""
    leaders = _leaders(text)
    return leaders.pop() if len(leaders) == 1 else None


def language_of_number(wa_id: str | None) -> Language:
    """Spanish for a number from a Spanish-speaking country, English for any other or an unknown number; for
    a guest known only by a business-scoped user id, the country it starts with."""
    if wa_id and is_bsuid(wa_id):
        return "es" if wa_id[:2] in SPANISH_SPEAKING_REGIONS else "en"
    digits = (wa_id or "").lstrip("+")
    return "es" if any(digits.startswith(code) for code in SPANISH_SPEAKING_CALLING_CODES) else "en"


def detect_language(text: str, previous: str | None, wa_id: str | None) -> Language:
    """The language to answer `text` in: Spanish when Spanish alone has the most evidence, English when the
    most is English's or that of a language we answer in English (French, German, Italian, Portuguese); on a
    tie with Spanish, or with no evidence, the conversation's `previous` language (when it is one we speak),
    else the language of the guest's number."""
    leaders = _leaders(text)
    if leaders == {"es"}:
        return "es"
    if leaders and "es" not in leaders:
        return "en"
    if previous in LANGUAGES:
        return cast(Language, previous)
    return language_of_number(wa_id)
