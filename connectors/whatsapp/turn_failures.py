"""Telling a bot turn that failed from one that said nothing: Rasa glue.

When a custom action raises (the action server down, timing out, or failing), Rasa logs the exception and
goes on without the action's events, so the turn ends with the guest's question unanswered and no error
raised to the channel. The only sign Rasa gives is that log record. It is logged in the task of the turn,
so a filter on Rasa's processor logger sees it with the turn's context variable set, and the channel then
raises `TurnFailedError` for the gateway to try the turn again (and, at last, hand the thread over).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["TurnFailedError", "action_failures"]

RASA_PROCESSOR_LOGGER = "rasa.core.processor"
ACTION_FAILED = "Encountered an exception while running action"
"""The start of the message Rasa 3.6 logs, with the exception, for an action that raised."""

_failures: ContextVar[list[str] | None] = ContextVar("action_failures", default=None)


class TurnFailedError(RuntimeError):
    """A bot turn that did not complete: an action raised and Rasa went on without it."""


class _ActionFailureFilter(logging.Filter):
    """Notes each action failure of the turn under way in this task; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        failures = _failures.get()
        if failures is not None and record.exc_info and str(record.msg).startswith(ACTION_FAILED):
            failures.append(f"{record.getMessage().split('.', 1)[0]}: {record.exc_info[1]!r}")
        return True


logging.getLogger(RASA_PROCESSOR_LOGGER).addFilter(_ActionFailureFilter())


@contextmanager
def action_failures() -> Iterator[list[str]]:
    """The action failures Rasa logs while the block runs a turn, in this task."""
    failures: list[str] = []
    token = _failures.set(failures)
    try:
        yield failures
    finally:
        _failures.reset(token)
