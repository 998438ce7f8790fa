"""The sandbox's settings: one frozen object read from the environment (and flags) at start-up.

The Meta credentials are the contract's `WHATSAPP_*` variables, shared with the gateway, so one
environment configures both sides. The behaviour knobs (limits, faults, delays) can also be changed while
the sandbox runs, through `PATCH /sandbox/settings`, which replaces the object rather than mutating it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from sandbox.catalog import DEFAULT_CATALOG

DEFAULT_APP_SECRET = "sandbox-app-secret"
DEFAULT_VERIFY_TOKEN = "sandbox-verify-token"
DEFAULT_ACCESS_TOKEN = "sandbox-access-token"
DEFAULT_WEBHOOK_URL = "http://localhost:5005/webhooks/whatsapp/webhook"

WindowErrors = Literal["sync", "async"]


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable and what it accepts."""


@dataclass(frozen=True)
class SandboxSettings:
    host: str = "127.0.0.1"
    port: int = 8008
    webhook_url: str = DEFAULT_WEBHOOK_URL
    public_url: str = ""
    app_secret: str = DEFAULT_APP_SECRET
    verify_token: str = DEFAULT_VERIFY_TOKEN
    access_token: str = DEFAULT_ACCESS_TOKEN
    catalog_path: Path = DEFAULT_CATALOG
    throughput_limit: int = 80
    pair_burst: int = 45
    pair_interval: float = 6.0
    undeliverable: tuple[str, ...] = ("34600000000",)
    window_errors: WindowErrors = "sync"
    fault_error_rate: float = 0.0
    fault_delay_rate: float = 0.0
    fault_delay_ms: int = 0
    status_delay_ms: int = 150
    auto_read: bool = True
    retry_base_ms: int = 500
    retry_max_attempts: int = 10
    retry_max_backoff_ms: int = 60000
    webhook_batch_max: int = 100
    webhook_batch_window_ms: int = 10

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    def public(self) -> dict[str, Any]:
        """The settings as JSON, secrets left out."""
        hidden = {"app_secret", "access_token", "verify_token"}
        return {
            f.name: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
            for f in fields(self)
            if f.name not in hidden
            for v in [getattr(self, f.name)]
        }

    def updated(self, changes: Mapping[str, Any]) -> SandboxSettings:
        """A copy with the run-time knobs in `changes` applied, each checked and converted."""
        unknown = set(changes) - RUNTIME_KNOBS
        if unknown:
            raise SettingsError(f"cannot change {sorted(unknown)} at run time; changeable: {sorted(RUNTIME_KNOBS)}")
        return _checked(replace(self, **{k: _convert(k, v) for k, v in changes.items()}))


#: Settings a test may change while the sandbox runs.
RUNTIME_KNOBS = {
    "webhook_url",
    "throughput_limit",
    "pair_burst",
    "pair_interval",
    "undeliverable",
    "window_errors",
    "fault_error_rate",
    "fault_delay_rate",
    "fault_delay_ms",
    "status_delay_ms",
    "auto_read",
    "retry_base_ms",
    "retry_max_attempts",
    "retry_max_backoff_ms",
    "webhook_batch_max",
    "webhook_batch_window_ms",
}

#: Environment variable of each setting.
ENVIRONMENT = {
    "host": "SANDBOX_HOST",
    "port": "SANDBOX_PORT",
    "webhook_url": "SANDBOX_WEBHOOK_URL",
    "public_url": "SANDBOX_PUBLIC_URL",
    "app_secret": "WHATSAPP_APP_SECRET",
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
    "access_token": "WHATSAPP_ACCESS_TOKEN",
    "catalog_path": "SANDBOX_CATALOG",
    "throughput_limit": "SANDBOX_THROUGHPUT_LIMIT",
    "pair_burst": "SANDBOX_PAIR_BURST",
    "pair_interval": "SANDBOX_PAIR_INTERVAL",
    "undeliverable": "SANDBOX_UNDELIVERABLE",
    "window_errors": "SANDBOX_WINDOW_ERRORS",
    "fault_error_rate": "SANDBOX_FAULT_ERROR_RATE",
    "fault_delay_rate": "SANDBOX_FAULT_DELAY_RATE",
    "fault_delay_ms": "SANDBOX_FAULT_DELAY_MS",
    "status_delay_ms": "SANDBOX_STATUS_DELAY_MS",
    "auto_read": "SANDBOX_AUTO_READ",
    "retry_base_ms": "SANDBOX_RETRY_BASE_MS",
    "retry_max_attempts": "SANDBOX_RETRY_MAX_ATTEMPTS",
    "retry_max_backoff_ms": "SANDBOX_RETRY_MAX_BACKOFF_MS",
    "webhook_batch_max": "SANDBOX_WEBHOOK_BATCH_MAX",
    "webhook_batch_window_ms": "SANDBOX_WEBHOOK_BATCH_WINDOW_MS",
}


def from_environment(environ: Mapping[str, str] = os.environ, **overrides: Any) -> SandboxSettings:
    """Settings from the environment, then from explicit overrides (command-line flags)."""
    values: dict[str, Any] = {}
    for name, variable in ENVIRONMENT.items():
        if environ.get(variable, "") != "":
            values[name] = _convert(name, environ[variable], variable)
    for name, value in overrides.items():
        if value is not None:
            values[name] = _convert(name, value)
    return _checked(SandboxSettings(**values))


def _convert(name: str, value: Any, source: str | None = None) -> Any:
    where = source or name
    kind = {f.name: f.type for f in fields(SandboxSettings)}[name]
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if kind == "Path":
            return Path(value)
        if name == "undeliverable":
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(i).strip().lstrip("+") for i in items if str(i).strip())
        return str(value)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"{where}={value!r} is not a valid {kind}") from error


def _checked(settings: SandboxSettings) -> SandboxSettings:
    if settings.window_errors not in ("sync", "async"):
        raise SettingsError("SANDBOX_WINDOW_ERRORS must be 'sync' (HTTP 400) or 'async' (a failed status webhook)")
    for name in ("fault_error_rate", "fault_delay_rate"):
        if not 0.0 <= getattr(settings, name) <= 1.0:
            raise SettingsError(f"{ENVIRONMENT[name]} must be between 0 and 1")
    if (
        min(settings.throughput_limit, settings.pair_burst, settings.webhook_batch_max) < 1
        or settings.pair_interval <= 0
    ):
        raise SettingsError(
            "throughput_limit, pair_burst and webhook_batch_max must be at least 1, pair_interval above 0"
        )
    if not settings.catalog_path.is_file():
        raise SettingsError(f"SANDBOX_CATALOG: no catalog file at {settings.catalog_path}")
    return settings
