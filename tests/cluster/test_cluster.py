"""`make cluster` as production would use it: guests write through nginx to two gateway intakes and two Rasa
replicas on PostgreSQL and Redis, one replica and then one intake are killed with SIGKILL mid-way and come
back, and every guest is answered exactly once, in order; a takeover made through one replica holds on the
other; Rasa's own routes are not reachable through nginx.

Real processes throughout: supervisord, nginx, two gateway intakes, two `rasa run` replicas with the channel,
the action server and the sandbox (which signs and delivers each guest's webhooks to nginx and retries them,
as Meta does).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster.running import AGENT_TOKEN, Cluster, missing_parts, running_cluster
from tests.crash.harness import QUESTIONS
from tests.crash.measures import ANSWER_MARKS
from tests.support import ALAMEDA, MIRADOR, RASA_API_TOKEN

pytestmark = pytest.mark.skipif(missing_parts() is not None, reason=missing_parts() or "")

GUESTS = [(f"3462{n:07d}", MIRADOR if n % 2 else ALAMEDA) for n in range(60)]
TOPICS = ("wifi", "parking")
STAGGER = 0.1
"""Seconds between one guest's first question and the next guest's."""
SECOND_QUESTION_AFTER = 1.1
KILL_AFTER = 30
"""Guests who had begun writing when replica 1 is killed; the other half write while it is down and back."""
KILL_INTAKE_AFTER = 45
"""Guests who had begun writing when intake 1 is killed (nginx sends the next webhooks to intake 2)."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


async def _ask(client: httpx.AsyncClient, wa_id: str, hotel: str, start: float) -> None:
    """The guest's two questions, the second a little over a second after the first, as a person types them:
    WhatsApp's timestamps have whole seconds, and two messages within one, delivered at once to two replicas,
    have no order anyone can tell (nor does Meta promise one for webhooks sent together)."""
    await asyncio.sleep(start)
    for topic in TOPICS:
        sent = await client.post(
            f"/sandbox/guests/{wa_id}/messages", json={"to": hotel, "text": QUESTIONS["es"][topic]}
        )
        sent.raise_for_status()
        await asyncio.sleep(SECOND_QUESTION_AFTER)


async def _answers(client: httpx.AsyncClient, wa_id: str, hotel: str) -> list[str]:
    """The topics of the answers the guest received, in the order they arrived."""
    thread = (await client.get(f"/sandbox/guests/{wa_id}/messages", params={"business": hotel})).json()["messages"]
    texts = [str(item.get("text") or item.get("content") or "") for item in thread if item["direction"] == "outbound"]
    return [topic for text in texts for topic, mark in ANSWER_MARKS[hotel].items() if mark in text]


async def _kill_later(kill: Callable[[int], int], delay: float) -> int:
    await asyncio.sleep(delay)
    return await asyncio.to_thread(kill, 1)


async def _write_through_kills(cluster: Cluster) -> tuple[dict[str, list[str]], int, int]:
    async with httpx.AsyncClient(base_url=cluster.sandbox, timeout=30) as sandbox:
        guests = [_ask(sandbox, wa_id, hotel, index * STAGGER) for index, (wa_id, hotel) in enumerate(GUESTS)]
        killed, killed_intake, *_ = await asyncio.gather(
            _kill_later(cluster.kill_replica, KILL_AFTER * STAGGER),
            _kill_later(cluster.kill_intake, KILL_INTAKE_AFTER * STAGGER),
            *guests,
        )
        deadline = time.monotonic() + 240
        while True:
            received = {wa_id: await _answers(sandbox, wa_id, hotel) for wa_id, hotel in GUESTS}
            if all(len(topics) >= len(TOPICS) for topics in received.values()) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        await asyncio.sleep(5)  # long enough for any second copy to show
        answers = {wa_id: await _answers(sandbox, wa_id, hotel) for wa_id, hotel in GUESTS}
        return answers, killed, killed_intake


def test_every_guest_is_answered_once_in_order_through_a_replica_and_an_intake_kill(cluster: Cluster) -> None:
    received, killed, killed_intake = asyncio.run(_write_through_kills(cluster))
    wrong = {wa_id: topics for wa_id, topics in received.items() if topics != list(TOPICS)}
    assert wrong == {}, f"guests not answered exactly once, in order: {wrong}\n{cluster.status()}"
    cluster.wait_ready(timeout=240)
    assert cluster.replica_pid(1) not in (0, killed), cluster.status()
    assert cluster.pid("intake-1") not in (0, killed_intake), cluster.status()
    for program in ("rasa-1", "intake-1"):
        assert re.search(rf"^{program}\s+RUNNING", cluster.status(), re.MULTILINE), cluster.status()


def _agent(cluster: Cluster, replica: int, method: str, path: str, **kwargs: Any) -> httpx.Response:
    url = f"{cluster.replicas[replica - 1]}/webhooks/whatsapp/api/v1{path}"
    return httpx.request(method, url, headers={"Authorization": f"Bearer {AGENT_TOKEN}"}, timeout=30, **kwargs)


def test_a_takeover_through_one_replica_holds_on_the_other(cluster: Cluster) -> None:
    guest, hotel = "34629999001", MIRADOR
    thread = f"/conversations/{hotel}/{guest}"
    sandbox = httpx.Client(base_url=cluster.sandbox, timeout=30)
    sandbox.post(f"/sandbox/guests/{guest}/messages", json={"to": hotel, "text": "hola"}).raise_for_status()
    _wait(lambda: _agent(cluster, 2, "GET", thread).status_code == 200, "the guest's thread")
    taken = _agent(cluster, 1, "POST", f"{thread}/takeover")
    assert taken.status_code == 200, taken.text
    seen_by_two = _agent(cluster, 2, "GET", thread).json()["conversation"]["handoff"]
    assert seen_by_two["holder"] == "agent:frontdesk", seen_by_two
    assert _paused(cluster, 2, f"{hotel}:{guest}")
    answered_before = len(asyncio.run(_outbound(cluster, guest, hotel)))
    # The guest's next message reaches replica 2 alone: the bot must stay silent there too.
    sandbox.patch("/sandbox/settings", json={"webhook_url": f"{cluster.replicas[1]}/webhooks/whatsapp/webhook"})
    try:
        sandbox.post(f"/sandbox/guests/{guest}/messages", json={"to": hotel, "text": QUESTIONS["es"]["wifi"]})
        _wait(lambda: _held_messages(cluster, thread) >= 1, "the held message on replica 2")
        time.sleep(3)
        assert len(asyncio.run(_outbound(cluster, guest, hotel))) == answered_before
        reply = _agent(cluster, 2, "POST", f"{thread}/reply", json={"text": "Soy Marta, de recepción."})
        assert reply.status_code == 200, reply.text
        assert _agent(cluster, 1, "POST", f"{thread}/release").status_code == 200
        assert _agent(cluster, 2, "GET", thread).json()["conversation"]["handoff"]["state"] == "bot"
        assert not _paused(cluster, 2, f"{hotel}:{guest}")
    finally:
        sandbox.patch("/sandbox/settings", json={"webhook_url": f"{cluster.url}/webhooks/whatsapp/webhook"})


def _paused(cluster: Cluster, replica: int, sender: str) -> bool:
    """Whether Rasa's tracker of `sender`, as replica `replica` reads it through its API, is paused."""
    tracker = httpx.get(
        f"{cluster.replicas[replica - 1]}/conversations/{sender}/tracker", params={"token": RASA_API_TOKEN}, timeout=30
    )
    tracker.raise_for_status()
    return bool(tracker.json()["paused"])


async def _outbound(cluster: Cluster, guest: str, hotel: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=cluster.sandbox, timeout=30) as sandbox:
        thread = (await sandbox.get(f"/sandbox/guests/{guest}/messages", params={"business": hotel})).json()
    return [item for item in thread["messages"] if item["direction"] == "outbound"]


def _held_messages(cluster: Cluster, thread: str) -> int:
    items = _agent(cluster, 2, "GET", thread).json()["messages"]
    return sum(1 for item in items if item.get("state") == "held")


def _wait(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not seen within {timeout}s")
        time.sleep(0.3)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/conversations/{MIRADOR}:34620000001/tracker"),
        ("POST", f"/conversations/{MIRADOR}:34620000001/trigger_intent"),
        ("POST", "/webhooks/rest/webhook"),
        ("GET", "/status"),
        ("GET", "/version"),
        ("PUT", "/model"),
        ("GET", "/"),
    ],
)
def test_rasas_routes_are_not_reachable_through_nginx(cluster: Cluster, method: str, path: str) -> None:
    answer = httpx.request(method, f"{cluster.url}{path}", params={"token": RASA_API_TOKEN}, json={}, timeout=30)
    assert answer.status_code == 404
    assert "rasa" not in answer.text.lower()
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_nginx_serves_the_gateway_and_caps_bodies_at_metas_limit(cluster: Cluster) -> None:
    assert httpx.get(f"{cluster.url}/health", timeout=30).json() == {"status": "ok"}
    console = httpx.get(f"{cluster.url}/webhooks/whatsapp/console/", timeout=30)
    assert console.status_code == 200
    assert console.headers.get_list("content-security-policy") == [
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ]
    too_large = httpx.post(f"{cluster.url}/webhooks/whatsapp/webhook", content=b"x" * (3 * 1024 * 1024 + 1), timeout=30)
    assert too_large.status_code == 413
    replica_log = Path(cluster.folder / "logs").glob("rasa-*.log")
    assert all("x" * 1000 not in path.read_text(errors="replace") for path in replica_log)
