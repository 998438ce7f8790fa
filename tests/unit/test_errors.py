"""Every code of WHATSAPP.md §6 lands in its class with the right retry decision, and garbage never raises."""

import asyncio
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudapi.errors import (
    RETRYABLE_CODES,
    AuthError,
    ErrorInfo,
    GraphApiError,
    PermanentError,
    RecipientError,
    TemplateError,
    ThrottledError,
    TransientError,
    WindowClosedError,
    error_from_response,
    is_retryable,
    parse_error_info,
)

# code, class, retryable, the HTTP status Meta sends with it (WHATSAPP.md §6).
CODES = [
    (0, AuthError, False, 401),
    (1, TransientError, True, 400),
    (2, TransientError, True, 503),
    (3, AuthError, False, 500),
    (4, ThrottledError, True, 400),
    (10, AuthError, False, 403),
    (33, PermanentError, False, 400),
    (100, PermanentError, False, 400),
    (190, AuthError, False, 401),
    (368, PermanentError, False, 403),
    (470, WindowClosedError, False, 400),
    (80007, ThrottledError, True, 400),
    (130403, RecipientError, False, 400),
    (130429, ThrottledError, True, 429),
    (130472, RecipientError, False, 400),
    (130497, RecipientError, False, 400),
    (131000, TransientError, True, 500),
    (131005, AuthError, False, 403),
    (131008, PermanentError, False, 400),
    (131009, PermanentError, False, 400),
    (131016, TransientError, True, 503),
    (131021, RecipientError, False, 400),
    (131026, RecipientError, False, 400),
    (131030, RecipientError, False, 400),
    (131031, PermanentError, False, 403),
    (131037, PermanentError, False, 400),
    (131042, PermanentError, False, 400),
    (131045, PermanentError, False, 400),
    (131047, WindowClosedError, False, 400),
    (131048, ThrottledError, False, 400),
    (131049, RecipientError, False, 400),
    (131050, RecipientError, False, 400),
    (131051, PermanentError, False, 400),
    (131052, PermanentError, False, 400),
    (131053, PermanentError, False, 400),
    (131056, ThrottledError, True, 429),
    (131057, TransientError, True, 500),
    (132000, TemplateError, False, 400),
    (132001, TemplateError, False, 404),
    (132005, TemplateError, False, 400),
    (132007, TemplateError, False, 400),
    (132012, TemplateError, False, 400),
    (132015, TemplateError, False, 400),
    (132016, TemplateError, False, 400),
    (133010, PermanentError, False, 400),
    (133016, PermanentError, False, 400),
]


def graph_body(code: int, title: str = "Some title", details: str = "Some details") -> dict:
    return {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "error_subcode": 2494010,
            "fbtrace_id": "AbCdEf123",
        }
    }


@pytest.mark.parametrize(("code", "cls", "retryable", "status"), CODES)
def test_response_code_class_and_retry(code: int, cls: type[GraphApiError], retryable: bool, status: int) -> None:
    error = error_from_response(status, graph_body(code))
    assert type(error) is cls
    assert error.code == code
    assert is_retryable(error) is retryable


def test_retryable_codes_are_exactly_the_documented_ones() -> None:
    assert {1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057} == RETRYABLE_CODES
    assert {code for code, _, retryable, _ in CODES if retryable} == RETRYABLE_CODES


def test_response_fields_are_read() -> None:
    error = error_from_response(400, graph_body(131047, "Re-engagement message", "The user last wrote long ago."))
    assert isinstance(error, WindowClosedError)
    assert (error.code, error.title, error.details) == (
        131047,
        "Re-engagement message",
        "The user last wrote long ago.",
    )
    assert (error.http_status, error.subcode, error.fbtrace_id) == (400, 2494010, "AbCdEf123")
    assert str(error) == "(131047) Re-engagement message: The user last wrote long ago. [HTTP 400]"


def test_every_class_is_a_graph_api_error() -> None:
    for _, cls, _, _ in CODES:
        assert issubclass(cls, GraphApiError)
        assert issubclass(cls, Exception)


@pytest.mark.parametrize(
    "body", [None, "", "<html>502 Bad Gateway</html>", [], [1, 2], {}, {"error": "boom"}, 3.5, True]
)
@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (500, TransientError, True),
        (502, TransientError, True),
        (503, TransientError, True),
        (429, ThrottledError, True),
        (401, AuthError, False),
        (400, PermanentError, False),
        (404, PermanentError, False),
    ],
)
def test_garbage_body_is_classified_by_status(
    body: object, status: int, cls: type[GraphApiError], retryable: bool
) -> None:
    error = error_from_response(status, body)
    assert type(error) is cls
    assert error.code is None
    assert error.title
    assert is_retryable(error) is retryable


def test_unknown_code_is_permanent_unless_5xx() -> None:
    assert type(error_from_response(400, graph_body(999999))) is PermanentError
    assert not is_retryable(error_from_response(400, graph_body(999999)))
    assert type(error_from_response(502, graph_body(999999))) is TransientError
    assert is_retryable(error_from_response(502, graph_body(999999)))


def test_known_permanent_code_wins_over_a_5xx_status() -> None:
    error = error_from_response(500, graph_body(3))
    assert isinstance(error, AuthError)
    assert not is_retryable(error)


def test_numeric_string_code_is_read() -> None:
    body = {"error": {"code": "131056", "message": "(#131056) Pair rate limit hit"}}
    error = error_from_response(400, body)
    assert isinstance(error, ThrottledError)
    assert error.title == "Pair rate limit hit"


def test_string_error_data_is_the_details() -> None:
    error = error_from_response(400, {"error": {"code": 100, "message": "Invalid parameter", "error_data": "to"}})
    assert error.details == "to"


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ClientOSError(111, "refused"),
        aiohttp.ServerTimeoutError("slow"),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("the answer was cut"),
        ConnectionResetError(),
        TimeoutError(),
        asyncio.TimeoutError(),
    ],
)
def test_network_errors_are_retryable(exc: BaseException) -> None:
    assert is_retryable(exc)


@pytest.mark.parametrize("exc", [ValueError("x"), KeyError("k"), aiohttp.InvalidURL("ftp://graph")])
def test_other_exceptions_are_not_retryable(exc: BaseException) -> None:
    assert not is_retryable(exc)


def test_parse_error_info_reads_meta_shape() -> None:
    raw: dict[str, Any] = {
        "code": 131049,
        "title": "Not delivered",
        "message": "Not delivered",
        "error_data": {"details": "Healthy ecosystem"},
        "href": "/documentation/business-messaging/whatsapp/support/error-codes",
    }
    info = parse_error_info(raw)
    assert info == ErrorInfo(131049, "Not delivered", "Not delivered", "Healthy ecosystem", raw["href"])
    assert parse_error_info(["not", "an", "object"]) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(status=st.integers(min_value=100, max_value=599), body=JSON)
def test_error_from_response_never_raises(status: int, body: object) -> None:
    error = error_from_response(status, body)
    assert isinstance(error, GraphApiError)
    assert isinstance(is_retryable(error), bool)
    str(error)


@given(
    status=st.integers(min_value=100, max_value=599),
    inner=st.dictionaries(st.sampled_from(["code", "message", "error_data", "error_subcode", "fbtrace_id"]), JSON),
)
def test_error_from_response_never_raises_on_mangled_errors(status: int, inner: dict) -> None:
    assert isinstance(error_from_response(status, {"error": inner}), GraphApiError)


@given(status=st.integers(min_value=400, max_value=499).filter(lambda s: s != 429), code=st.integers())
def test_a_4xx_is_retried_only_for_a_retryable_code(status: int, code: int) -> None:
    assert is_retryable(error_from_response(status, graph_body(code))) is (code in RETRYABLE_CODES)
