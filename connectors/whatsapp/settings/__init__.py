"""The gateway's settings: one frozen object, read once at start-up from credentials.yml and the environment.

credentials.yml carries the Meta credentials (`${WHATSAPP_*}` interpolated by Rasa); everything else has an
environment variable with an embedded default. A missing or impossible value stops the start with a message
that names the variable and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cloudapi.graph import GraphConfig
from connectors.whatsapp.settings.automation import (
    AutomationSettings,
    AutomationSettingsError,
    load_automation_settings,
)
from connectors.whatsapp.tokens import ApiToken, TokenSpecError, parse_tokens
from hotel.settings import HotelSettings
from hotel.settings import SettingsError as HotelSettingsError

__all__ = [
    "AutomationSettings",
    "GatewaySettings",
    "SettingsError",
    "load_settings",
]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'gateway.db'}"
DEFAULT_MEDIA_URL = str(PROJECT_ROOT / "var" / "media")

ReplyContext = Literal["never", "auto", "always"]


class SettingsError(ValueError):
    """A setting the gateway cannot start with."""


@dataclass(frozen=True)
class GatewaySettings:
    app_secret: str
    verify_token: str
    access_token: str
    api_url: str = "https://graph.facebook.com"
    api_version: str = "v23.0"
    database_url: str = DEFAULT_DATABASE_URL
    reply_context: ReplyContext = "auto"
    mark_read: bool = True
    typing_indicator: bool = True
    process_inbox: bool = True
    """False: the process only verifies, stores and acknowledges webhooks; another records and answers them."""
    run_turns: bool = True
    """False: the process records what webhooks carry but runs no bot turn (`connectors.whatsapp.intake_server`):
    its guest messages are picked up by the processes that run Rasa, each looking every `pickup_seconds`."""
    pickup_seconds: float = 0.0
    """How often a process that runs turns looks for what an intake recorded; 0 leaves it to the heartbeat's
    look for stopped processes' messages (every third of `worker_timeout_seconds`), so a process with no
    intake in front of it (`make run`) does not ask the store 20 times a second for nothing."""
    claim_lease_seconds: float = 60.0
    sweep_seconds: float = 30.0
    worker_timeout_seconds: float = 10.0
    """A process that has not beaten for this long is taken as stopped: another takes over its guest messages."""
    turn_attempts: int = 3
    """Tries of a bot turn that failed (Rasa raised, or an action failed) before the guest is told reception will
    answer and the thread goes to the queue (reason `bot_error`)."""
    turn_retry_seconds: float = 2.0
    resend_wait_seconds: float = 10.0
    """How long a send whose fate is unknown waits for a status webhook naming it (WhatsApp may have it; the
    statuses tell): one a stopped process was making, before it is sent again; one whose answer never came,
    before the conversation goes on."""
    max_body_bytes: int = 3 * 1024 * 1024
    send_timeout_seconds: float = 10.0
    send_max_attempts: int = 5
    send_backoff_seconds: float = 0.5
    api_tokens: tuple[ApiToken, ...] = ()
    handoff_idle_release_minutes: float = 0.0
    hotel: HotelSettings = field(default_factory=HotelSettings)
    """Where the hotels' facts and reservations are (`HOTEL_FACTS_DIR`, `RESERVATIONS_BACKEND`, `PMS_API_URL`,
    ...): read from the same variables as the action server's, so both see the same hotels and reservations."""
    automation: AutomationSettings = field(default_factory=AutomationSettings)
    media_url: str = DEFAULT_MEDIA_URL
    """Where guests' media and agents' attachments are kept: a folder (beside the store's SQLite file by
    default) or `s3://bucket/prefix`, reached with the standard AWS variables (`media.backends`)."""
    media_retention_days: float = 0.0
    """Files kept longer than this are deleted by the media sweep; 0 keeps them."""
    media_retry_seconds: float = 30.0
    """The first wait before a media download that failed is tried again; each next wait is twice as long."""

    @property
    def graph(self) -> GraphConfig:
        """The Graph API client's settings: the credentials, the version and how hard a send tries."""
        return GraphConfig(
            api_url=self.api_url,
            access_token=self.access_token,
            api_version=self.api_version,
            timeout_seconds=self.send_timeout_seconds,
            max_attempts=self.send_max_attempts,
            backoff_seconds=self.send_backoff_seconds,
        )


#: setting -> (credentials.yml key, environment variable)
SOURCES: dict[str, tuple[str | None, str]] = {
    "app_secret": ("app_secret", "WHATSAPP_APP_SECRET"),
    "verify_token": ("verify_token", "WHATSAPP_VERIFY_TOKEN"),
    "access_token": ("access_token", "WHATSAPP_ACCESS_TOKEN"),
    "api_url": ("api_url", "WHATSAPP_API_URL"),
    "api_version": ("api_version", "WHATSAPP_API_VERSION"),
    "database_url": (None, "GATEWAY_DATABASE_URL"),
    "reply_context": (None, "WHATSAPP_REPLY_CONTEXT"),
    "mark_read": (None, "WHATSAPP_MARK_READ"),
    "typing_indicator": (None, "WHATSAPP_TYPING_INDICATOR"),
    "process_inbox": (None, "GATEWAY_PROCESS_INBOX"),
    "run_turns": (None, "GATEWAY_RUN_TURNS"),
    "pickup_seconds": (None, "GATEWAY_PICKUP_SECONDS"),
    "claim_lease_seconds": (None, "GATEWAY_CLAIM_LEASE_SECONDS"),
    "sweep_seconds": (None, "GATEWAY_SWEEP_SECONDS"),
    "worker_timeout_seconds": (None, "GATEWAY_WORKER_TIMEOUT_SECONDS"),
    "turn_attempts": (None, "GATEWAY_TURN_ATTEMPTS"),
    "turn_retry_seconds": (None, "GATEWAY_TURN_RETRY_SECONDS"),
    "resend_wait_seconds": (None, "GATEWAY_RESEND_WAIT_SECONDS"),
    "max_body_bytes": (None, "GATEWAY_MAX_BODY_BYTES"),
    "send_timeout_seconds": (None, "WHATSAPP_SEND_TIMEOUT_SECONDS"),
    "send_max_attempts": (None, "WHATSAPP_SEND_MAX_ATTEMPTS"),
    "send_backoff_seconds": (None, "WHATSAPP_SEND_BACKOFF_SECONDS"),
    "handoff_idle_release_minutes": (None, "HANDOFF_IDLE_RELEASE_MINUTES"),
    "media_url": (None, "GATEWAY_MEDIA_URL"),
    "media_retention_days": (None, "GATEWAY_MEDIA_RETENTION_DAYS"),
    "media_retry_seconds": (None, "GATEWAY_MEDIA_RETRY_SECONDS"),
}
_REQUIRED = ("app_secret", "verify_token", "access_token")


def load_settings(credentials: Mapping[str, Any] | None, environ: Mapping[str, str] = os.environ) -> GatewaySettings:
    """Settings from credentials.yml first, then the environment, then the defaults."""
    values: dict[str, Any] = {}
    for name, (key, variable) in SOURCES.items():
        raw = (credentials or {}).get(key) if key else None
        if raw in (None, ""):
            raw = environ.get(variable)
        if raw not in (None, ""):
            values[name] = _convert(name, raw, variable)
    missing = [SOURCES[name][1] for name in _REQUIRED if name not in values]
    if missing:
        raise SettingsError(
            f"{', '.join(missing)} not set: put the Meta app's credentials in the environment "
            "(make run gives them sandbox defaults) or under connectors.whatsapp.channel.WhatsAppInput "
            "in credentials.yml"
        )
    try:
        values["api_tokens"] = parse_tokens(environ.get("GATEWAY_API_TOKENS", ""))
    except TokenSpecError as error:
        raise SettingsError(str(error)) from error
    try:
        values["hotel"] = HotelSettings.from_env(environ)
    except HotelSettingsError as error:
        raise SettingsError(str(error)) from error
    try:
        values["automation"] = load_automation_settings(environ)
    except AutomationSettingsError as error:
        raise SettingsError(str(error)) from error
    settings = GatewaySettings(**values)
    if settings.reply_context not in ("never", "auto", "always"):
        raise SettingsError("WHATSAPP_REPLY_CONTEXT must be never, auto (quote when the guest wrote again) or always")
    if settings.handoff_idle_release_minutes < 0:
        raise SettingsError("HANDOFF_IDLE_RELEASE_MINUTES must be 0 (held threads stay held) or more")
    if settings.pickup_seconds < 0:
        raise SettingsError("GATEWAY_PICKUP_SECONDS must be 0 (with the heartbeat) or more (0.05: 20 times a second)")
    if settings.turn_attempts < 1 or settings.worker_timeout_seconds <= 0:
        raise SettingsError("GATEWAY_TURN_ATTEMPTS must be 1 or more and GATEWAY_WORKER_TIMEOUT_SECONDS above 0")
    if not settings.api_url.startswith(("http://", "https://")):
        raise SettingsError(f"WHATSAPP_API_URL={settings.api_url!r} must be an http(s) URL")
    _check_media(settings)
    return settings


def _check_media(settings: GatewaySettings) -> None:
    scheme = settings.media_url.partition("://")[0] if "://" in settings.media_url else ""
    if scheme not in ("", "file", "s3") or (scheme == "s3" and not settings.media_url[5:].split("/")[0]):
        raise SettingsError(
            f"GATEWAY_MEDIA_URL={settings.media_url!r} must be a folder or s3://bucket/prefix (a bucket named)"
        )
    if settings.media_retention_days < 0 or settings.media_retry_seconds <= 0:
        raise SettingsError(
            "GATEWAY_MEDIA_RETENTION_DAYS must be 0 (keep every file) or more, GATEWAY_MEDIA_RETRY_SECONDS above 0"
        )


def _convert(name: str, raw: Any, variable: str) -> Any:
    kind = GatewaySettings.__dataclass_fields__[name].type
    try:
        if kind == "bool":
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as error:
        raise SettingsError(f"{variable}={raw!r} is not a valid {kind}") from error
    return str(raw)
