"""`make cluster` for the cluster test and benchmark: `python -m deploy.cluster` on free ports, its stores fresh
PostgreSQL databases and Redis from `TEST_REDIS_URL`, its configuration, logs and state in a test folder.

Started exactly as `make cluster` starts it (the same module, supervisord, nginx); only the ports, the folder
and the stores are the test's. Replicas are killed with SIGKILL through the pid supervisord reports.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.cluster.supervisor import intake_name, replica_name
from tests.crash.stores import postgres_admin_url, store_target
from tests.processes import PYTHON, base_environment, require_model, wait_until_answering
from tests.support import ACCESS_TOKEN, ACTION_SERVER_TOKEN, APP_SECRET, RASA_API_TOKEN, ROOT, VERIFY_TOKEN, free_port

AGENT_TOKEN = "cluster-agent-token"
SUPERVISORCTL = str(ROOT / ".venv" / "bin" / "supervisorctl")


def missing_parts() -> str | None:
    """Why the cluster cannot run here, or None."""
    if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")):
        return "nginx is not installed (.ci/run installs Debian's package)"
    if postgres_admin_url() is None:
        return "TEST_POSTGRES_URL is not set: the cluster's replicas share PostgreSQL (.ci/run sets it)"
    if not os.environ.get("TEST_REDIS_URL"):
        return "TEST_REDIS_URL is not set: the cluster's replicas share Redis (.ci/run sets it)"
    return None


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    folder: Path
    url: str
    """nginx: the cluster's only public door."""
    replicas: list[str]
    intakes: list[str]
    sandbox: str

    def pid(self, program: str) -> int:
        return int(self._supervisorctl("pid", program).strip())

    def replica_pid(self, number: int) -> int:
        return self.pid(replica_name(number))

    def kill(self, program: str) -> int:
        """SIGKILL the supervisord program `program` (`replica_name`, `intake_name`); supervisord starts it
        again. Answers the killed pid."""
        pid = self.pid(program)
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_replica(self, number: int) -> int:
        return self.kill(replica_name(number))

    def kill_intake(self, number: int) -> int:
        return self.kill(intake_name(number))

    def status(self) -> str:
        return self._supervisorctl("status")

    def wait_ready(self, timeout: float = 300) -> None:
        """Until the sandbox, every intake and replica and then nginx's health route answer."""
        gateways = [*self.intakes, *self.replicas]
        urls = [f"{self.sandbox}/sandbox/config", *(f"{g}/webhooks/whatsapp/" for g in gateways)]
        wait_until_answering(
            [*urls, f"{self.url}/health"], self.process, lambda: f"{self.status()}\n{self.log()}", timeout
        )

    def log(self, tail: int = 3000) -> str:
        logs = sorted((self.folder / "logs").glob("*.log"))
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}" for path in logs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def _supervisorctl(self, *arguments: str) -> str:
        command = [SUPERVISORCTL, "-c", str(self.folder / "supervisord.conf"), *arguments]
        return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout


@contextmanager
def running_cluster(folder: Path, replicas: int = 2, intakes: int = 2, **settings: str) -> Iterator[Cluster]:
    """A started cluster, its stores fresh, stopped and dropped afterwards."""
    require_model()
    folder.mkdir(parents=True, exist_ok=True)
    with store_target("postgresql", folder) as stores:
        port, rasa_port, sandbox_port, actions_port = free_port(), _free_range(replicas), free_port(), free_port()
        intake_port = _free_range(intakes)
        env = base_environment()
        env.update(
            stores.rasa_environment(),
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
            WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN,
            WHATSAPP_API_URL=f"http://127.0.0.1:{sandbox_port}",
            LOCK_STORE_URL=os.environ["TEST_REDIS_URL"],
            GATEWAY_REDIS_URL=os.environ["TEST_REDIS_URL"],
            GATEWAY_API_TOKENS=f"frontdesk:agent:*:{AGENT_TOKEN}",
            RASA_API_TOKEN=RASA_API_TOKEN,
            ACTION_SERVER_TOKEN=ACTION_SERVER_TOKEN,
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
            ACTION_SERVER_PORT=str(actions_port),
            CLUSTER_PORT=str(port),
            CLUSTER_REPLICAS=str(replicas),
            CLUSTER_RASA_PORT=str(rasa_port),
            CLUSTER_INTAKES=str(intakes),
            CLUSTER_INTAKE_PORT=str(intake_port),
            SANDBOX_PORT=str(sandbox_port),
            SANDBOX_RETRY_BASE_MS="200",
            SANDBOX_STATUS_DELAY_MS="20",
            CLUSTER_DIR=str(folder / "cluster"),
        )
        env.update(settings)
        with (folder / "make-cluster.log").open("w") as output:
            process = subprocess.Popen(
                [PYTHON, "-m", "deploy.cluster"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        cluster = Cluster(
            process,
            folder / "cluster",
            f"http://127.0.0.1:{port}",
            [f"http://127.0.0.1:{rasa_port + n}" for n in range(replicas)],
            [f"http://127.0.0.1:{intake_port + n}" for n in range(intakes)],
            f"http://127.0.0.1:{sandbox_port}",
        )
        try:
            cluster.wait_ready()
            yield cluster
        finally:
            cluster.stop()


def _free_range(count: int) -> int:
    """The first of `count` consecutive free ports (the replicas take CLUSTER_RASA_PORT onwards, the intakes
    CLUSTER_INTAKE_PORT onwards)."""
    for _ in range(50):
        first = free_port()
        if all(_port_is_free(first + n) for n in range(1, count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports")


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
