"""What the Graph client reads from an accepted send (`cloudapi.graph.parse_send_answer`): the wamid and whom
the message went to, including a send to a business-scoped user id, whose answer has no `wa_id`; and the
BSUID refusal (131062) as a recipient error that is never retried."""

from typing import Any

import pytest

from cloudapi.errors import GraphApiError, RecipientError, error_from_response, is_retryable
from cloudapi.graph import SentMessage, parse_send_answer

WAMID = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"
BSUID = "US.13491208655302741918"


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ({"input": "+16505551234", "wa_id": "16505551234"}, SentMessage(WAMID, "+16505551234", "16505551234")),
        ({"input": BSUID, "user_id": BSUID}, SentMessage(WAMID, BSUID, user_id=BSUID)),
        (
            {"input": "+16505551234", "wa_id": "16505551234", "user_id": BSUID},
            SentMessage(WAMID, "+16505551234", "16505551234", BSUID),
        ),
    ],
    ids=["to a number", "to a bsuid", "to both"],
)
def test_the_answer_says_whom_the_message_went_to(contact: dict[str, str], expected: SentMessage) -> None:
    """Meta's three examples on its business-scoped user ids page."""
    answer = {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": WAMID}]}
    assert parse_send_answer(answer) == expected


def test_a_template_answer_carries_its_pacing() -> None:
    answer = {
        "contacts": [{"input": BSUID, "user_id": BSUID}],
        "messages": [{"id": WAMID, "message_status": "accepted"}],
    }
    assert parse_send_answer(answer).message_status == "accepted"


@pytest.mark.parametrize("contacts", [None, [], ["x"], [{"wa_id": 34612345678}], "contacts"])
def test_an_answer_without_usable_contacts_still_gives_the_wamid(contacts: Any) -> None:
    assert parse_send_answer({"contacts": contacts, "messages": [{"id": WAMID}]}) == SentMessage(WAMID)


@pytest.mark.parametrize(
    "answer", [None, [], "ok", {}, {"messages": []}, {"messages": [{}]}, {"messages": "x"}, {"messages": ["x"]}]
)
def test_an_answer_without_a_message_id_is_an_error(answer: Any) -> None:
    with pytest.raises(GraphApiError, match="Unexpected answer"):
        parse_send_answer(answer)


def test_a_bsuid_refused_for_this_message_is_a_recipient_error_not_retried() -> None:
    body = {
        "error": {
            "message": "(#131062) Business-scoped User ID (BSUID) recipients are not supported for this message.",
            "type": "OAuthException",
            "code": 131062,
            "fbtrace_id": "AbCdEf123",
        }
    }
    error = error_from_response(400, body)
    assert isinstance(error, RecipientError)
    assert not is_retryable(error)
