"""`make run` as a stranger on the network would try it: Rasa's API and the action server refuse callers without
their tokens, the REST channel is not served, and nothing listens beyond loopback.

The real `make run` (honcho, the Procfile's three processes, the Makefile's sandbox tokens) on free ports, with
its stores in the test's folder. Only the webhook, the gateway's own API and the console stay open, and those
check their own signatures and tokens (tests/channel).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psutil
import pytest

from tests.processes import base_environment, require_model, wait_until_answering
from tests.support import LUCIA, MIRADOR, ROOT, free_port

MAKE_RUN_RASA_TOKEN = "sandbox-rasa-token"
"""The Makefile's sandbox token for Rasa's API (the README gives it); a real number sets its own."""
SENDER = f"{MIRADOR}:{LUCIA}"


@dataclass(frozen=True)
class MakeRun:
    process: subprocess.Popen[bytes]
    rasa: str
    actions: str
    sandbox: str
    ports: frozenset[int]


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    require_model()
    folder = tmp_path_factory.mktemp("make-run")
    rasa_port, actions_port, sandbox_port = free_port(), free_port(), free_port()
    env = {
        key: value
        for key, value in base_environment().items()
        if not key.startswith(("RASA_", "ACTION_", "TRACKER_", "LOCK_"))
    }
    env.update(
        RASA_PORT=str(rasa_port),
        ACTION_SERVER_PORT=str(actions_port),
        SANDBOX_PORT=str(sandbox_port),
        GATEWAY_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'gateway.db'}",
        TRACKER_STORE_URL=f"sqlite:///{folder / 'tracker.db'}",
        RASA_TELEMETRY_ENABLED="false",
    )
    log = folder / "make-run.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = MakeRun(
        process,
        f"http://127.0.0.1:{rasa_port}",
        f"http://127.0.0.1:{actions_port}",
        f"http://127.0.0.1:{sandbox_port}",
        frozenset({rasa_port, actions_port, sandbox_port}),
    )
    try:
        urls = [f"{run.sandbox}/sandbox/config", f"{run.actions}/health", f"{run.rasa}/webhooks/whatsapp/"]
        wait_until_answering(urls, process, lambda: log.read_text()[-4000:], 300)
        yield run
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def guest_tracker(make_run: MakeRun) -> str:
    """A guest who wrote and was answered, so there is a tracker worth stealing."""
    sent = httpx.post(f"{make_run.sandbox}/sandbox/guests/{LUCIA}/messages", json={"to": MIRADOR, "text": "hola"})
    sent.raise_for_status()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        thread = httpx.get(f"{make_run.sandbox}/sandbox/guests/{LUCIA}/messages").json()
        if any(item["direction"] == "outbound" for item in thread["messages"]):
            return SENDER
        time.sleep(0.5)
    pytest.fail("the bot never answered the guest under make run")


RASA_ROUTES = [
    ("GET", f"/conversations/{SENDER}/tracker", None),
    ("GET", f"/conversations/{SENDER}/story", None),
    ("POST", f"/conversations/{SENDER}/tracker/events", {"event": "slot", "name": "booking_code", "value": "X"}),
    ("POST", f"/conversations/{SENDER}/trigger_intent", {"name": "goodbye"}),
    ("POST", f"/conversations/{SENDER}/messages", {"text": "hola", "sender": "user"}),
    ("POST", f"/conversations/{SENDER}/predict", None),
    ("GET", "/status", None),
    ("GET", "/domain", None),
    ("POST", "/model/parse", {"text": "hola"}),
    ("PUT", "/model", {"model_file": "/tmp/x.tar.gz"}),
    ("DELETE", "/model", None),
]


@pytest.mark.parametrize(("method", "path", "body"), RASA_ROUTES, ids=[f"{m} {p}" for m, p, _ in RASA_ROUTES])
@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no token", "wrong token"])
def test_rasa_api_refuses_callers_without_the_token(
    make_run: MakeRun, guest_tracker: str, method: str, path: str, body: dict[str, object] | None, token: str | None
) -> None:
    params = {"output_channel": "whatsapp", **({"token": token} if token else {})}
    answer = httpx.request(method, f"{make_run.rasa}{path}", params=params, json=body, timeout=30)
    assert answer.status_code == 401, answer.text
    assert "Lucía" not in answer.text
    assert LUCIA not in answer.text.replace(SENDER, "")


def test_the_rest_channel_is_not_served(make_run: MakeRun) -> None:
    answer = httpx.post(
        f"{make_run.rasa}/webhooks/rest/webhook", json={"sender": SENDER, "message": "how much do I owe?"}, timeout=30
    )
    assert answer.status_code == 404


def test_with_the_token_rasa_api_works(make_run: MakeRun, guest_tracker: str) -> None:
    token = {"token": MAKE_RUN_RASA_TOKEN}
    tracker = httpx.get(f"{make_run.rasa}/conversations/{SENDER}/tracker", params=token, timeout=30)
    assert tracker.status_code == 200
    assert any(event.get("text") == "hola" for event in tracker.json()["events"])
    triggered = httpx.post(
        f"{make_run.rasa}/conversations/{SENDER}/trigger_intent",
        params={**token, "output_channel": "whatsapp"},
        json={"name": "goodbye"},
        timeout=60,
    )
    assert triggered.status_code == 200, triggered.text
    appended = httpx.post(
        f"{make_run.rasa}/conversations/{SENDER}/tracker/events",
        params=token,
        json={"event": "slot", "name": "language", "value": "es"},
        timeout=30,
    )
    assert appended.status_code == 200, appended.text
    status = httpx.get(f"{make_run.rasa}/status", params=token, timeout=30)
    assert status.status_code == 200
    assert status.json()["model_file"].endswith("hotel.tar.gz")


def test_the_action_server_answers_only_the_rasa_server(make_run: MakeRun) -> None:
    call = {"next_action": "action_lookup_reservation", "sender_id": SENDER, "tracker": {}, "domain": {}}
    assert httpx.post(f"{make_run.actions}/webhook", json=call, timeout=30).status_code == 401
    assert httpx.get(f"{make_run.actions}/actions", timeout=30).status_code == 401
    assert httpx.get(f"{make_run.actions}/health", timeout=30).status_code == 200


def test_nothing_listens_beyond_loopback(make_run: MakeRun) -> None:
    processes = psutil.Process(make_run.process.pid).children(recursive=True)
    listening = {
        (connection.laddr.ip, connection.laddr.port)
        for process in processes
        for connection in process.net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    }
    assert make_run.ports <= {port for _, port in listening}, listening
    assert [address for address in listening if not ipaddress.ip_address(address[0]).is_loopback] == []


def test_the_console_answers_with_the_security_headers(make_run: MakeRun) -> None:
    console = httpx.get(f"{make_run.rasa}/webhooks/whatsapp/console/", timeout=30)
    assert console.status_code == 200
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"]
    assert console.headers["x-content-type-options"] == "nosniff"
