"""Which guest a message belongs to when WhatsApp names them by number, BSUID, parent BSUID or a new number
(`connectors.whatsapp.store.guest_ids.file_records`, pure)."""

from __future__ import annotations

from connectors.whatsapp.store import GuestIds, InboundRecord
from connectors.whatsapp.store.guest_ids import file_records

HOTEL = "1000000001"
NUMBER, BSUID, PARENT = "34612345678", "ES.13491208655302741918", "ES.ENT.11815799212886844830"


def record(wamid: str, ids: GuestIds | None) -> InboundRecord:
    key = (ids.phone or ids.user_id) if ids else NUMBER
    return InboundRecord(HOTEL, key or "", wamid, "text", "hola", {}, 1, None, ids=ids)


def test_a_new_guest_with_only_a_number_files_nothing() -> None:
    [filed], rows = file_records([record("m1", GuestIds(NUMBER, None))], {}, 5.0)
    assert filed.wa_id == NUMBER
    assert rows == []


def test_a_new_guest_is_keyed_by_their_number_and_their_user_ids_are_filed_under_it() -> None:
    [filed], rows = file_records([record("m1", GuestIds(NUMBER, BSUID, PARENT))], {}, 5.0)
    assert filed.wa_id == NUMBER
    assert [(r["identity"], r["guest"], r["seen_at"]) for r in rows] == [(BSUID, NUMBER, 5.0), (PARENT, NUMBER, 5.0)]


def test_a_guest_first_known_by_a_user_id_keeps_it_as_key_when_their_number_shows() -> None:
    known = {(HOTEL, BSUID): BSUID}  # her conversation's key
    [filed], rows = file_records([record("m2", GuestIds(NUMBER, BSUID))], known, 5.0)
    assert filed.wa_id == BSUID
    assert [(r["identity"], r["guest"]) for r in rows] == [(NUMBER, BSUID)]


def test_ids_filed_earlier_in_the_same_batch_count() -> None:
    batch = [record("m1", GuestIds(NUMBER, BSUID)), record("m2", GuestIds(None, BSUID))]
    first, second = file_records(batch, {}, 5.0)[0]
    assert first.wa_id == second.wa_id == NUMBER


def test_a_changed_number_is_filed_under_the_guest() -> None:
    notice = record("m3", GuestIds(NUMBER, None, new_phone="34699000111"))
    [filed], rows = file_records([notice], {(HOTEL, NUMBER): NUMBER}, 5.0)
    assert filed.wa_id == NUMBER
    assert [(r["identity"], r["guest"]) for r in rows] == [("34699000111", NUMBER)]


def test_two_threads_named_together_join_the_numbers_and_the_other_id_follows() -> None:
    known = {(HOTEL, NUMBER): NUMBER, (HOTEL, BSUID): BSUID}  # two threads, each under its own key
    [filed], rows = file_records([record("m4", GuestIds(NUMBER, BSUID))], known, 5.0)
    assert filed.wa_id == NUMBER
    assert [(r["identity"], r["guest"]) for r in rows] == [(BSUID, NUMBER)]


def test_an_id_filed_for_another_business_number_is_another_guest() -> None:
    known = {("1000000002", BSUID): "34600000000"}
    [filed], _ = file_records([record("m5", GuestIds(None, BSUID))], known, 5.0)
    assert filed.wa_id == BSUID


def test_a_record_without_ids_is_left_as_it_is() -> None:
    plain = record("m6", None)
    assert file_records([plain], {}, 5.0) == ([plain], [])


def test_a_guest_first_known_by_a_user_id_in_the_same_batch_keeps_it() -> None:
    batch = [record("m1", GuestIds(None, BSUID)), record("m2", GuestIds(NUMBER, BSUID))]
    (first, second), rows = file_records(batch, {}, 5.0)
    assert first.wa_id == second.wa_id == BSUID
    assert [(r["identity"], r["guest"]) for r in rows] == [(NUMBER, BSUID)]


def test_a_changed_user_id_is_filed_under_the_guest() -> None:
    notice = record("m7", GuestIds(None, BSUID, new_user_id="ES.99120943318820556104"))
    [filed], rows = file_records([notice], {(HOTEL, BSUID): BSUID}, 5.0)
    assert filed.wa_id == BSUID
    assert [(r["identity"], r["guest"]) for r in rows] == [("ES.99120943318820556104", BSUID)]
