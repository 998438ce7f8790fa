"""The crash matrix at size: 100 guests, each asking two questions, while the Rasa server is killed with
SIGKILL 10 times and started again, on each store (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set).

Printed per store: what was lost, doubled or answered out of order, where the kills landed, how long Rasa
took to start again, and the whole run's time. The baseline, measured in the same run, is the same traffic
with no kill: 0 / 0 / 0 expected, and its answer latency is what a guest waits when nothing goes wrong.
The harness is `tests.crash.harness`, the one `make test` runs at a small size.

`python -m benchmarks.crash_matrix [--guests N] [--kills K] [--seed S] [--store sqlite|postgresql]`
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from tests.crash.harness import Plan, run_matrix
from tests.crash.measures import MatrixResult
from tests.crash.stores import StoreKind, postgres_admin_url, store_target
from tests.processes import require_model, start_action_server
from tests.support import ACCESS_TOKEN, SandboxProcess

GUESTS = 100
KILLS = 10


def run_store(kind: StoreKind, plan: Plan, folder: Path, sandbox: SandboxProcess, actions_url: str) -> MatrixResult:
    """One run of `plan` on fresh stores of `kind`."""
    with store_target(kind, folder) as target:
        return asyncio.run(run_matrix(plan, target, folder / "run", sandbox.url, actions_url))


def main(argv: list[str] | None = None) -> None:
    arguments = _arguments(argv)
    require_model()
    kinds: list[StoreKind] = [arguments.store] if arguments.store else ["sqlite", "postgresql"]
    if "postgresql" in kinds and postgres_admin_url() is None:
        print("  (PostgreSQL skipped: TEST_POSTGRES_URL is not set)")
        kinds.remove("postgresql")
    seed = arguments.seed if arguments.seed is not None else random.randrange(10**6)
    print(f"Crash matrix: {arguments.guests} guests x 2 questions, {arguments.kills} SIGKILLs of Rasa (seed {seed})")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sandbox = SandboxProcess("http://127.0.0.1:9/unused", folder / "sandbox.log")
        actions, actions_url = start_action_server(
            folder, WHATSAPP_API_URL=sandbox.url, WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN
        )
        try:
            for kind in kinds:
                for label, kills in (("baseline, no kill", 0), (f"{arguments.kills} kills", arguments.kills)):
                    started = time.monotonic()
                    plan = Plan(guests=arguments.guests, kills=kills, seed=seed, quiet_timeout=180.0)
                    result = run_store(kind, plan, folder / f"{kind}-{kills}", sandbox, actions_url)
                    print(f"  [{label}]")
                    print("\n".join("  " + line for line in result.report().splitlines()))
                    print(f"    ({time.monotonic() - started:.0f} s with the stores' set-up)", flush=True)
        finally:
            actions.stop()
            sandbox.stop()


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crash_matrix", description=__doc__.split("\n\n")[0])
    parser.add_argument("--guests", type=int, default=GUESTS)
    parser.add_argument("--kills", type=int, default=KILLS)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default=None)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
