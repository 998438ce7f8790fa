"""Meta's webhook signature: HMAC-SHA256 of the raw body with the app secret (`X-Hub-Signature-256`).

The check runs on the raw bytes before any JSON parsing, compares in constant time and never lets the request
choose the hash algorithm: a header naming anything other than sha256 is simply wrong.
"""

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "is_valid_signature", "signature_for"]

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def signature_for(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for `body`: `sha256=<64 lowercase hex>`; also what the sandbox signs with."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def is_valid_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `header` is the signature of `body` under `app_secret`; a missing or malformed header is invalid.

    Non-ASCII header text is rejected up front because `hmac.compare_digest` refuses non-ASCII strings, and a
    request must never be able to turn a signature check into an exception. An empty app secret never
    validates: anyone could compute that signature.
    """
    if not app_secret or not isinstance(header, str) or not header.isascii():
        return False
    return hmac.compare_digest(signature_for(body, app_secret), header)
