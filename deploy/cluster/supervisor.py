"""supervisord's configuration for the cluster (pure): one program per process, each restarted when it dies.

honcho (`make run`) stops every process when one exits, which is right for a development session and wrong
for a cluster: a replica killed mid-turn must come back on its own while nginx sends its traffic to the
others. Every program inherits the environment `make cluster` was started with (the Meta credentials, the
shared stores, the tokens); each replica adds its own port. Logs go to `CLUSTER_DIR/logs/<program>.log`.
"""

from __future__ import annotations

from pathlib import Path

from deploy.cluster.settings import ClusterSettings

__all__ = ["intake_name", "replica_name", "supervisord_conf"]


def replica_name(number: int) -> str:
    """The supervisord program of the replica `number` (1, 2...), as `supervisorctl` names it."""
    return f"rasa-{number}"


def intake_name(number: int) -> str:
    """The supervisord program of the gateway intake `number` (1, 2...)."""
    return f"intake-{number}"


def _program(name: str, command: str, folder: Path, environment: dict[str, str], priority: int) -> str:
    variables = ",".join(f'{key}="{value}"' for key, value in environment.items())
    return f"""[program:{name}]
command={command}
environment={variables}
priority={priority}
autorestart=true
startsecs=3
startretries=20
stopsignal=TERM
stopwaitsecs=30
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile={folder}/logs/{name}.log
stdout_logfile_maxbytes=50MB
stdout_logfile_backups=2
"""


def supervisord_conf(settings: ClusterSettings, python: str, root: Path) -> str:
    folder = settings.folder
    unbuffered = {"PYTHONUNBUFFERED": "1"}
    programs = []
    if settings.sandbox:
        command = (
            f"{python} -m sandbox --host 127.0.0.1 --port {settings.sandbox_port} --webhook-url {settings.webhook_url}"
        )
        programs.append(_program("sandbox", command, folder, unbuffered, 10))
    actions = {**unbuffered, "ACTION_SERVER_PORT": str(settings.action_server_port)}
    programs.append(_program("actions", f"{python} -m deploy.action_server", folder, actions, 20))
    for number, port in enumerate(settings.intake_ports, start=1):
        intake = {**unbuffered, "GATEWAY_INTAKE_PORT": str(port)}
        programs.append(
            _program(intake_name(number), f"{python} -m connectors.whatsapp.intake_server", folder, intake, 25)
        )
    for number, port in enumerate(settings.rasa_ports, start=1):
        replica = {**unbuffered, "RASA_PORT": str(port), "TRACKER_STORE_DIALECT": "postgresql"}
        replica["GATEWAY_PICKUP_SECONDS"] = settings.pickup_seconds
        programs.append(_program(replica_name(number), f"{python} -m deploy.rasa_server", folder, replica, 30))
    nginx = f"{settings.nginx} -c {folder}/nginx.conf -p {folder}/nginx/"
    programs.append(_program("nginx", nginx, folder, {}, 40))
    return f"""; Written by `make cluster` (deploy/cluster/supervisor.py) at each start: edit that, not this.
[supervisord]
nodaemon=true
directory={root}
logfile={folder}/logs/supervisord.log
pidfile={folder}/supervisord.pid
childlogdir={folder}/logs

[unix_http_server]
file={folder}/supervisor.sock
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{folder}/supervisor.sock

{chr(10).join(programs)}"""
