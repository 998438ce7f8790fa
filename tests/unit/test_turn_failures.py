"""The channel tells a failed turn from a quiet one by the record Rasa logs for an action that raised."""

from __future__ import annotations

import asyncio
import logging

from connectors.whatsapp.turn_failures import ACTION_FAILED, RASA_PROCESSOR_LOGGER, action_failures

rasa = logging.getLogger(RASA_PROCESSOR_LOGGER)


def _rasa_logs_a_failed_action(name: str) -> None:
    try:
        raise ConnectionError("Couldn't connect to the server at 'http://127.0.0.1:5055/webhook'")
    except ConnectionError:
        rasa.exception(f"{ACTION_FAILED} '{name}'.Bot will continue, but the actions events are lost.")


def test_an_action_rasa_logs_as_failed_fails_the_turn_under_way() -> None:
    with action_failures() as failures:
        rasa.info("a line of a turn that went well")
        _rasa_logs_a_failed_action("action_greet")
    assert failures == [
        f"{ACTION_FAILED} 'action_greet': ConnectionError(\"Couldn't connect to the server at "
        "'http://127.0.0.1:5055/webhook'\")"
    ]
    _rasa_logs_a_failed_action("action_outside_any_turn")
    assert len(failures) == 1


async def test_each_turn_sees_only_its_own_failures() -> None:
    async def turn(fails: bool) -> list[str]:
        with action_failures() as failures:
            await asyncio.sleep(0.01)
            if fails:
                _rasa_logs_a_failed_action("action_answer")
            await asyncio.sleep(0.01)
        return failures

    failed, quiet = await asyncio.gather(turn(True), turn(False))
    assert len(failed) == 1
    assert quiet == []
