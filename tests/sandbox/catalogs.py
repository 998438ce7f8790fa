"""Catalogs for tests that need a template the sample catalog does not ship (HOTELS.md lists its templates)."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.catalog import DEFAULT_CATALOG

LOGIN_CODE = {
    "id": "3000000091",
    "name": "login_code",
    "language": "es",
    "category": "AUTHENTICATION",
    "status": "APPROVED",
    "body": "{{1}} es su código de verificación.",
    "example": ["482913"],
}


def with_login_code(directory: Path) -> Path:
    """The sample catalog plus an authentication template, `login_code` in `es`, written under `directory`."""
    catalog = json.loads(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    catalog["business_accounts"][0]["templates"].append(LOGIN_CODE)
    path = directory / "catalog_with_login_code.json"
    path.write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    return path
