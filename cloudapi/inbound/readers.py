"""Tolerant readers of the JSON values in a webhook: each gives the value when it has the type Meta documents,
and None (or an empty value) otherwise, so that the parsers can read any body without checks and without
raising. Shared by the parsers of messages, of their content and of the account and template fields.
"""

import math
import re
from collections.abc import Mapping
from typing import Any

from cloudapi.errors import ErrorInfo, parse_error_info

_DIGITS = re.compile(r"[0-9]{1,19}")


def read_str(data: Mapping[str, Any], key: str) -> str | None:
    """A non-empty string, or an integer written as one (Meta sends some ids as numbers)."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def read_text(data: Mapping[str, Any], key: str) -> str:
    """A string that may legitimately be empty (a removed reaction, a blank order note)."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def read_int(data: Mapping[str, Any], key: str) -> int | None:
    """An integer, as a number or as the string of digits Meta uses for timestamps."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None


def read_float(data: Mapping[str, Any], key: str) -> float | None:
    """A finite number: coordinates and prices, never NaN or infinity."""
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def read_bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def read_object(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object, or an empty one so that readers can go on without checks."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def read_list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def read_first_str(data: Mapping[str, Any], *keys: str) -> str | None:
    """The first of `keys` that holds a string: for a value Meta's pages name in more than one way."""
    return next((value for key in keys if (value := read_str(data, key)) is not None), None)


def read_errors(data: Mapping[str, Any]) -> tuple[ErrorInfo, ...]:
    """Every error object of `data["errors"]`, not only the first."""
    infos = (parse_error_info(item) for item in read_list(data, "errors"))
    return tuple(info for info in infos if info is not None)
