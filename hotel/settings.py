"""Where the hotels' facts and reservations come from: every setting an environment variable, read once into
a typed object that the gateway and the action server build the same way, so both see the same hotels and
the same reservations.

`HotelSettings.from_env()` validates them with a message that names the variable, so a typo in a deployment
stops the process at start-up instead of surfacing as a wrong answer to a guest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

DATA_FOLDER: Final = Path(__file__).resolve().parent / "data"
DEFAULT_FACTS_DIR: Final = DATA_FOLDER / "hotels"
DEFAULT_SEED_FILE: Final = DATA_FOLDER / "reservations.json"

Backend = Literal["sqlite", "http"]


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class HotelSettings:
    facts_dir: Path = DEFAULT_FACTS_DIR
    """One YAML file of facts per business phone number (`HOTEL_FACTS_DIR`)."""
    reservations_backend: Backend = "sqlite"
    reservations_sqlite_path: str = ":memory:"
    """`:memory:` (the default) seeds a fresh database from `reservations_seed_file` at each start."""
    reservations_seed_file: Path = DEFAULT_SEED_FILE
    pms_api_url: str | None = None
    pms_api_token: str | None = None
    pms_timeout_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HotelSettings:
        env = os.environ if env is None else env
        backend = env.get("RESERVATIONS_BACKEND", "sqlite").strip().lower() or "sqlite"
        if backend not in ("sqlite", "http"):
            raise SettingsError(f"RESERVATIONS_BACKEND must be sqlite or http, not {backend!r}")
        pms_url = env.get("PMS_API_URL", "").strip().rstrip("/") or None
        if backend == "http" and not pms_url:
            raise SettingsError("RESERVATIONS_BACKEND=http needs PMS_API_URL (the PMS JSON API's base URL)")
        try:
            timeout = float(env.get("PMS_TIMEOUT_SECONDS", "5"))
        except ValueError as error:
            raise SettingsError(f"PMS_TIMEOUT_SECONDS must be a number of seconds: {error}") from error
        if timeout <= 0:
            raise SettingsError("PMS_TIMEOUT_SECONDS must be more than 0")
        return cls(
            facts_dir=Path(env.get("HOTEL_FACTS_DIR", "").strip() or DEFAULT_FACTS_DIR),
            reservations_backend=backend,  # type: ignore[arg-type]
            reservations_sqlite_path=env.get("RESERVATIONS_SQLITE_PATH", "").strip() or ":memory:",
            reservations_seed_file=Path(env.get("RESERVATIONS_SEED_FILE", "").strip() or DEFAULT_SEED_FILE),
            pms_api_url=pms_url,
            pms_api_token=env.get("PMS_API_TOKEN", "").strip() or None,
            pms_timeout_seconds=timeout,
        )
