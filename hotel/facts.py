"""The hotels one gateway speaks for: their facts, read from one data file per business phone number.

Shared by the action server (answers about check-in, Wi-Fi, parking...) and the gateway (hotel names in
templates, reception hours in the handoff answer, quiet hours and timezone for scheduled sends), so each fact
has one home: `hotel/data/hotels/<phone_number_id>.yml`, or the folder named by `HOTEL_FACTS_DIR`
(`HotelSettings.facts_dir`). Each process loads them once, at start.
No rasa-sdk import: the gateway loads this module too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import yaml

from hotel.settings import DEFAULT_FACTS_DIR

TOPICS: Final = (
    "pets",
    "late_check_out",
    "early_check_in",
    "pool",
    "gym",
    "airport_transfer",
    "luggage_storage",
    "smoking",
    "accessibility",
)
"""The questions beyond the basics a hotel file may answer under `topics:`, each with one sentence per
language. A topic a hotel leaves out is one its assistant never guesses at: reception is asked instead."""


class HotelFactsError(ValueError):
    """A hotel file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Bilingual:
    """A sentence the hotel wrote in both languages."""

    es: str
    en: str

    def in_language(self, language: str) -> str:
        return self.es if language == "es" else self.en


@dataclass(frozen=True)
class Hotel:
    phone_number_id: str
    name: str
    display_number: str
    business_account_id: str
    timezone: ZoneInfo
    address: str
    map_url: str
    check_in_from: time
    check_out_until: time
    wifi_network: str
    wifi_password: str
    parking: Bilingual
    breakfast_hours: str
    breakfast_price: str
    breakfast: Bilingual
    free_cancellation_hours: int
    reception_opens: time
    reception_closes: time | None
    """None when reception closes at 24:00; with opens at 00:00 that is a reception open around the clock."""
    quiet_start: time
    quiet_end: time
    topics: Mapping[str, Bilingual] = field(default_factory=dict)
    """The hotel's answers by topic (`TOPICS`); a topic it has not written is missing."""

    @property
    def reception_always_open(self) -> bool:
        return self.reception_opens == time(0, 0) and self.reception_closes is None

    def reception_open_at(self, moment: datetime) -> bool:
        """Whether reception is staffed at `moment` (any timezone-aware datetime), in the hotel's local time."""
        local = moment.astimezone(self.timezone).time()
        closes = self.reception_closes or time.max
        return self.reception_opens <= local < closes

    def reception_hours(self, language: str) -> str:
        """Reception hours as a guest reads them: "24 hours" or "08:00-23:00"."""
        if self.reception_always_open:
            return "24 horas" if language == "es" else "24 hours"
        closes = self.reception_closes.strftime("%H:%M") if self.reception_closes else "24:00"
        return f"{self.reception_opens.strftime('%H:%M')}-{closes}"

    def local_now(self, moment: datetime) -> datetime:
        return moment.astimezone(self.timezone)


def hotel_from_mapping(data: Mapping[str, Any], source: str = "hotel facts") -> Hotel:
    """One hotel from the parsed contents of its file; raises `HotelFactsError` naming what is wrong."""
    try:
        reception = data.get("reception") or {"opens": "00:00", "closes": "24:00"}
        quiet = data.get("quiet_hours") or {"start": "22:00", "end": "08:00"}
        return Hotel(
            phone_number_id=str(data["phone_number_id"]),
            name=str(data["name"]),
            display_number=str(data.get("display_number", "")),
            business_account_id=str(data.get("business_account_id", "")),
            timezone=ZoneInfo(str(data.get("timezone", "Europe/Madrid"))),
            address=str(data["address"]),
            map_url=str(data.get("map_url", "")),
            check_in_from=_clock(data["check_in_from"]),
            check_out_until=_clock(data["check_out_until"]),
            wifi_network=str(data["wifi"]["network"]),
            wifi_password=str(data["wifi"]["password"]),
            parking=Bilingual(es=str(data["parking"]["es"]), en=str(data["parking"]["en"])),
            breakfast_hours=str(data["breakfast"]["hours"]),
            breakfast_price=str(data["breakfast"]["price"]),
            breakfast=Bilingual(es=str(data["breakfast"]["es"]), en=str(data["breakfast"]["en"])),
            free_cancellation_hours=int(data["free_cancellation_hours"]),
            reception_opens=_clock(reception["opens"]),
            reception_closes=None if str(reception["closes"]) == "24:00" else _clock(reception["closes"]),
            quiet_start=_clock(quiet["start"]),
            quiet_end=_clock(quiet["end"]),
            topics=_topics(data.get("topics") or {}),
        )
    except KeyError as missing:
        raise HotelFactsError(f"{source}: the field {missing} is missing") from missing
    except (TypeError, ValueError) as error:
        raise HotelFactsError(f"{source}: {error}") from error


def load_hotels(folder: Path = DEFAULT_FACTS_DIR) -> dict[str, Hotel]:
    """Every hotel in `folder` (`HotelSettings.facts_dir`; the project's sample hotels by default), by phone
    number id."""
    hotels: dict[str, Hotel] = {}
    for path in sorted(folder.glob("*.yml")):
        hotel = hotel_from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, str(path))
        if hotel.phone_number_id != path.stem:
            raise HotelFactsError(f"{path}: phone_number_id {hotel.phone_number_id} must match the file name")
        hotels[hotel.phone_number_id] = hotel
    if not hotels:
        raise HotelFactsError(f"no hotel files (*.yml) in {folder}: set HOTEL_FACTS_DIR to the folder that has them")
    return hotels


def _topics(data: Mapping[str, Any]) -> dict[str, Bilingual]:
    """The `topics:` block, checked: a misspelt topic would otherwise sit unused while guests are told that
    reception will answer."""
    unknown = sorted(set(data) - set(TOPICS))
    if unknown:
        raise ValueError(f"topics: unknown topic {', '.join(unknown)} (known: {', '.join(TOPICS)})")
    return {topic: Bilingual(es=str(text["es"]), en=str(text["en"])) for topic, text in data.items()}


def _clock(value: Any) -> time:
    """ "15:00" as a time; YAML may also hand over minutes since midnight for an unquoted 15:00."""
    if isinstance(value, int):
        return time(value // 60, value % 60)
    return time.fromisoformat(str(value))
