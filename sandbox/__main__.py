"""`python -m sandbox`: run the WhatsApp Cloud API sandbox.

Every flag has an environment variable (see `sandbox/settings.py` and the README); flags win.
"""

from __future__ import annotations

import argparse
import logging
import sys

from sandbox.app import create_app
from sandbox.settings import ENVIRONMENT, SettingsError, from_environment


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", help=f"interface to listen on (${ENVIRONMENT['host']}, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help=f"port (${ENVIRONMENT['port']}, default 8008)")
    parser.add_argument("--webhook-url", help=f"the gateway's webhook URL (${ENVIRONMENT['webhook_url']})")
    parser.add_argument("--public-url", help=f"base URL for media links (${ENVIRONMENT['public_url']})")
    parser.add_argument("--throughput-limit", type=int, help="messages per second per number (default 80)")
    parser.add_argument("--pair-burst", type=int, help="burst of messages to one guest (default 45)")
    parser.add_argument("--pair-interval", type=float, help="seconds per message to one guest (default 6)")
    parser.add_argument("--undeliverable", help="comma-separated guest numbers that get 131026")
    parser.add_argument("--window-errors", choices=("sync", "async"), help="131047 as HTTP 400 or failed status")
    parser.add_argument("--fault-error-rate", type=float, help="share of sends answered 500 (131000)")
    parser.add_argument("--fault-delay-rate", type=float, help="share of sends delayed")
    parser.add_argument("--fault-delay-ms", type=int, help="delay of a delayed send")
    parser.add_argument("--status-delay-ms", type=int, help="pause between sent, delivered and read")
    parser.add_argument("--no-auto-read", dest="auto_read", action="store_false", default=None)
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = vars(parse_args(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=args.pop("log_level").upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = from_environment(**args)
    except SettingsError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    app = create_app(settings)
    print(f"Guest phone:     {settings.base_url}/", flush=True)
    print(f"Graph API base:  {settings.base_url}  (set WHATSAPP_API_URL to this)", flush=True)
    print(f"Webhooks go to:  {settings.webhook_url}", flush=True)
    app.run(host=settings.host, port=settings.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
