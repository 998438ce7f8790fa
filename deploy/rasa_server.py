"""`python -m deploy.rasa_server`: `rasa run` with the WhatsApp channel, locked down unless told otherwise.

Rasa's HTTP API hands out every guest's tracker and lets its caller make the hotel send paid templates
(`trigger_intent`), and its REST channel answers as any guest whose sender id the caller types. So this
launcher never starts Rasa without a token on the API (`RASA_API_TOKEN`, or `RASA_JWT_SECRET` for signed
JWTs), binds loopback unless `RASA_HOST` says otherwise, and serves the REST channel only with
`RASA_REST_CHANNEL=true` (a development tool and the benchmarks' baseline). It replaces itself with `rasa run`
(exec), so the process a supervisor starts, signals and restarts is the Rasa server itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RasaServerSettings", "SettingsError", "credentials_file", "main", "rasa_command"]

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = ROOT / "credentials.yml"
ENDPOINTS = ROOT / "endpoints.yml"
DEFAULT_MODEL = ROOT / "models" / "hotel.tar.gz"
TRUE = frozenset({"1", "true", "yes", "on"})


class SettingsError(ValueError):
    """A setting that would leave the server open or cannot be read; the message says what to set."""


@dataclass(frozen=True)
class RasaServerSettings:
    host: str
    port: int
    api_token: str
    jwt_secret: str
    jwt_method: str
    rest_channel: bool
    model: Path

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> RasaServerSettings:
        api_token, jwt_secret = env.get("RASA_API_TOKEN", ""), env.get("RASA_JWT_SECRET", "")
        if not api_token and not jwt_secret:
            raise SettingsError(
                "Rasa's HTTP API would answer anyone who reaches the server with every guest's conversation: "
                "set RASA_API_TOKEN to a long random string (or RASA_JWT_SECRET for signed JWTs). "
                "make run sets a sandbox one."
            )
        port = env.get("RASA_PORT", "5005")
        if not port.isdigit():
            raise SettingsError(f"RASA_PORT={port!r} is not a port number")
        return cls(
            host=env.get("RASA_HOST") or "127.0.0.1",
            port=int(port),
            api_token=api_token,
            jwt_secret=jwt_secret,
            jwt_method=env.get("RASA_JWT_METHOD") or "HS256",
            rest_channel=env.get("RASA_REST_CHANNEL", "").strip().lower() in TRUE,
            model=Path(env.get("RASA_MODEL") or DEFAULT_MODEL),
        )


def credentials_file(settings: RasaServerSettings, folder: Path) -> Path:
    """credentials.yml as it is, or a copy of it under `folder` with Rasa's REST channel added.

    Written whole to a temporary name and renamed, so replicas starting at once never read half a file."""
    if not settings.rest_channel:
        return CREDENTIALS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "credentials-with-rest.yml"
    partial = folder / f".credentials-with-rest.{os.getpid()}.yml"
    partial.write_text(f"{CREDENTIALS.read_text(encoding='utf-8')}\n# RASA_REST_CHANNEL=true\nrest:\n")
    partial.replace(target)
    return target


def rasa_command(rasa: str, settings: RasaServerSettings, credentials: Path) -> list[str]:
    """The `rasa run` command line for `settings` (pure)."""
    command = [rasa, "run", "--enable-api", "--interface", settings.host, "--port", str(settings.port)]
    command += ["--credentials", str(credentials), "--endpoints", str(ENDPOINTS), "--model", str(settings.model)]
    if settings.api_token:
        command += ["--auth-token", settings.api_token]
    if settings.jwt_secret:
        command += ["--jwt-secret", settings.jwt_secret, "--jwt-method", settings.jwt_method]
    return command


def main() -> None:
    try:
        settings = RasaServerSettings.from_environment(os.environ)
    except SettingsError as error:
        sys.exit(f"deploy.rasa_server: {error}")
    if not settings.model.is_file():
        sys.exit(f"deploy.rasa_server: no trained model at {settings.model}: run 'make train'")
    rasa = str(Path(sys.executable).with_name("rasa"))
    command = rasa_command(rasa, settings, credentials_file(settings, ROOT / "var" / "rasa"))
    os.execv(rasa, command)


if __name__ == "__main__":
    main()
