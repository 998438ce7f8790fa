"""`python -m deploy.cluster` (`make cluster`): check the settings, write nginx's and supervisord's
configuration under `CLUSTER_DIR`, have nginx check its own, then become supervisord (Ctrl-C stops it all)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deploy.cluster.nginx import nginx_conf
from deploy.cluster.settings import ClusterSettings, ClusterSettingsError
from deploy.cluster.supervisor import supervisord_conf
from deploy.rasa_server import ROOT


def main() -> None:
    try:
        settings = ClusterSettings.from_environment(os.environ)
    except ClusterSettingsError as error:
        sys.exit(str(error))
    folder = settings.folder
    for part in ("logs", "nginx"):
        (folder / part).mkdir(parents=True, exist_ok=True)
    (folder / "nginx.conf").write_text(nginx_conf(settings))
    python = sys.executable
    (folder / "supervisord.conf").write_text(supervisord_conf(settings, python, ROOT))
    checked = subprocess.run(
        [settings.nginx, "-t", "-q", "-c", str(folder / "nginx.conf"), "-p", f"{folder}/nginx/"],
        capture_output=True,
        text=True,
    )
    if checked.returncode != 0:
        sys.exit(f"make cluster: nginx refused its configuration ({folder / 'nginx.conf'}):\n{checked.stderr}")
    ports = ", ".join(str(port) for port in settings.rasa_ports)
    print(f"  nginx (the only public door):  http://{settings.host}:{settings.port}/webhooks/whatsapp/")
    print(f"  agents' console:               http://{settings.host}:{settings.port}/webhooks/whatsapp/console/")
    print(f"  Rasa replicas on 127.0.0.1:    {ports} (their API wants ?token=$RASA_API_TOKEN)")
    intakes = ", ".join(str(port) for port in settings.intake_ports)
    print(f"  gateway intakes on 127.0.0.1:  {intakes} (Meta's webhooks)")
    if settings.sandbox:
        print(f"  sandbox and guest phone:       http://127.0.0.1:{settings.sandbox_port}/")
    print(f"  logs and state:                {folder}/logs/ (supervisorctl -c {folder}/supervisord.conf status)")
    sys.stdout.flush()
    supervisord = str(Path(python).with_name("supervisord"))
    os.execv(supervisord, [supervisord, "-c", str(folder / "supervisord.conf")])


if __name__ == "__main__":
    main()
