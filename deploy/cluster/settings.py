"""The cluster's settings, read from the environment, and every reason it cannot start, named at once.

Several replicas only answer each guest once if they share what one Rasa server keeps to itself: the gateway
store and the trackers (PostgreSQL), the conversation locks (Redis, or two replicas run one guest's turns at
once) and the pacing counters (Redis). A cluster on the single-machine defaults would look fine and answer
twice, so it refuses to start instead, saying what to set.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.rasa_server import ROOT, RasaServerSettings, SettingsError

__all__ = ["ClusterSettings", "ClusterSettingsError"]

SHARED_STORES = {
    "GATEWAY_DATABASE_URL": (("postgresql+asyncpg://",), "postgresql+asyncpg://user:password@host/db"),
    "TRACKER_STORE_URL": (("postgresql://",), "postgresql://user:password@host/db"),
    "LOCK_STORE_URL": (("redis://", "rediss://"), "redis://host:6379/1"),
    "GATEWAY_REDIS_URL": (("redis://", "rediss://"), "redis://host:6379/0"),
}
"""What every replica must share -> (the URL schemes that can, an example)."""


class ClusterSettingsError(ValueError):
    """Everything that keeps the cluster from starting, one line each."""


@dataclass(frozen=True)
class ClusterSettings:
    port: int
    host: str
    replicas: int
    first_rasa_port: int
    intakes: int
    """Gateway intakes (`connectors.whatsapp.intake_server`): nginx gives them Meta's webhooks; the replicas run
    the turns."""
    first_intake_port: int
    pickup_seconds: str
    """How often each replica looks for what the intakes recorded (`GATEWAY_PICKUP_SECONDS`, 0.05 here)."""
    action_server_port: int
    sandbox_port: int
    sandbox: bool
    folder: Path
    nginx: str

    @property
    def rasa_ports(self) -> list[int]:
        return [self.first_rasa_port + n for n in range(self.replicas)]

    @property
    def intake_ports(self) -> list[int]:
        return [self.first_intake_port + n for n in range(self.intakes)]

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/whatsapp/webhook"

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> ClusterSettings:
        problems = [problem for name in SHARED_STORES if (problem := _shared_store_problem(env, name))]
        try:
            RasaServerSettings.from_environment(env)  # what each replica's launcher would refuse, said up front
        except SettingsError as error:
            problems.append(str(error))
        numbers = {}
        for name, default in (
            ("CLUSTER_PORT", 8080),
            ("CLUSTER_REPLICAS", 2),
            ("CLUSTER_RASA_PORT", 5005),
            ("CLUSTER_INTAKES", 2),
            ("CLUSTER_INTAKE_PORT", 5100),
            ("ACTION_SERVER_PORT", 5055),
            ("SANDBOX_PORT", 8008),
        ):
            value = env.get(name) or str(default)
            if not value.isdigit() or int(value) < 1:
                problems.append(f"{name}={value!r} is not a positive whole number")
            numbers[name] = int(value) if value.isdigit() else default
        nginx = env.get("CLUSTER_NGINX") or shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
        if not nginx:
            problems.append("nginx is not installed: apt-get install nginx (or set CLUSTER_NGINX to its path)")
        if problems:
            raise ClusterSettingsError("make cluster cannot start:\n" + "\n".join(f"  - {p}" for p in problems))
        return cls(
            port=numbers["CLUSTER_PORT"],
            host=env.get("CLUSTER_HOST") or "127.0.0.1",
            replicas=numbers["CLUSTER_REPLICAS"],
            first_rasa_port=numbers["CLUSTER_RASA_PORT"],
            intakes=numbers["CLUSTER_INTAKES"],
            first_intake_port=numbers["CLUSTER_INTAKE_PORT"],
            pickup_seconds=env.get("GATEWAY_PICKUP_SECONDS") or "0.05",
            action_server_port=numbers["ACTION_SERVER_PORT"],
            sandbox_port=numbers["SANDBOX_PORT"],
            sandbox=env.get("CLUSTER_SANDBOX", "true").strip().lower() not in ("0", "false", "no", "off"),
            folder=Path(env.get("CLUSTER_DIR") or ROOT / "var" / "cluster"),
            nginx=str(nginx),
        )


def _shared_store_problem(env: Mapping[str, str], name: str) -> str | None:
    schemes, example = SHARED_STORES[name]
    value = env.get(name, "")
    if value.startswith(schemes):
        return None
    what = "PostgreSQL" if "postgresql" in schemes[0] else "Redis"
    found = f"is {value.split('://')[0]}://" if value else "is not set"
    return f"{name} {found}: every replica must share it on {what} ({name}={example})"
