"""`make cluster` under load: nginx in front of two gateway intakes and one or two Rasa replicas on PostgreSQL
and Redis, each figure printed beside a baseline measured in the same run.

1. Acknowledged webhooks per second and p50/p99 acknowledgement latency (wrk, the signed webhook of
   `benchmarks.webhook_ack`) through nginx to the intakes, with 1 and 2 replicas behind them. Baseline: the
   channel alone on SQLite (`benchmarks.gateway_app`), the fastest one gateway process acknowledges; the
   ratio is what nginx and PostgreSQL cost, and what a second intake gains.
2. Guest to answer, p50/p99, through nginx with 1 and 2 replicas: fresh guests each asking one known question
   on the sandbox's phone, a few at a time; lost (no answer within a minute) and doubled answers counted.
3. Soak: signed status webhooks at a fixed rate, open loop, through nginx with 2 replicas: sent, acknowledged,
   refused, and lost (acknowledged but not in the gateway store's inbox afterwards); each replica's and
   intake's resident memory at the start and the end (target: flat within 10 %).
4. Turns per second with 100 guests writing at once to one Rasa server: through the WhatsApp channel, beside
   Rasa's own REST channel (the baseline: the same model, actions and tracker store with no gateway)
   answering the same 100 questions; in `make run`'s shape (the webhooks to the Rasa server itself, its
   stores SQLite) and in `make cluster`'s (the webhooks to a gateway intake in front of it, the gateway's and
   Rasa's stores on PostgreSQL). Target: the channel keeps at least 0.9x the REST channel's rate. Measured
   first, on a quiet machine: the soak's writes leave PostgreSQL checkpointing for a while after. The two
   channels run in pairs, back to back, the first of each pair alternating: a round's ratio then compares two
   runs a few seconds apart, and neither channel always follows the other (a busy machine's drift and any
   cost one run leaves to the next fall on both). The figure is the median of the rounds' ratios. Each
   process's CPU a turn is printed beside it: on this 2-core machine the sandbox (Meta's stand-in), the
   intake and PostgreSQL share the cores with the Rasa server in a WhatsApp round, the REST round's client
   alone in a REST one.

A section whose requirements are missing (nginx, TEST_POSTGRES_URL, TEST_REDIS_URL, wrk, the trained model)
is skipped with the reason printed.

`python -m benchmarks.cluster [--soak-seconds N]` (default 600)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from benchmarks.cluster_load import (
    AnswerFigures,
    InboxView,
    SoakResult,
    guest_to_answer,
    guests,
    rest_all_at_once,
    say,
    soak,
    whatsapp_all_at_once,
)
from benchmarks.measure import Figures, percentile, start
from benchmarks.webhook_ack import CONNECTIONS, SECONDS, WrkFigures, _script, wrk
from deploy.cluster.supervisor import intake_name, replica_name
from tests.cluster.running import Cluster, missing_parts, running_cluster
from tests.crash.stores import StoreKind, postgres_admin_url, store_target
from tests.processes import MODEL, ServerProcess, start_action_server, start_intake, start_rasa
from tests.support import ACCESS_TOKEN, SandboxProcess, free_port

WEBHOOK_PATH = "/webhooks/whatsapp/webhook"
ANSWER_GUESTS = 40
ANSWER_AT_ONCE = 4
ANSWER_TIMEOUT = 60.0
DOUBLE_GRACE = 5.0
"""Seconds after the last answer for any second copy to show."""
SOAK_SECONDS = 600
SOAK_RATE = 300
DRAIN_TIMEOUT = 300.0
"""Seconds the soak waits for the replicas to work through what wrk left in the inbox."""
MEMORY_TOLERANCE = 0.10
TURN_GUESTS = 100
TURN_ROUNDS = 6
TURN_TIMEOUT = 180.0
WARM_UP_GUESTS = 5
SETTLE_SECONDS = 3.0
"""Before each round of turns: the status webhooks of the last round's answers are processed by then."""


@dataclass(frozen=True)
class Memory:
    program: str
    """The supervisord program: a Rasa replica (`rasa-1`) or a gateway intake (`intake-1`)."""
    before: int
    after: int | None
    """None when the replica was not the same process at the end (it died and was started again)."""

    @property
    def change(self) -> float | None:
        return None if self.after is None else self.after / self.before - 1


@dataclass(frozen=True)
class Soak:
    result: SoakResult
    lost: int
    memory: list[Memory]


@dataclass(frozen=True)
class ClusterRun:
    replicas: int
    answers: AnswerFigures
    ack: WrkFigures | None
    soak: Soak | None


@dataclass(frozen=True)
class Shape:
    """Where the WhatsApp channel's webhooks go, and the stores under the Rasa server and the gateway."""

    name: str
    intake: bool
    """The webhooks go to a gateway intake in front of the Rasa server, not to the server itself."""
    stores: StoreKind

    @property
    def folder(self) -> str:
        return f"turns-{self.name.replace(' ', '-')}"


SHAPES = (Shape("make run", intake=False, stores="sqlite"), Shape("make cluster", intake=True, stores="postgresql"))


@dataclass(frozen=True)
class Turns:
    shape: Shape
    rest: list[tuple[float, int]]
    """Seconds until the last of the guests was answered, and how many were, per round."""
    whatsapp: list[tuple[float, int]]
    rest_cpu: list[float]
    """The Rasa server's CPU seconds (user and system, every thread) during each round."""
    whatsapp_cpu: list[float]
    beside: dict[str, list[float]]
    """The CPU seconds of the other processes a WhatsApp round keeps busy, during each: the sandbox (Meta's
    part), the intake and PostgreSQL's server processes where the shape has them."""


def main(argv: list[str] | None = None) -> None:
    soak_seconds = _arguments(argv).soak_seconds
    no_wrk = None if shutil.which("wrk") else "wrk is not installed (apt-get install wrk)"
    no_model = None if MODEL.is_file() else f"no trained model at {MODEL} (make train)"
    no_cluster = no_model or missing_parts()
    print(f"make cluster under load (soak {soak_seconds:.0f} s); progress:", flush=True)
    no_postgres = None if postgres_admin_url() else "TEST_POSTGRES_URL is not set (.ci/run sets it)"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as name:
        folder = Path(name)
        missing = {shape: no_model or (no_postgres if shape.stores == "postgresql" else None) for shape in SHAPES}
        turns = {shape: None if missing[shape] else _turns(folder / shape.folder, shape) for shape in SHAPES}
        script = None if no_wrk else _script(folder)
        baseline = _channel_alone(folder, script) if script else None
        runs = [] if no_cluster else [_cluster_run(folder, n, script, soak_seconds if n == 2 else 0) for n in (1, 2)]
    print(f"make cluster under load: {time.monotonic() - started:.0f} s in all")
    _print_acks(no_wrk or no_cluster, baseline, runs)
    _print_answers(no_cluster, runs)
    _print_soak(no_cluster, soak_seconds, runs)
    for shape in SHAPES:
        _print_turns(shape, missing[shape], turns[shape])


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--soak-seconds", type=float, default=SOAK_SECONDS, help=f"default {SOAK_SECONDS}")
    return parser.parse_args(argv)


def _channel_alone(folder: Path, script: Path) -> WrkFigures:
    say("wrk on the channel alone on SQLite")
    port = free_port()
    gateway = start(
        ["benchmarks.gateway_app", "--port", str(port), "--database-url", f"sqlite+aiosqlite:///{folder}/alone.db"],
        f"http://127.0.0.1:{port}/webhooks/whatsapp/",
    )
    try:
        return wrk("channel alone on SQLite (baseline)", f"http://127.0.0.1:{port}{WEBHOOK_PATH}", script)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)


def _cluster_run(folder: Path, replicas: int, script: Path | None, soak_seconds: float) -> ClusterRun:
    """On a cluster of its own: guests first (on a quiet cluster), then wrk, then the soak if asked for."""
    say(f"starting make cluster with {_replicas(replicas)}")
    with running_cluster(folder / f"cluster-{replicas}", replicas=replicas) as cluster:
        say(f"{ANSWER_GUESTS} guests asking through nginx to {_replicas(replicas)}, {ANSWER_AT_ONCE} at a time")
        asking = guests(f"3464{replicas}", ANSWER_GUESTS)
        answers = asyncio.run(guest_to_answer(cluster.sandbox, asking, ANSWER_AT_ONCE, ANSWER_TIMEOUT, DOUBLE_GRACE))
        ack = None
        if script:
            say(f"wrk through nginx to {_replicas(replicas)}")
            ack = wrk(f"nginx, {_replicas(replicas)} on PostgreSQL", f"{cluster.url}{WEBHOOK_PATH}", script)
        run_soak = _soak(cluster, soak_seconds) if soak_seconds > 0 else None
        return ClusterRun(replicas, answers, ack, run_soak)


def _replicas(count: int) -> str:
    return f"{count} replica{'s' if count > 1 else ''}"


def _soak(cluster: Cluster, seconds: float) -> Soak:
    programs = [replica_name(n) for n in range(1, len(cluster.replicas) + 1)]
    programs += [intake_name(n) for n in range(1, len(cluster.intakes) + 1)]
    pids = [cluster.pid(program) for program in programs]
    inbox = InboxView(psutil.Process(pids[0]).environ()["GATEWAY_DATABASE_URL"])
    try:
        _drain(inbox)
        before = [psutil.Process(pid).memory_info().rss for pid in pids]
        say(f"soak: {SOAK_RATE} status webhooks/s through nginx for {seconds:.0f} s")
        result = asyncio.run(soak(f"{cluster.url}{WEBHOOK_PATH}", SOAK_RATE, seconds))
        after = [_rss_if_same(cluster, program, pid) for program, pid in zip(programs, pids, strict=True)]
        memory = [Memory(program, *rss) for program, *rss in zip(programs, before, after, strict=True)]
        lost = len(result.acknowledged - inbox.soak_numbers())
    finally:
        inbox.close()
    return Soak(result, lost, memory)


def _drain(inbox: InboxView) -> None:
    """Wait until the replicas have processed every stored webhook, so the soak starts from a steady state."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while (pending := inbox.pending()) and time.monotonic() < deadline:
        say(f"waiting for the replicas to process {pending} webhooks left in the inbox")
        time.sleep(5)


def _rss_if_same(cluster: Cluster, program: str, pid: int) -> int | None:
    if cluster.pid(program) != pid:
        return None
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.NoSuchProcess:
        return None


def _turns(folder: Path, shape: Shape) -> Turns:
    """One Rasa server with both channels, its stores and the gateway's of `shape`: each round, 100 fresh
    guests at once through the REST channel, then 100 more through the WhatsApp channel, whose webhooks go to
    the Rasa server itself or to a gateway intake on the same store."""
    folder.mkdir()
    front_of = "to an intake in front of it" if shape.intake else "to it"
    say(f"starting the sandbox, the action server and one Rasa server ({shape.name}: webhooks {front_of})")
    with contextlib.ExitStack() as processes:
        stores = processes.enter_context(store_target(shape.stores, folder)).rasa_environment()
        sandbox = SandboxProcess("http://127.0.0.1:9/unused", folder / "sandbox.log")
        processes.callback(sandbox.stop)
        actions, actions_url = start_action_server(
            folder, WHATSAPP_API_URL=sandbox.url, WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN
        )
        processes.callback(actions.stop)
        pickup = {"GATEWAY_PICKUP_SECONDS": "0.05"} if shape.intake else {}
        rasa, rasa_url = start_rasa(folder, sandbox.url, actions_url, RASA_REST_CHANNEL="true", **stores, **pickup)
        processes.callback(rasa.stop)
        webhooks, front = rasa_url, None
        if shape.intake:
            front, webhooks = start_intake(folder, sandbox.url, GATEWAY_DATABASE_URL=stores["GATEWAY_DATABASE_URL"])
            processes.callback(front.stop)
        httpx.patch(f"{sandbox.url}/sandbox/settings", json={"webhook_url": f"{webhooks}{WEBHOOK_PATH}"})
        watched = _watched(rasa, sandbox, front, shape.stores == "postgresql")
        return asyncio.run(_turn_rounds(shape, rasa_url, sandbox.url, watched))


@dataclass(frozen=True)
class Watched:
    server: psutil.Process
    beside: dict[str, Callable[[], float]]
    """The CPU seconds so far of each process beside the server that a WhatsApp round keeps busy."""


def _watched(server: ServerProcess, sandbox: SandboxProcess, intake: ServerProcess | None, postgres: bool) -> Watched:
    beside = {"the sandbox": _cpu_seconds_of(psutil.Process(sandbox.process.pid))}
    if intake is not None:
        beside["the intake"] = _cpu_seconds_of(psutil.Process(intake.process.pid))
    if postgres:
        beside["PostgreSQL"] = _postgres_cpu_seconds
    return Watched(psutil.Process(server.process.pid), beside)


async def _turn_rounds(shape: Shape, rasa: str, sandbox: str, watched: Watched) -> Turns:
    """The rounds, and the Rasa server's CPU time in each: it is busy through a round on either channel, so
    the rates follow what a turn costs it, and the difference is what the gateway adds to a turn."""
    say(f"warming up with {WARM_UP_GUESTS} guests on each channel")
    await rest_all_at_once(rasa, guests("34669", WARM_UP_GUESTS), TURN_TIMEOUT)
    await whatsapp_all_at_once(sandbox, guests("34679", WARM_UP_GUESTS), TURN_TIMEOUT)
    server = watched.server
    turns = Turns(shape, [], [], [], [], {who: [] for who in watched.beside})
    for round_ in range(TURN_ROUNDS):
        rest_first = round_ % 2 == 0
        first = "REST" if rest_first else "WhatsApp"
        say(f"{shape.name}, round {round_ + 1} of {TURN_ROUNDS}: {TURN_GUESTS} guests at once, {first} first")
        for channel in ("rest", "whatsapp") if rest_first else ("whatsapp", "rest"):
            await asyncio.sleep(SETTLE_SECONDS)
            before = _cpu_seconds(server)
            if channel == "rest":
                turns.rest.append(await rest_all_at_once(rasa, guests(f"3466{round_}", TURN_GUESTS), TURN_TIMEOUT))
                turns.rest_cpu.append(_cpu_seconds(server) - before)
            else:
                beside_before = {who: cpu() for who, cpu in watched.beside.items()}
                writing = guests(f"3467{round_}", TURN_GUESTS)
                turns.whatsapp.append(await whatsapp_all_at_once(sandbox, writing, TURN_TIMEOUT))
                turns.whatsapp_cpu.append(_cpu_seconds(server) - before)
                for who, cpu in watched.beside.items():
                    turns.beside[who].append(cpu() - beside_before[who])
    return turns


def _cpu_seconds_of(process: psutil.Process) -> Callable[[], float]:
    return functools.partial(_cpu_seconds, process)


def _postgres_cpu_seconds() -> float:
    """Every PostgreSQL server process's CPU seconds so far (the run's backends come and go with its pools)."""
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if (process.info["name"] or "").startswith("postgres"):
            with contextlib.suppress(psutil.Error):
                total += _cpu_seconds(process)
    return total


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _skipped(title: str, reason: str) -> None:
    print(f"{title}: skipped, {reason}")


def _print_acks(missing: str | None, baseline: WrkFigures | None, runs: list[ClusterRun]) -> None:
    title = "Acknowledged webhooks"
    if baseline is None:
        _skipped(title, missing or "")
        return
    print(f"{title}: wrk, {CONNECTIONS} connections, {SECONDS} s each, one signed text webhook")
    print(baseline.line())
    if missing:
        print(f"  (through nginx skipped: {missing})")
    for run in runs:
        if run.ack is not None:
            print(run.ack.line())
            share = run.ack.per_second / baseline.per_second
            print(f"    {share:.2f}x the SQLite channel's rate, p50 {run.ack.p50_ms / baseline.p50_ms:.2f}x")


def _print_answers(missing: str | None, runs: list[ClusterRun]) -> None:
    title = "Guest to answer through nginx"
    if missing:
        _skipped(title, missing)
        return
    print(f"{title}: {ANSWER_GUESTS} fresh guests, one known question each, {ANSWER_AT_ONCE} at a time")
    for run in runs:
        ms = [seconds * 1000 for seconds in run.answers.latencies]
        label = _replicas(run.replicas)
        print(
            f"  {label:<34} p50 {percentile(ms, 0.5):7.1f} ms   p99 {percentile(ms, 0.99):7.1f} ms"
            f"   ({len(ms)} answered, {run.answers.lost} lost, {run.answers.doubled} doubled)"
        )


def _print_soak(missing: str | None, seconds: float, runs: list[ClusterRun]) -> None:
    title = "Soak"
    soaked = next((run.soak for run in runs if run.soak is not None), None)
    if soaked is None:
        _skipped(title, missing or "--soak-seconds is 0")
        return
    result = soaked.result
    print(f"{title}: {SOAK_RATE} signed status webhooks/s, open loop, through nginx to 2 replicas for {seconds:.0f} s")
    refused = ", ".join(f"{what}: {count}" for what, count in result.refused.most_common())
    print(f"  sent {result.sent} in {result.seconds:.1f} s ({result.rate:.1f}/s achieved of {SOAK_RATE}/s)")
    print(
        f"  acknowledged {len(result.acknowledged)}, non-200 {sum(result.refused.values())}"
        f"{f' ({refused})' if refused else ''}, lost {soaked.lost} (acknowledged, not in the inbox)"
    )
    acks = Figures("acknowledgement", result.sent, len(result.acknowledged), result.seconds, tuple(result.latencies_ms))
    print(acks.line())
    for memory in soaked.memory:
        before = f"{memory.program:<9} resident memory {memory.before / 2**20:7.1f} MB"
        if memory.change is None:
            print(f"  {before} -> restarted during the soak (not the same process)")
        else:
            print(f"  {before} -> {memory.after / 2**20:7.1f} MB ({memory.change:+.1%})")  # type: ignore[operator]
    flat = all(m.change is not None and abs(m.change) <= MEMORY_TOLERANCE for m in soaked.memory)
    print(f"  {'meets' if flat else 'MISSES'} the target: resident memory flat within {MEMORY_TOLERANCE:.0%}")


def _print_turns(shape: Shape, missing: str | None, turns: Turns | None) -> None:
    title = f"Turns per second, {TURN_GUESTS} guests writing at once, {shape.name}'s shape"
    if turns is None:
        _skipped(title, missing or "")
        return
    where = "an intake in front of it" if shape.intake else "it"
    stores = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[shape.stores]
    print(f"{title}: one Rasa server, webhooks to {where}; {stores} stores, {TURN_ROUNDS} rounds, first alternating")
    rest, whatsapp = (
        _turns_line("Rasa REST channel (baseline)", turns.rest),
        _turns_line("WhatsApp channel", turns.whatsapp),
    )
    ratios = [_rate(w) / _rate(r) for r, w in zip(turns.rest, turns.whatsapp, strict=True)]
    share = statistics.median(ratios)
    each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(f"  WhatsApp/REST per round: {each}; ratio of the medians {whatsapp / rest:.2f}x")
    print(
        f"  WhatsApp/REST {share:.2f}x (median of the rounds): {'meets' if share >= 0.9 else 'MISSES'} the 0.9x target"
    )
    rest_ms, whatsapp_ms = (1000 * statistics.median(cpu) / TURN_GUESTS for cpu in (turns.rest_cpu, turns.whatsapp_cpu))
    print(
        f"  the Rasa server's CPU a turn (median of the rounds): REST {rest_ms:.1f} ms, WhatsApp {whatsapp_ms:.1f} ms"
        f" ({whatsapp_ms - rest_ms:+.1f} ms: the gateway's work, and the bot's beside it)"
    )
    each = ", ".join(f"{who} {1000 * statistics.median(cpu) / TURN_GUESTS:.1f} ms" for who, cpu in turns.beside.items())
    print(f"  beside it, a WhatsApp turn's CPU: {each}")


def _rate(round_: tuple[float, int]) -> float:
    seconds, answered = round_
    return answered / seconds


def _turns_line(label: str, rounds: list[tuple[float, int]]) -> float:
    """Print one channel's rounds; answer its median turns per second."""
    rates = [_rate(round_) for round_ in rounds]
    median = statistics.median(rates)
    each = ", ".join(f"{rate:.1f}" for rate in rates)
    answered = sum(count for _, count in rounds)
    print(f"  {label:<34} {median:7.1f} turns/s   (rounds: {each}; {answered}/{TURN_GUESTS * len(rounds)} answered)")
    return median


if __name__ == "__main__":
    main()
