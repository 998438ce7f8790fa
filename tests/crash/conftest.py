"""The crash matrix's own sandbox and action server, shared by its runs; each run starts its own Rasa server.

The sandbox is not the session's shared one: the matrix changes its retry and fault settings, which the other
suites do not expect.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import require_model, start_action_server
from tests.support import ACCESS_TOKEN, SandboxProcess


@pytest.fixture(scope="module")
def crash_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crash")


@pytest.fixture(scope="module")
def crash_sandbox(crash_folder: Path) -> Iterator[SandboxProcess]:
    process = SandboxProcess("http://127.0.0.1:9/unused", crash_folder / "sandbox.log")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def crash_actions(crash_folder: Path, crash_sandbox: SandboxProcess) -> Iterator[str]:
    require_model()
    process, url = start_action_server(
        crash_folder, WHATSAPP_API_URL=crash_sandbox.url, WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN
    )
    yield url
    process.stop()
