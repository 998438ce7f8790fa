"""The action server's answers are judged exactly as Rasa judges them, with a validator built once: the same
answers pass, the same fail with the same error, and Rasa's remote actions use it once the channel is loaded."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import connectors.whatsapp.channel  # noqa: F401  (installs the check, as loading the channel does in Rasa)
from connectors.whatsapp.action_results import RASA_ADVICE, check_action_result

SCHEMA = RemoteAction.action_response_format_spec()
VALID: list[dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "language", "value": "es"}], "responses": [{"text": "Hola"}]},
    {"events": [{"event": "followup", "name": "action_listen"}, {"event": "pause"}]},
]
INVALID: list[Any] = [
    [],
    {"events": {"event": "slot"}},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": [{"event": "no_such_event"}]},
    {"responses": ["Hola"]},
]


@pytest.mark.parametrize("answer", VALID)
def test_what_rasa_accepts_passes(answer: dict[str, Any]) -> None:
    jsonschema.validate(answer, SCHEMA)
    assert check_action_result(RemoteAction("action_x", None), answer) is True


@pytest.mark.parametrize("answer", INVALID)
def test_what_rasa_refuses_fails_with_the_same_error(answer: Any) -> None:
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        jsonschema.validate(answer, SCHEMA)
    with pytest.raises(jsonschema.ValidationError) as ours:
        check_action_result(RemoteAction("action_x", None), answer)
    assert ours.value.message == rasa_error.value.message + RASA_ADVICE
    assert list(ours.value.absolute_path) == list(rasa_error.value.absolute_path)


def test_rasas_remote_actions_use_it() -> None:
    assert RemoteAction._validate_action_result is check_action_result
