"""Known-answer vectors (computed with `openssl dgst -sha256 -hmac`, and RFC 4231 test case 2) and the ways a
signature header can be wrong."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudapi.signatures import is_valid_signature, signature_for

SECRET = "a5c3e0f1b2d4c6e8"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'
EXPECTED = "sha256=55473a42b8e23dc0a7bf849b0099303c995f448997f8a5579b3e17a497d7f6b1"
UTF8_BODY = '{"text":{"body":"¿Sí? 👍"}}'.encode()
UTF8_EXPECTED = "sha256=93310381ca89aced7367154489aa9b7c88620f4f37805bf455b22d16562c63ba"
EMPTY_EXPECTED = "sha256=b49af217028b6bac7fbdf4077c0f88ce9c428c67bfaca2b056024106d60e6985"


@pytest.mark.parametrize(
    ("body", "secret", "expected"),
    [
        (BODY, SECRET, EXPECTED),
        (UTF8_BODY, SECRET, UTF8_EXPECTED),
        (b"", SECRET, EMPTY_EXPECTED),
        (
            b"what do ya want for nothing?",
            "Jefe",
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
    ],
)
def test_signature_matches_known_answer(body: bytes, secret: str, expected: str) -> None:
    assert signature_for(body, secret) == expected
    assert is_valid_signature(body, expected, secret)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        EXPECTED.removeprefix("sha256="),
        EXPECTED.upper(),
        "sha1=" + EXPECTED.removeprefix("sha256="),
        "sha512=" + EXPECTED.removeprefix("sha256="),
        EXPECTED + " ",
        " " + EXPECTED,
        EXPECTED[:-1] + "0",
        "sha256=ñ" + EXPECTED[8:],
        "garbage",
    ],
)
def test_wrong_or_missing_header_is_invalid(header: str | None) -> None:
    assert not is_valid_signature(BODY, header, SECRET)


def test_body_change_invalidates() -> None:
    assert not is_valid_signature(BODY + b" ", EXPECTED, SECRET)


def test_other_secret_invalidates() -> None:
    assert not is_valid_signature(BODY, EXPECTED, SECRET + "x")


def test_empty_secret_never_validates() -> None:
    assert not is_valid_signature(BODY, signature_for(BODY, ""), "")


def test_non_string_header_is_invalid() -> None:
    assert not is_valid_signature(BODY, b"sha256=00", SECRET)  # type: ignore[arg-type]


@given(body=st.binary(), secret=st.text(min_size=1), header=st.one_of(st.none(), st.text()))
def test_never_raises_and_only_the_right_signature_passes(body: bytes, secret: str, header: str | None) -> None:
    assert is_valid_signature(body, header, secret) == (header == signature_for(body, secret))
    assert is_valid_signature(body, signature_for(body, secret), secret)
