"""SIGKILL the Rasa server at random moments while guests write: nothing is lost, nothing doubled beyond one
send per kill, nothing answered out of order.

A send whose Graph call was under way at the instant of a kill cannot be known to have gone out, so it may go
out again: at most one doubled answer per kill, and never an answer the store had recorded before the kill.
A guest question the sandbox never delivered, or an answer that is neither of the two facts, fails the run
too: either would hide a loss. Each run prints its figures and where its kills landed (`pytest -s` shows
them; a failure shows them in its message). `CRASH_MATRIX_SEED` repeats a run's guests, moments and kills
(the processes' own timing still varies).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.crash.harness import Plan, run_matrix
from tests.crash.stores import StoreKind, postgres_admin_url, store_target
from tests.support import SandboxProcess

GUESTS = 12
KILLS = 2
"""Sized for make test on two cores: a Rasa server takes about 22 s to start, so two kills per store keep
both stores within about three minutes."""


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_killed_rasa_servers_lose_double_and_reorder_nothing(
    kind: StoreKind, crash_sandbox: SandboxProcess, crash_actions: str, tmp_path: Path
) -> None:
    if kind == "postgresql" and postgres_admin_url() is None:
        pytest.skip("TEST_POSTGRES_URL is not set: the PostgreSQL crash matrix needs a server")
    seed = int(os.environ.get("CRASH_MATRIX_SEED") or random.randrange(10**6))
    plan = Plan(guests=GUESTS, kills=KILLS, seed=seed)
    with store_target(kind, tmp_path) as target:
        result = await run_matrix(plan, target, tmp_path / "run", crash_sandbox.url, crash_actions)
    report = f"CRASH_MATRIX_SEED={seed}\n{result.report()}"
    print(report)
    assert result.quiet, report
    assert result.lost == 0, report
    assert result.doubled <= result.in_flight_sends, report
    assert result.doubled_after_record == 0, report
    assert result.out_of_order == 0, report
    assert result.undelivered == 0, report
    assert not result.unexpected, report
