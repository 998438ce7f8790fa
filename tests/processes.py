"""The system's real processes for end-to-end tests: the action server and the Rasa server with the
WhatsApp channel, started by the launchers the Procfile uses (`deploy/`), locked with the test tokens, on free
ports, with their state in a test folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support import (
    ACCESS_TOKEN,
    ACTION_SERVER_TOKEN,
    APP_SECRET,
    RASA_API_TOKEN,
    ROOT,
    VERIFY_TOKEN,
    free_port,
)

MODEL = ROOT / "models" / "hotel.tar.gz"
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def require_model() -> Path:
    if not MODEL.is_file():
        pytest.skip(f"no trained model at {MODEL}: run 'make train' (make test trains it first)")
    return MODEL


def answers_200(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_answering(
    urls: list[str], process: subprocess.Popen[bytes], describe: Callable[[], str], timeout: float
) -> None:
    """Until each of `urls` answers 200, in turn. RuntimeError, with `describe()` (what the processes logged),
    when `process` exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    for url in urls:
        while not answers_200(url):
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[:3]} exited at start-up:\n{describe()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout}s:\n{describe()}")
            time.sleep(0.3)


class ServerProcess:
    """A subprocess with its output in a log file, waited for until a URL answers 200."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path, ready_url: str, timeout: float) -> None:
        self.log_path = log_path
        self._log = log_path.open("a")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait(ready_url, timeout)

    def _wait(self, url: str, timeout: float) -> None:
        try:
            wait_until_answering([url], self.process, lambda: self.log_path.read_text()[-4000:], timeout)
        except RuntimeError:
            if self.process.poll() is None:
                self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def base_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "GATEWAY_", "WHATSAPP_"))}
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    return env


def gateway_environment(folder: Path, sandbox_url: str) -> dict[str, str]:
    """What every gateway process reads: the sandbox's credentials and the gateway store under `folder`."""
    return {
        **base_environment(),
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_API_URL": sandbox_url,
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'gateway.db'}",
    }


def start_intake(folder: Path, sandbox_url: str, port: int | None = None, **settings: str) -> tuple[ServerProcess, str]:
    """`python -m connectors.whatsapp.intake_server` on the gateway store under `folder`: answers webhooks at
    `<url>/webhooks/whatsapp/webhook` and leaves the turns to the Rasa servers on the same store."""
    port = port or free_port()
    env = {**gateway_environment(folder, sandbox_url), "GATEWAY_INTAKE_PORT": str(port), **settings}
    url = f"http://127.0.0.1:{port}"
    command = [PYTHON, "-m", "connectors.whatsapp.intake_server"]
    return ServerProcess(command, env, folder / "intake.log", f"{url}/webhooks/whatsapp/", 120), url


def start_action_server(folder: Path, **settings: str) -> tuple[ServerProcess, str]:
    """The action server as the Procfile starts it; `settings` add environment variables (e.g. the Graph API
    the actions list templates from)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**base_environment(), "ACTION_SERVER_PORT": str(port), "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN}
    env.update(settings)
    command = [PYTHON, "-m", "deploy.action_server"]
    return ServerProcess(command, env, folder / "actions.log", f"{url}/health", 120), url


def start_rasa(
    folder: Path, sandbox_url: str, actions_url: str, port: int | None = None, **settings: str
) -> tuple[ServerProcess, str]:
    """`rasa run` as the Procfile starts it, with the project's credentials and endpoints; gateway and tracker
    stores under `folder`. Its HTTP API wants `?token=RASA_API_TOKEN`; `RASA_REST_CHANNEL="true"` in `settings`
    adds the REST channel."""
    port = port or free_port()
    env = gateway_environment(folder, sandbox_url)
    env.update(
        ACTION_ENDPOINT_URL=f"{actions_url}/webhook",
        TRACKER_STORE_DIALECT="sqlite",
        TRACKER_STORE_URL=f"sqlite:///{folder / 'tracker.db'}",
        LOCK_STORE_URL="memory://",
        RASA_PORT=str(port),
        RASA_API_TOKEN=RASA_API_TOKEN,
        ACTION_SERVER_TOKEN=ACTION_SERVER_TOKEN,
        RASA_MODEL=str(require_model()),
    )
    env.update(settings)
    command = [PYTHON, "-m", "deploy.rasa_server"]
    url = f"http://127.0.0.1:{port}"
    return ServerProcess(command, env, folder / "rasa.log", f"{url}/webhooks/whatsapp/", 240), url
