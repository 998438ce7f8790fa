"""The action server's answers are judged exactly as Rasa judges them, with a validator built once: the same
answers pass, the same fail with the same error, and Rasa's remote actions use it once the channel is loaded."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from connectors.whatsapp.action_results import RASA_ADVICE, check_action_result
from connectors.whatsapp.channel import WhatsAppInput
from tests.support import ACCESS_TOKEN, APP_SECRET, ROOT, VERIFY_TOKEN

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


def test_rasas_remote_actions_use_it_once_rasa_loads_the_channel() -> None:
    WhatsAppInput.from_credentials(
        {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "access_token": ACCESS_TOKEN}
    )
    assert RemoteAction._validate_action_result is check_action_result


def test_the_channel_module_loads_no_tensorflow() -> None:
    """What lets the gateway intake run without Rasa's actions: the module alone imports no TensorFlow."""
    probe = "import sys, connectors.whatsapp.intake_server; print('tensorflow' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
