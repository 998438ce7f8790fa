"""nginx's configuration (pure) lets an agent's attachment through at the route's own cap, streamed to the
replica, and keeps every other body at Meta's 3 MB."""

from __future__ import annotations

import re
from pathlib import Path

from connectors.whatsapp.agents.attachments import MAX_REQUEST_BYTES
from deploy.cluster.nginx import ATTACHMENT_MAX_BODY, ATTACHMENTS, MAX_BODY, nginx_conf
from deploy.cluster.settings import ClusterSettings

SETTINGS = ClusterSettings(
    port=8080,
    host="127.0.0.1",
    replicas=2,
    first_rasa_port=5005,
    intakes=2,
    first_intake_port=5100,
    pickup_seconds="0.05",
    action_server_port=5055,
    sandbox_port=8008,
    sandbox=True,
    folder=Path("/tmp/cluster"),
    nginx="nginx",
)


def test_the_attachments_route_streams_up_to_its_own_cap_and_the_rest_stays_at_3_mb() -> None:
    conf = nginx_conf(SETTINGS)
    assert int(ATTACHMENT_MAX_BODY) == MAX_REQUEST_BYTES
    assert f"client_max_body_size {MAX_BODY};" in conf
    block = conf.split(f"location ~ {ATTACHMENTS} {{", 1)[1].split("}", 1)[0]
    assert f"client_max_body_size {ATTACHMENT_MAX_BODY};" in block
    assert "proxy_request_buffering off;" in block
    route = re.compile(ATTACHMENTS)
    assert route.match("/webhooks/whatsapp/api/v1/conversations/1000000001/34612345678/attachments")
    assert not route.match("/webhooks/whatsapp/api/v1/conversations/1000000001/34612345678/reply")
    assert not route.match("/webhooks/whatsapp/webhook")


def test_meta_s_webhook_goes_to_the_intakes_and_everything_else_to_the_replicas() -> None:
    conf = nginx_conf(SETTINGS)
    intakes = conf.split("upstream intakes {", 1)[1].split("}", 1)[0]
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", intakes) == ["5100", "5101"]
    webhook = conf.split("location = /webhooks/whatsapp/webhook {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://intakes;" in webhook
    rest = conf.split("location /webhooks/whatsapp/ {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://replicas;" in rest
