"""What a crash matrix run measured, from what each guest received (the sandbox's threads and event log) and
what the gateway store kept, and where each kill landed.

- lost: a guest question the sandbox delivered with a 200 (at any attempt) that never got its answer;
- doubled: each extra copy of an answer (the same text) a guest received; `doubled_after_record` counts the
  copies sent again although the store had recorded the earlier one at every kill since it went out (no send
  under way at a kill explains those);
- out of order: a guest whose second question was answered before the first, counted where both questions
  were stored before a kill that came before the first one's answer (the gateway had both in hand, and the
  recovery had to keep their order); for information, `reversed_known` counts the reversals where the first
  question was stored before the second's answer went out, and `reversed_anywhere` every reversal.

A kill's phases are read off the state it left: a webhook cut off mid-request (before the 200), a guest
message acknowledged but not recorded (between the 200 and processing), a recorded message whose answer had
not gone out (in the bot's turn, or queued behind one), a Graph call under way (the sandbox, like Meta, carries
out a send whose client died: it accepts it after the kill), an answer the sandbox accepted that the store had
not recorded (between the Graph answer and its record).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.crash.stores import StoreSnapshot
from tests.support import ALAMEDA, MIRADOR

ANSWER_MARKS = {
    MIRADOR: {"wifi": "puerto2026", "parking": "18 EUR"},
    ALAMEDA: {"wifi": "azahar24", "parking": "Plaza de Armas"},
}
"""The fact of ../shared/HOTELS.md each answer carries, in either language."""
PHASES = {
    "webhook_in_flight": "before the webhook's 200",
    "acked_not_recorded": "between the 200 and processing",
    "in_turn": "during the bot's turn (or queued for it)",
    "send_in_flight": "with a Graph call under way",
    "answered_not_recorded": "between the Graph answer and its record",
    "recorded_not_finished": "after the answer's record, turn not closed",
}
CUT_OFF_WINDOW = 1.0
"""Seconds after a kill in which a failed webhook attempt other than a refused connection counts as cut off
by it (the next attempt, at least 0.8 s later with the harness's retry settings, is refused)."""


@dataclass(frozen=True)
class Guest:
    wa_id: str
    hotel: str
    language: str
    topics: tuple[str, str]
    """The topics of the guest's first and second question."""


@dataclass(frozen=True)
class Observed:
    """A thread entry as the sandbox's event stream showed it, and when (this machine's clock)."""

    at: float
    entry: dict[str, Any]


@dataclass(frozen=True)
class KillRecord:
    index: int
    at: float
    ready_at: float
    stall_seconds: float
    restart_seconds: float
    store: StoreSnapshot
    """The store as the killed process left it."""


@dataclass
class MatrixResult:
    store: str
    guests: int
    questions: int
    lost: int
    doubled: int
    doubled_after_record: int
    """Extra copies whose earlier copy the store had recorded at every kill after it went out: not a send
    under way at a kill, so nothing excuses them."""
    out_of_order: int
    reversed_known: int
    """Reversals where the first question was stored before the second one's answer went out."""
    reversed_anywhere: int
    undelivered: int
    unexpected: list[str]
    latencies: list[float]
    first_start_seconds: float
    total_seconds: float
    quiet: bool
    kills: list[KillRecord] = field(default_factory=list)
    phases: list[dict[str, int]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def in_flight_sends(self) -> int:
        """Sends whose Graph call was under way at a kill, or answered and not yet recorded: the ones a restart
        may send again (nothing tells whether WhatsApp got them)."""
        return sum(found.get("send_in_flight", 0) + found.get("answered_not_recorded", 0) for found in self.phases)

    def phase_counts(self) -> dict[str, int]:
        """How many kills found work in each phase."""
        return {phase: sum(1 for found in self.phases if found.get(phase)) for phase in PHASES}

    def report(self) -> str:
        lines = [
            f"crash matrix on {self.store}: {self.guests} guests, {self.questions} questions, {len(self.kills)} kills,"
            f" {self.total_seconds:.0f} s{'' if self.quiet else ' (NOT QUIET: timed out)'}",
            f"  lost {self.lost}   doubled {self.doubled} (sends in flight at the kills {self.in_flight_sends})"
            f"   out of order {self.out_of_order}",
            f"  (doubled after their record {self.doubled_after_record}; reversed where the first question was"
            f" stored before the second's answer {self.reversed_known}, anywhere {self.reversed_anywhere};"
            f" undelivered {self.undelivered}; unexpected answers {len(self.unexpected)})",
        ]
        if self.latencies:
            ordered = sorted(self.latencies)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
            lines.append(f"  answer latency p50 {statistics.median(ordered):.2f} s   p99 {p99:.2f} s")
        restarts = sorted(k.restart_seconds for k in self.kills)
        spread = f"; restarts min {restarts[0]:.1f} / median {statistics.median(restarts):.1f}" if restarts else ""
        spread += f" / max {restarts[-1]:.1f} s" if restarts else ""
        lines.append(f"  Rasa start {self.first_start_seconds:.1f} s{spread}")
        if self.kills:
            counts = self.phase_counts()
            lines.append("  kills per phase: " + ", ".join(f"{PHASES[p]} {counts[p]}" for p in PHASES))
            for kill, found in zip(self.kills, self.phases, strict=True):
                stalled = f", store stalled {kill.stall_seconds:.2f} s" if kill.stall_seconds else ""
                caught = ", ".join(f"{p} {n}" for p, n in found.items() if n) or "nothing in flight"
                lines.append(f"    kill {kill.index + 1}{stalled}: {caught}")
        lines += [f"  {d}" for d in self.details[:20]]
        return "\n".join(lines)


def topic_of(hotel: str, text: str) -> str | None:
    return next((topic for topic, mark in ANSWER_MARKS[hotel].items() if mark in text), None)


def measure(
    guests: list[Guest],
    threads: dict[str, list[dict[str, Any]]],
    final: StoreSnapshot,
    kills: list[KillRecord],
    events: list[Observed],
    first_start: float,
    total: float,
    quiet: bool,
    store: str,
) -> MatrixResult:
    """The run's figures; `threads` are each guest's thread with their hotel, as the sandbox has it at the end."""
    result = MatrixResult(
        store, len(guests), 2 * len(guests), 0, 0, 0, 0, 0, 0, 0, [], [], first_start, total, quiet, kills
    )
    for guest in guests:
        _measure_guest(guest, threads[guest.wa_id], final, kills, result)
    since = [0.0] + [kill.ready_at for kill in kills]
    result.phases = [classify(kill, start, events, threads, guests) for kill, start in zip(kills, since, strict=False)]
    return result


def _measure_guest(
    guest: Guest, thread: list[dict[str, Any]], final: StoreSnapshot, kills: list[KillRecord], result: MatrixResult
) -> None:
    questions = [e for e in thread if e["direction"] == "inbound"]
    answers = [e for e in thread if e["direction"] == "outbound"]
    first_answer: dict[str, float] = {}
    for answer in answers:
        topic = topic_of(guest.hotel, answer["text"])
        if topic is None:
            result.unexpected.append(answer["text"])
        else:
            first_answer.setdefault(topic, answer["timestamp"])
    for text, copies in Counter(a["text"] for a in answers).items():
        if copies > 1:
            same = [a for a in answers if a["text"] == text]
            result.doubled += copies - 1
            result.doubled_after_record += sum(1 for earlier in same[:-1] if _recorded_at_kills(earlier, kills))
            result.details.append(f"doubled x{copies} to {guest.wa_id}: {text[:60]}")
    for question, topic in zip(questions, guest.topics, strict=False):
        if not question["webhook"]["acknowledged"]:
            result.undelivered += 1
        elif topic not in first_answer:
            result.lost += 1
            result.details.append(f"lost: {guest.wa_id}'s {topic} question {question['wamid'][-12:]}")
        else:
            result.latencies.append(first_answer[topic] - question["timestamp"])
    if len(questions) == 2 and all(t in first_answer for t in guest.topics):
        _order(guest, questions, first_answer, final, kills, result)


def _order(
    guest: Guest,
    questions: list[dict[str, Any]],
    first_answer: dict[str, float],
    final: StoreSnapshot,
    kills: list[KillRecord],
    result: MatrixResult,
) -> None:
    first, second = guest.topics
    if first_answer[second] >= first_answer[first]:
        return
    result.reversed_anywhere += 1
    stored = [final.inbound.get(q["wamid"]) for q in questions]
    if None in stored:
        return
    if stored[0] is not None and stored[0].created_at < first_answer[second]:
        result.reversed_known += 1
    both_stored = max(row.created_at for row in stored if row is not None)
    if any(both_stored < kill.at < first_answer[first] for kill in kills):
        result.out_of_order += 1
        result.details.append(f"out of order: {guest.wa_id} got the {second} answer before the {first} one")


def _recorded_at_kills(answer: dict[str, Any], kills: list[KillRecord]) -> bool:
    """Whether every kill that came after `answer` went out (by the end of its restart) found it recorded."""
    later = [kill for kill in kills if answer["timestamp"] < kill.ready_at]
    return all(answer["wamid"] in kill.store.outbound_wamids for kill in later)


def classify(
    kill: KillRecord,
    since: float,
    events: list[Observed],
    threads: dict[str, list[dict[str, Any]]],
    guests: list[Guest],
) -> dict[str, int]:
    """How many guest messages (or answers) the kill caught in each phase; answers count from `since`, when
    the process it killed was up (what an earlier process left unrecorded is that earlier kill's)."""
    questions = _questions(threads, guests)
    hotel_of = {g.wa_id: g.hotel for g in guests}
    answers = [e for thread in threads.values() for e in thread if e["direction"] == "outbound"]
    before = [a for a in answers if a["timestamp"] <= kill.at]
    recorded: dict[tuple[str, str | None], bool] = {}
    for answer in before:
        key = (answer["wa_id"], topic_of(hotel_of[answer["wa_id"]], answer["text"]))
        recorded[key] = recorded.get(key, False) or answer["wamid"] in kill.store.outbound_wamids
    found = Counter(
        webhook_in_flight=len(
            {o.entry["wamid"] for o in events if kill.at <= o.at <= kill.at + CUT_OFF_WINDOW and _cut_off(o.entry)}
            & questions.keys()
        ),
        acked_not_recorded=len(
            {o.entry["wamid"] for o in events if o.at <= kill.at + CUT_OFF_WINDOW and _acknowledged(o.entry)}
            & questions.keys() - kill.store.inbound.keys()
        ),
        send_in_flight=sum(1 for a in answers if kill.at < a["timestamp"] < kill.ready_at),
        answered_not_recorded=sum(
            1 for a in before if a["timestamp"] >= since and a["wamid"] not in kill.store.outbound_wamids
        ),
    )
    for wamid in kill.store.unfinished() & questions.keys():
        answer_recorded = recorded.get(questions[wamid])
        if answer_recorded is None:
            found["in_turn"] += 1
        elif answer_recorded:
            found["recorded_not_finished"] += 1
    return {phase: found[phase] for phase in PHASES}


def _questions(threads: dict[str, list[dict[str, Any]]], guests: list[Guest]) -> dict[str, tuple[str, str | None]]:
    """Each guest question's (guest, topic), by its wamid: a guest's questions are in the thread in sending order."""
    questions: dict[str, tuple[str, str | None]] = {}
    for guest in guests:
        inbound = [e for e in threads[guest.wa_id] if e["direction"] == "inbound"]
        questions.update({e["wamid"]: (guest.wa_id, topic) for e, topic in zip(inbound, guest.topics, strict=False)})
    return questions


def _cut_off(entry: dict[str, Any]) -> bool:
    """A webhook attempt that failed mid-request: no status, and not a refused connection."""
    webhook = entry["webhook"]
    error = webhook["last_error"] or ""
    return not webhook["acknowledged"] and webhook["last_status"] is None and bool(error) and "Connect" not in error


def _acknowledged(entry: dict[str, Any]) -> bool:
    return entry["direction"] == "inbound" and entry["webhook"]["acknowledged"]
