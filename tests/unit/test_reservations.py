"""The reservation repository: the embedded SQLite adapter on the project's sample data, and the PMS HTTP
adapter against respx (answers, 404, 500, timeouts, unreadable bodies)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import respx

from hotel.reservations import (
    HttpReservations,
    Reservation,
    ReservationDataError,
    ReservationsUnavailableError,
    SqliteReservations,
    current_or_next,
    find_booking_code,
    repository_from_settings,
)
from hotel.settings import DEFAULT_SEED_FILE, HotelSettings, SettingsError

MIRADOR, ALAMEDA = "1000000001", "1000000002"
LUCIA, OLIVER, SOPHIE = "34612345678", "447700900123", "33612345678"
RECORDS = json.loads(DEFAULT_SEED_FILE.read_text(encoding="utf-8"))["reservations"]
PMS = "https://pms.example.com/api"


@pytest.fixture
def sqlite() -> SqliteReservations:
    return SqliteReservations.seeded(DEFAULT_SEED_FILE)


def test_the_sample_data_holds_the_four_contract_reservations_exactly_and_twenty_in_all() -> None:
    by_code = {r["booking_code"]: Reservation.from_mapping(r) for r in RECORDS}
    assert len(by_code) == len(RECORDS) >= 20
    assert {r.phone_number_id for r in by_code.values()} == {MIRADOR, ALAMEDA}
    pay = "https://pay.example.com/"
    contract = {
        "MDP-4F7K2Q": (MIRADOR, "Lucía Fernández", LUCIA, "2026-12-18", "2026-12-21", "Double, sea view",
                       "389.40", "100.00", pay + "MDP-4F7K2Q"),
        "MDP-8H3L9X": (MIRADOR, "Oliver Bennett", OLIVER, "2026-12-02", "2026-12-05", "Junior suite",
                       "612.00", "612.00", None),
        "CAL-2B6N4R": (ALAMEDA, "Lucía Fernández", LUCIA, "2027-01-09", "2027-01-11", "Single",
                       "142.00", "0.00", pay + "CAL-2B6N4R"),
        "CAL-7Y1M5T": (ALAMEDA, "Sophie Laurent", SOPHIE, "2026-12-27", "2026-12-30", "Double",
                       "275.00", "275.00", None),
    }  # fmt: skip
    for code, (hotel, name, wa_id, arrival, departure, room, total, paid, link) in contract.items():
        r = by_code[code]
        assert (r.phone_number_id, r.guest_name, r.wa_id, r.room_en, r.payment_link) == (hotel, name, wa_id, room, link)
        assert (r.arrival, r.departure) == (date.fromisoformat(arrival), date.fromisoformat(departure))
        assert (r.total, r.paid, r.currency) == (Decimal(total), Decimal(paid), "EUR")
    assert by_code["MDP-4F7K2Q"].pending == Decimal("289.40")


async def test_each_hotel_number_answers_for_its_own_stay(sqlite: SqliteReservations) -> None:
    [mirador] = await sqlite.for_guest(MIRADOR, LUCIA)
    [alameda] = await sqlite.for_guest(ALAMEDA, LUCIA)
    assert (mirador.booking_code, alameda.booking_code) == ("MDP-4F7K2Q", "CAL-2B6N4R")
    assert await sqlite.for_guest(ALAMEDA, SOPHIE) != []
    assert await sqlite.for_guest(MIRADOR, SOPHIE) == []
    assert await sqlite.for_guest(MIRADOR, "34600000001") == []


@pytest.mark.parametrize("code", ["CAL-7Y1M5T", "cal-7y1m5t", " Cal-7Y1m5T "])
async def test_a_booking_code_in_any_casing_is_found_at_its_hotel_only(sqlite: SqliteReservations, code: str) -> None:
    found = await sqlite.by_code(ALAMEDA, code)
    assert found is not None
    assert found.guest_name == "Sophie Laurent"
    assert await sqlite.by_code(MIRADOR, code) is None


async def test_an_unknown_code_is_not_found(sqlite: SqliteReservations) -> None:
    assert await sqlite.by_code(MIRADOR, "MDP-000000") is None


async def test_a_file_database_is_seeded_once_and_keeps_what_it_holds(tmp_path: Path) -> None:
    path = str(tmp_path / "reservations.db")
    store = SqliteReservations.seeded(DEFAULT_SEED_FILE, path)
    store.add([{**RECORDS[0], "paid": "389.40"}])
    await store.close()
    reopened = SqliteReservations.seeded(DEFAULT_SEED_FILE, path)
    lucia = await reopened.by_code(MIRADOR, "MDP-4F7K2Q")
    assert lucia is not None
    assert lucia.pending == 0
    await reopened.close()


def test_a_record_missing_a_field_is_refused_with_its_name() -> None:
    record = {k: v for k, v in RECORDS[0].items() if k != "arrival"}
    with pytest.raises(ReservationDataError, match="arrival"):
        Reservation.from_mapping(record)


def test_current_or_next_prefers_the_stay_under_way_then_the_next_then_the_last() -> None:
    past, now, later = (
        Reservation.from_mapping({**RECORDS[0], "booking_code": c, "arrival": a, "departure": d})
        for c, a, d in (("MDP-AAAAAA", "2026-01-01", "2026-01-03"), ("MDP-BBBBBB", "2026-11-24", "2026-11-26"),
                        ("MDP-CCCCCC", "2027-01-01", "2027-01-03"))
    )  # fmt: skip
    assert current_or_next([later, past, now], date(2026, 11, 25)) == now
    assert current_or_next([later, past], date(2026, 11, 25)) == later
    assert current_or_next([past], date(2026, 11, 25)) == past
    assert current_or_next([], date(2026, 11, 25)) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [("mi código es mdp-4f7k2q!", "MDP-4F7K2Q"), ("CAL-2B6N4R", "CAL-2B6N4R"), ("no code here", None), ("", None)],
)
def test_find_booking_code(text: str, code: str | None) -> None:
    assert find_booking_code(text) == code


@pytest.fixture
def pms() -> respx.MockRouter:
    with respx.mock(base_url=PMS, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
async def http() -> HttpReservations:
    repository = HttpReservations(PMS, token="pms-secret", timeout_seconds=0.5)
    yield repository
    await repository.close()


async def test_http_looks_a_guest_up_with_the_token(pms: respx.MockRouter, http: HttpReservations) -> None:
    route = pms.get(f"/hotels/{MIRADOR}/reservations", params={"wa_id": LUCIA}).respond(
        json={"reservations": [RECORDS[0]]}
    )
    [found] = await http.for_guest(MIRADOR, LUCIA)
    assert found.booking_code == "MDP-4F7K2Q"
    assert route.calls.last.request.headers["Authorization"] == "Bearer pms-secret"


async def test_http_ignores_a_reservation_of_another_hotel(pms: respx.MockRouter, http: HttpReservations) -> None:
    alameda = next(r for r in RECORDS if r["booking_code"] == "CAL-2B6N4R")
    pms.get(f"/hotels/{MIRADOR}/reservations").respond(json={"reservations": [alameda]})
    pms.get(f"/hotels/{MIRADOR}/reservations/CAL-2B6N4R").respond(json=alameda)
    assert await http.for_guest(MIRADOR, LUCIA) == []
    assert await http.by_code(MIRADOR, "cal-2b6n4r") is None


async def test_http_finds_a_code_normalised_and_404_is_not_found(pms: respx.MockRouter, http: HttpReservations) -> None:
    pms.get(f"/hotels/{MIRADOR}/reservations/MDP-8H3L9X").respond(json=RECORDS[1])
    pms.get(f"/hotels/{MIRADOR}/reservations/MDP-000000").respond(404, json={"error": "not found"})
    found = await http.by_code(MIRADOR, "mdp-8h3l9x")
    assert found is not None
    assert found.guest_name == "Oliver Bennett"
    assert await http.by_code(MIRADOR, "MDP-000000") is None


async def test_http_never_puts_text_that_is_not_a_code_in_the_path(
    pms: respx.MockRouter, http: HttpReservations
) -> None:
    assert await http.by_code(MIRADOR, "../../admin") is None
    assert not pms.calls


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(500, json={"error": "boom"}), "answered 500"),
        (httpx.Response(503), "answered 503"),
        (httpx.Response(200, text="<html>"), "not JSON"),
        (httpx.Response(200, json={"items": []}), 'no "reservations" list'),
        (httpx.Response(200, json={"reservations": [{"booking_code": "MDP-4F7K2Q"}]}), "not a reservation"),
        (httpx.ConnectError("refused"), "cannot be reached"),
        (httpx.ReadTimeout("slow"), "did not answer in time"),
    ],
)
async def test_http_failures_become_unavailable(
    pms: respx.MockRouter, http: HttpReservations, answer: httpx.Response | Exception, reason: str
) -> None:
    route = pms.get(f"/hotels/{MIRADOR}/reservations")
    route.mock(side_effect=answer) if isinstance(answer, Exception) else route.mock(return_value=answer)
    with pytest.raises(ReservationsUnavailableError, match=reason):
        await http.for_guest(MIRADOR, LUCIA)


async def test_http_a_slow_pms_times_out_at_the_configured_timeout() -> None:
    """A real timeout: a PMS on loopback that answers after the client's timeout (respx replaces the
    transport, where httpx enforces timeouts, so this one needs a real server)."""
    from aiohttp import web

    from tests.support import free_port

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"reservations": []})

    app = web.Application()
    app.router.add_get("/hotels/{hotel}/reservations", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    repository = HttpReservations(f"http://127.0.0.1:{port}", timeout_seconds=0.2)
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(ReservationsUnavailableError, match="in time"):
            await repository.for_guest(MIRADOR, LUCIA)
        assert asyncio.get_running_loop().time() - started < 1.5
    finally:
        await repository.close()
        await runner.cleanup()


def test_settings_choose_the_adapter() -> None:
    assert isinstance(repository_from_settings(HotelSettings.from_env({})), SqliteReservations)
    http = repository_from_settings(
        HotelSettings.from_env({"RESERVATIONS_BACKEND": "http", "PMS_API_URL": PMS + "/", "PMS_TIMEOUT_SECONDS": "2"})
    )
    assert isinstance(http, HttpReservations)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RESERVATIONS_BACKEND": "oracle"}, "sqlite or http"),
        ({"RESERVATIONS_BACKEND": "http"}, "PMS_API_URL"),
        ({"PMS_TIMEOUT_SECONDS": "soon"}, "PMS_TIMEOUT_SECONDS"),
        ({"PMS_TIMEOUT_SECONDS": "0"}, "more than 0"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        HotelSettings.from_env(env)


async def test_search_finds_names_without_accents_or_case_and_codes_in_part(sqlite: SqliteReservations) -> None:
    both = {MIRADOR, ALAMEDA}
    assert {r.booking_code for r in await sqlite.search(both, "FERNANDEZ")} == {"MDP-4F7K2Q", "CAL-2B6N4R"}
    assert [r.booking_code for r in await sqlite.search({MIRADOR}, "lucía fern")] == ["MDP-4F7K2Q"]
    assert [r.booking_code for r in await sqlite.search(both, "7y1m")] == ["CAL-7Y1M5T"]
    assert [r.guest_name for r in await sqlite.search(both, "o'connor")] == ["James O'Connor"]


async def test_search_stays_inside_the_hotels_asked_and_treats_wildcards_as_text(sqlite: SqliteReservations) -> None:
    assert await sqlite.search({MIRADOR}, "Sophie") == []
    assert await sqlite.search({MIRADOR, ALAMEDA}, "%") == []
    assert await sqlite.search({MIRADOR, ALAMEDA}, "_") == []
    assert await sqlite.search(set(), "Lucía") == []


async def test_http_search_asks_the_pms_for_the_hotels_and_keeps_only_theirs(
    pms: respx.MockRouter, http: HttpReservations
) -> None:
    alameda = RECORDS[2]
    route = pms.get("/reservations").respond(json={"reservations": [RECORDS[0], alameda]})
    found = await http.search({MIRADOR}, " Fernández ")
    assert [r.booking_code for r in found] == ["MDP-4F7K2Q"]
    [call] = route.calls
    assert call.request.url.params.get_list("hotel") == [MIRADOR]
    assert call.request.url.params["q"] == "Fernández"
    assert call.request.headers["Authorization"] == "Bearer pms-secret"


async def test_http_search_asks_once_for_several_hotels_and_fails_as_unavailable(
    pms: respx.MockRouter, http: HttpReservations
) -> None:
    route = pms.get("/reservations").respond(503)
    with pytest.raises(ReservationsUnavailableError, match="answered 503"):
        await http.search({ALAMEDA, MIRADOR}, "Oliver")
    [call] = route.calls
    assert call.request.url.params.get_list("hotel") == [MIRADOR, ALAMEDA]
