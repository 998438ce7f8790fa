"""Reservations, behind one small interface with two adapters chosen by configuration.

- `SqliteReservations`: the embedded default, an SQLite database seeded from `hotel/data/reservations.json`
  (the sample reservations of the two sample hotels), so `make run` answers with no configuration.
- `HttpReservations`: a property management system's JSON API over httpx, with a timeout:
  `GET {PMS_API_URL}/hotels/{phone_number_id}/reservations?wa_id={wa_id}` answers `{"reservations": [...]}`,
  `GET {PMS_API_URL}/hotels/{phone_number_id}/reservations/{booking_code}` answers one reservation or 404,
  `GET {PMS_API_URL}/reservations?hotel={id}&hotel={id}&q={text}` answers `{"reservations": [...]}` whose
  guest name or booking code contains the text (the agents' search in the gateway);
  each reservation shaped like an entry of the seed file.

The gateway (its agents' API) and the action server build their repository from the same settings
(`HotelSettings`), so both read the same reservations.

Every look-up is scoped to one hotel (the business number the guest wrote to): a booking code of another
hotel is not found, and a guest with stays at two hotels gets the stay of the hotel they wrote to. An adapter
that cannot answer raises `ReservationsUnavailableError`, which the actions turn into a polite answer.
No rasa-sdk import: pure data and I/O.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Protocol

import httpx

from hotel.settings import HotelSettings

log = logging.getLogger(__name__)

BOOKING_CODE: Final = re.compile(r"\b([A-Za-z]{3})-([A-Za-z0-9]{6})\b")
"""Three letters, a hyphen and six letters or digits (`MDP-4F7K2Q`), in any casing: the same shape as the
`booking_code` regex of the NLU data."""


class ReservationsUnavailableError(RuntimeError):
    """The reservation source did not answer (down, slow, or an answer that is not a reservation)."""


class ReservationDataError(ValueError):
    """A reservation record that cannot be read; the message names the field."""


@dataclass(frozen=True)
class Reservation:
    booking_code: str
    phone_number_id: str
    guest_name: str
    wa_id: str | None
    arrival: date
    departure: date
    room_es: str
    room_en: str
    currency: str
    total: Decimal
    paid: Decimal
    payment_link: str | None

    @property
    def pending(self) -> Decimal:
        return max(self.total - self.paid, Decimal("0"))

    @property
    def nights(self) -> int:
        return (self.departure - self.arrival).days

    @property
    def first_name(self) -> str:
        return self.guest_name.split()[0] if self.guest_name.split() else self.guest_name

    def room(self, language: str) -> str:
        return self.room_es if language == "es" else self.room_en

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Reservation:
        """One reservation from the seed file's or the PMS API's JSON shape."""
        try:
            room = data.get("room") or {}
            room_en = str(room.get("en") or room.get("es") or "") if isinstance(room, Mapping) else str(room)
            room_es = str(room.get("es") or room_en) if isinstance(room, Mapping) else str(room)
            link = data.get("payment_link")
            return cls(
                booking_code=normalize_code(str(data["booking_code"])),
                phone_number_id=str(data["phone_number_id"]),
                guest_name=str(data["guest_name"]),
                wa_id=str(data["wa_id"]) if data.get("wa_id") else None,
                arrival=date.fromisoformat(str(data["arrival"])),
                departure=date.fromisoformat(str(data["departure"])),
                room_es=room_es,
                room_en=room_en,
                currency=str(data.get("currency") or "EUR"),
                total=Decimal(str(data["total"])),
                paid=Decimal(str(data.get("paid") or "0")),
                payment_link=str(link) if link else None,
            )
        except KeyError as missing:
            raise ReservationDataError(f"a reservation needs the field {missing}") from missing
        except (TypeError, ValueError, InvalidOperation) as error:
            raise ReservationDataError(f"a reservation field cannot be read: {error!r}") from error


def normalize_code(code: str) -> str:
    """`mdp-4f7k2q ` -> `MDP-4F7K2Q`: codes are stored upper case and compared so."""
    return code.strip().upper()


def fold(text: str) -> str:
    """Lower case without accents, so "fernandez" finds "Fernández" (the agents' search compares so)."""
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


def find_booking_code(text: str) -> str | None:
    """The first booking code in `text`, normalized; None when there is none."""
    match = BOOKING_CODE.search(text or "")
    return normalize_code(match.group(0)) if match else None


def current_or_next(reservations: Iterable[Reservation], today: date) -> Reservation | None:
    """The stay a guest most likely asks about: the one under way or the next to come; failing that, the
    latest one that ended."""
    ordered = sorted(reservations, key=lambda r: r.arrival)
    upcoming = [r for r in ordered if r.departure >= today]
    if upcoming:
        return upcoming[0]
    return ordered[-1] if ordered else None


class ReservationRepository(Protocol):
    """Where the actions and the gateway find reservations. The look-ups raise `ReservationsUnavailableError`
    when the source cannot answer; "not found" is `None` / an empty list, never an exception."""

    async def for_guest(self, phone_number_id: str, wa_id: str) -> list[Reservation]:
        """Every reservation of the guest with this WhatsApp number at this hotel."""
        ...

    async def by_code(self, phone_number_id: str, booking_code: str) -> Reservation | None:
        """The reservation with this booking code at this hotel (any casing), or None."""
        ...

    async def search(self, phone_number_ids: Collection[str], text: str) -> list[Reservation]:
        """The reservations at these hotels whose guest name or booking code contains `text`, compared
        without case or accents (the agents' search)."""
        ...

    async def close(self) -> None: ...


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS reservations (
    booking_code TEXT PRIMARY KEY,
    phone_number_id TEXT NOT NULL,
    wa_id TEXT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_by_guest ON reservations (phone_number_id, wa_id);
"""


class SqliteReservations:
    """The embedded reservation store: one table indexed by code and by (hotel, guest number), each row the
    reservation's JSON record. Queries take microseconds, so they run on the event loop."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.create_function("fold", 1, fold, deterministic=True)
        self._db.executescript(_SCHEMA)

    @classmethod
    def seeded(cls, seed_file: Path, path: str = ":memory:") -> SqliteReservations:
        """A store at `path` holding the reservations of `seed_file` when it holds none yet."""
        store = cls(path)
        if store._db.execute("SELECT COUNT(*) FROM reservations").fetchone()[0] == 0:
            records = json.loads(seed_file.read_text(encoding="utf-8"))["reservations"]
            store.add(records)
        return store

    def add(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Insert or replace reservations given in the seed file's shape (each validated first)."""
        rows = []
        for record in records:
            reservation = Reservation.from_mapping(record)
            stored = {**record, "booking_code": reservation.booking_code}
            rows.append((reservation.booking_code, reservation.phone_number_id, reservation.wa_id, json.dumps(stored)))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO reservations VALUES (?, ?, ?, ?)", rows)

    async def for_guest(self, phone_number_id: str, wa_id: str) -> list[Reservation]:
        return self._query("phone_number_id = ? AND wa_id = ?", (phone_number_id, wa_id))

    async def by_code(self, phone_number_id: str, booking_code: str) -> Reservation | None:
        found = self._query("phone_number_id = ? AND booking_code = ?", (phone_number_id, normalize_code(booking_code)))
        return found[0] if found else None

    async def search(self, phone_number_ids: Collection[str], text: str) -> list[Reservation]:
        hotels = sorted(phone_number_ids)
        if not hotels or not text.strip():
            return []
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", fold(text.strip())) + "%"
        where = (
            f"phone_number_id IN ({', '.join('?' * len(hotels))}) AND "
            "(fold(json_extract(record, '$.guest_name')) LIKE ? ESCAPE '\\' OR fold(booking_code) LIKE ? ESCAPE '\\')"
        )
        return self._query(where, (*hotels, pattern, pattern))

    def _query(self, where: str, parameters: tuple[str, ...]) -> list[Reservation]:
        try:
            rows = self._db.execute(f"SELECT record FROM reservations WHERE {where}", parameters).fetchall()
            return [Reservation.from_mapping(json.loads(record)) for (record,) in rows]
        except (sqlite3.Error, ReservationDataError) as error:
            raise ReservationsUnavailableError(f"the reservation database failed: {error}") from error

    async def close(self) -> None:
        self._db.close()


class HttpReservations:
    """A property management system's JSON API (the shape is in the module docstring), one pooled
    `httpx.AsyncClient` with an explicit timeout. Timeouts, connection errors, 5xx and unreadable answers
    become `ReservationsUnavailableError`; a 404 is "not found"."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            transport=transport,
        )

    async def for_guest(self, phone_number_id: str, wa_id: str) -> list[Reservation]:
        body = await self._get(f"/hotels/{phone_number_id}/reservations", {"wa_id": wa_id})
        items = body.get("reservations") if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            raise ReservationsUnavailableError('the PMS answer has no "reservations" list')
        return [r for r in self._read(items) if r.phone_number_id == phone_number_id]

    async def by_code(self, phone_number_id: str, booking_code: str) -> Reservation | None:
        code = normalize_code(booking_code)
        if not BOOKING_CODE.fullmatch(code):
            return None  # never put arbitrary text in a URL path
        body = await self._get(f"/hotels/{phone_number_id}/reservations/{code}", None)
        if body is None:
            return None
        [reservation] = self._read([body])
        return reservation if reservation.phone_number_id == phone_number_id else None

    async def search(self, phone_number_ids: Collection[str], text: str) -> list[Reservation]:
        hotels = sorted(phone_number_ids)
        if not hotels or not text.strip():
            return []
        params = [*(("hotel", h) for h in hotels), ("q", text.strip())]
        body = await self._get("/reservations", params)
        items = body.get("reservations") if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            raise ReservationsUnavailableError('the PMS answer has no "reservations" list')
        return [r for r in self._read(items) if r.phone_number_id in hotels]

    async def _get(self, path: str, params: Mapping[str, str] | Sequence[tuple[str, str]] | None) -> Any:
        """The JSON answer of a GET; None for a 404."""
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException as error:
            raise ReservationsUnavailableError(f"the PMS did not answer in time ({type(error).__name__})") from error
        except httpx.HTTPError as error:
            raise ReservationsUnavailableError(f"the PMS cannot be reached ({type(error).__name__})") from error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ReservationsUnavailableError(f"the PMS answered {response.status_code} to GET {path.split('?')[0]}")
        try:
            return response.json()
        except ValueError as error:
            raise ReservationsUnavailableError("the PMS answer is not JSON") from error

    @staticmethod
    def _read(items: Iterable[Any]) -> list[Reservation]:
        try:
            return [Reservation.from_mapping(item) for item in items if isinstance(item, Mapping)]
        except ReservationDataError as error:
            raise ReservationsUnavailableError(f"the PMS answer is not a reservation: {error}") from error

    async def close(self) -> None:
        await self._client.aclose()


def repository_from_settings(settings: HotelSettings) -> ReservationRepository:
    """The adapter `RESERVATIONS_BACKEND` names."""
    if settings.reservations_backend == "http":
        assert settings.pms_api_url is not None  # checked by HotelSettings.from_env
        return HttpReservations(settings.pms_api_url, settings.pms_api_token, settings.pms_timeout_seconds)
    return SqliteReservations.seeded(settings.reservations_seed_file, settings.reservations_sqlite_path)
