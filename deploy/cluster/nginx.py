"""nginx's configuration for the cluster (pure): the one door from outside, and what passes through it.

- Only `/webhooks/whatsapp/` (Meta's webhook, the gateway's API and the agents' console) and `/health` pass;
  every other path, Rasa's own API and REST channel among them, is answered 404 by nginx itself. Meta's
  webhook goes to the gateway intakes (`connectors.whatsapp.intake_server`), everything else to the Rasa replicas.
- Bodies over Meta's 3 MB cap are refused by nginx (413) before a replica buffers them, except an agent's
  attachment (`ATTACHMENT_MAX_BODY`, a 100 MB document), streamed to the replica unbuffered, which counts it
  against its own cap as it arrives.
- A replica that refuses the connection, times out or answers 502/503 (a replica stopping answers webhooks
  503) is skipped for the next one. A webhook is resent even after it reached the replica that failed
  (`non_idempotent`): the gateway store keeps each message once whatever replica gets it. Other POSTs (an
  agent's reply) are resent only if they never reached a replica, so none is sent to the guest twice.
"""

from __future__ import annotations

from deploy.cluster.settings import ClusterSettings

__all__ = ["ATTACHMENT_MAX_BODY", "MAX_BODY", "nginx_conf"]

MAX_BODY = "3m"
"""Meta's webhook payloads are at most 3 MB; so is anything an agent posts but a file."""
ATTACHMENT_MAX_BODY = "101000000"
"""The attachments route's own cap in bytes (`connectors.whatsapp.agents.attachments.MAX_REQUEST_BYTES`)."""
ATTACHMENTS = r"^/webhooks/whatsapp/api/v1/conversations/[^/]+/[^/]+/attachments$"

SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
"""On nginx's own answers (404, 413, 503). Only there: a proxied answer carries the gateway's own, and a second
Content-Security-Policy would be enforced on top of it."""


def _proxy(next_upstream: str, read_timeout: str = "60s", upstream: str = "replicas") -> str:
    return f"""proxy_pass http://{upstream};
            proxy_next_upstream {next_upstream};
            proxy_next_upstream_tries 0;
            proxy_read_timeout {read_timeout};"""


def nginx_conf(settings: ClusterSettings) -> str:
    folder = settings.folder
    replicas, intakes = (
        "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;" for port in ports)
        for ports in (settings.rasa_ports, settings.intake_ports)
    )
    return f"""# Written by `make cluster` (deploy/cluster/nginx.py) at each start: edit that, not this.
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/logs/nginx-error.log warn;

events {{
    worker_connections 4096;
}}

http {{
    access_log {folder}/logs/nginx-access.log;
    client_body_temp_path {folder}/nginx/body;
    proxy_temp_path {folder}/nginx/proxy;
    fastcgi_temp_path {folder}/nginx/fastcgi;
    uwsgi_temp_path {folder}/nginx/uwsgi;
    scgi_temp_path {folder}/nginx/scgi;
    default_type application/octet-stream;
    server_tokens off;
    client_max_body_size {MAX_BODY};
    client_body_buffer_size {MAX_BODY};

    upstream replicas {{
{replicas}
        keepalive 64;
    }}

    upstream intakes {{
{intakes}
        keepalive 64;
    }}

    server {{
        listen {settings.host}:{settings.port};
        error_page 413 @too_large;
        error_page 502 504 =503 @unavailable;

        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_connect_timeout 2s;

        location = /webhooks/whatsapp/webhook {{
            {_proxy("error timeout http_502 http_503 http_504 non_idempotent", "30s", "intakes")}
        }}

        location = /webhooks/whatsapp/api/v1/events {{
            {_proxy("error timeout http_502 http_503", "1h")}
            proxy_buffering off;
        }}

        location ~ {ATTACHMENTS} {{
            {_proxy("error timeout", "300s")}
            client_max_body_size {ATTACHMENT_MAX_BODY};
            proxy_request_buffering off;
        }}

        location /webhooks/whatsapp/ {{
            {_proxy("error timeout http_502 http_503")}
        }}

        location = /health {{
            proxy_pass http://replicas/webhooks/whatsapp/;
            proxy_next_upstream error timeout http_502 http_503;
        }}

{_own_answers()}
    }}
}}
"""


def _own_answers() -> str:
    """The locations whose answers nginx makes itself, each with the security headers."""
    headers = "\n".join(f'            add_header {name} "{value}" always;' for name, value in SECURITY_HEADERS)
    return f"""        location / {{
{headers}
            return 404;
        }}

        location @too_large {{
{headers}
            default_type application/json;
            return 413 '{{"error": "the body is over 3 MB, the most Meta sends"}}';
        }}

        location @unavailable {{
{headers}
            default_type application/json;
            return 503 '{{"error": "no replica answered in time; try again"}}';
        }}"""
