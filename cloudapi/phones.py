"""Guest phone numbers as people write them (`+34 612 34 56 78`, `0034 612...`, `34612345678`) turned into
the wa_id WhatsApp uses (digits with the country code, no `+`), with the country for pricing. Pure.

A guest may also be known only by a business-scoped user id (`US.13491208655302741918`, see
`cloudapi.user_ids`): `parse_guest` takes either, the country of a BSUID being its first two letters.

Numbers are checked with `phonenumbers` for being *possible* (a known calling code and a length that country
uses), not for being assigned: test ranges such as the UK's 07700 900xxx are possible but not "valid", and a
guest's number is WhatsApp's to judge (131026 when nobody is behind it).
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from cloudapi.user_ids import is_bsuid

__all__ = ["GuestNumber", "NumberError", "parse_guest", "parse_guest_number", "region_of_wa_id"]


class NumberError(ValueError):
    """A guest number that cannot be a phone number; the message says why."""


@dataclass(frozen=True)
class GuestNumber:
    wa_id: str
    """Digits with the country code; or, for a guest known only that way, their business-scoped user id."""
    calling_code: int | None
    """None for a business-scoped user id, which names a country but no calling code."""
    region: str
    """ISO 3166 region (`ES`, `GB`), or `001` for non-geographic numbers."""


def parse_guest_number(raw: str) -> GuestNumber:
    """The wa_id and country of a number written in international form with or without `+` or `00`."""
    text = raw.strip()
    if not text:
        raise NumberError("the guest number is empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as error:
        raise NumberError(
            f"{raw!r} is not a phone number in international form (+<country code>...): {error}"
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise NumberError(f"{raw!r} cannot be a phone number: wrong length for country code +{number.country_code}")
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code
    )
    if region == "ZZ":
        raise NumberError(f"{raw!r}: +{number.country_code} is not a country calling code")
    wa_id = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
    return GuestNumber(wa_id=wa_id, calling_code=number.country_code, region=region)


def parse_guest(raw: str) -> GuestNumber:
    """A guest as an API caller names them: a phone number in international form, or a business-scoped user
    id written exactly as WhatsApp gave it."""
    text = raw.strip()
    if is_bsuid(text):
        return GuestNumber(wa_id=text, calling_code=None, region=text[:2])
    return parse_guest_number(text)


def region_of_wa_id(wa_id: str) -> str:
    """The region of a stored guest id (for pricing): a number's country, or a business-scoped user id's;
    `ZZ` when it says nothing."""
    try:
        return parse_guest(wa_id).region
    except NumberError:
        return "ZZ"
