"""Signed webhooks acknowledged per second by the channel, and p50/p99 acknowledgement latency, on SQLite
and PostgreSQL, beside a bare Sanic handler answering 200 to the same request in the same run.

Load comes from wrk (Debian's `wrk`: a C load generator, so the client is not the bottleneck); every request
is the same signed webhook of one guest message, so each is verified and stored, and all but the first are
recognised as duplicates by the background processing. Target: at least 1,000 acknowledged per second.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import start
from tests.gateway_support import empty_database, postgres_url
from tests.support import free_port

SECONDS = 10
CONNECTIONS = 32
SECRET = "sandbox-app-secret"
WEBHOOK = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "2000000001",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": "34952000001", "phone_number_id": "1000000001"},
                        "contacts": [{"profile": {"name": "Lucía Fernández"}, "wa_id": "34612345678"}],
                        "messages": [
                            {
                                "from": "34612345678",
                                "id": "wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQzQUJDREVGMDEyMzQ1Njc4OTAA",
                                "timestamp": "1795560000",
                                "type": "text",
                                "text": {"body": "¿A qué hora es el check-in?"},
                            }
                        ],
                    },
                }
            ],
        }
    ],
}


@dataclass(frozen=True)
class WrkFigures:
    label: str
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: str

    def line(self) -> str:
        figures = f"{self.per_second:>9.0f}/s   p50 {self.p50_ms:6.2f} ms   p99 {self.p99_ms:6.2f} ms"
        return f"  {self.label:<34} {figures}{self.errors}"


def _script(folder: Path) -> Path:
    body = json.dumps(WEBHOOK, ensure_ascii=False, separators=(",", ":"))
    signature = "sha256=" + hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    script = folder / "webhook.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{body}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["X-Hub-Signature-256"] = "{signature}"\n',
        encoding="utf-8",
    )
    return script


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(label: str, url: str, script: Path) -> WrkFigures:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(re.search(r"50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _milliseconds(re.search(r"99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    problems = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = f"   ({problems.group(1)} non-2xx!)" if problems else ""
    return WrkFigures(label, rate, p50, p99, errors)


def main() -> None:
    if shutil.which("wrk") is None:
        print("Webhook acknowledgement: skipped, wrk is not installed (apt-get install wrk)")
        return
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
        script = _script(Path(folder))
        databases = [("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db")]
        if postgres_url():
            databases.append(("PostgreSQL", postgres_url()))
        bare_port = free_port()
        bare = start(["benchmarks.bare_sanic", "--port", str(bare_port)], f"http://127.0.0.1:{bare_port}/ready")
        try:
            figures = [wrk("bare Sanic handler (baseline)", f"http://127.0.0.1:{bare_port}/webhook", script)]
        finally:
            bare.terminate()
            bare.wait(timeout=30)
        for name, url in databases:
            if name == "PostgreSQL":
                asyncio.run(empty_database(url))
            port = free_port()
            gateway = start(
                ["benchmarks.gateway_app", "--port", str(port), "--database-url", url],
                f"http://127.0.0.1:{port}/webhooks/whatsapp/",
            )
            try:
                figures.append(wrk(f"channel on {name}", f"http://127.0.0.1:{port}/webhooks/whatsapp/webhook", script))
            finally:
                gateway.terminate()
                gateway.wait(timeout=30)
    print(f"Webhook acknowledgement: wrk, {CONNECTIONS} connections, {SECONDS} s each, one signed text webhook")
    for figure in figures:
        print(figure.line())
    for figure in figures[1:]:
        share = figure.per_second / figures[0].per_second
        verdict = "meets" if figure.per_second >= 1000 else "MISSES"
        print(f"  {figure.label}: {share:.2f}x the baseline's rate; {verdict} the 1,000/s target")


if __name__ == "__main__":
    main()
