"""Signed, opaque tokens for the links in messages, bound to the deployment's secret key.

Tokens are itsdangerous ``URLSafeTimedSerializer`` tokens: compact JSON, base64, then a
timestamped HMAC. A round makes four per person (unsubscribe and three answer buttons), so
:func:`make_token` builds them with the serializer's public parts (its JSON format,
``base64_encode`` and a cached ``make_signer()`` whose key is derived once), but without
``dumps``' zlib attempt: for a payload of a few ids compression never wins, so the token is the
same, and the attempt cost most of the time (about 200,000 tokens at 50,000 people). The HMAC
is keyed once per purpose and copied for each token (``hmac.new`` per token pads the key and
starts two hashes again each time), as ``TimestampSigner.sign`` would compute it: payload, its
timestamp (``get_timestamp``), then the signature of both. :func:`read_token` reads both kinds.
The JSON encoder is made once (``json.dumps`` with separators builds a new one per call), the
base64 is the standard library's URL-safe alphabet without padding (itsdangerous'
``base64_encode``), and the timestamp's part is encoded once per second.
"""

from __future__ import annotations

import base64
import hmac
import json
from functools import lru_cache
from typing import Any

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
    base64_encode,
)
from itsdangerous.encoding import int_to_bytes

#: The JSON of itsdangerous' URL-safe serializers: compact, not ASCII-escaped.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=32)
def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"fika:{purpose}")


@lru_cache(maxsize=32)
def _signer(secret: str, purpose: str) -> TimestampSigner:
    """The serializer's signer with its key derived once: ``derive_key()`` is what every
    ``sign`` would compute again, so key_derivation "none" on that key signs the same."""
    signer = _serializer(secret, purpose).make_signer()
    return TimestampSigner(
        signer.derive_key(),
        salt=signer.salt,
        sep=signer.sep,
        key_derivation="none",
        digest_method=signer.digest_method,
        algorithm=signer.algorithm,
    )


@lru_cache(maxsize=32)
def _keyed(secret: str, purpose: str) -> tuple[TimestampSigner, bytes, hmac.HMAC]:
    """The signer, its separator and an HMAC keyed with its key, to be copied per token."""
    signer = _signer(secret, purpose)
    return signer, signer.sep, hmac.new(signer.secret_key, digestmod=signer.digest_method)


def make_token(secret: str, purpose: str, data: Any) -> str:
    """A URL-safe token carrying ``data`` that only a holder of ``secret`` can have made."""
    signer, sep, keyed = _keyed(secret, purpose)
    payload = _b64(_COMPACT_JSON.encode(data).encode())
    value = payload + sep + _timestamp(signer.get_timestamp())
    mac = keyed.copy()
    mac.update(value)
    return (value + sep + _b64(mac.digest())).decode("utf-8")


def _b64(raw: bytes) -> bytes:
    """itsdangerous' ``base64_encode``: URL-safe base64 without its ``=`` padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


@lru_cache(maxsize=4)
def _timestamp(seconds: int) -> bytes:
    """The token's timestamp part (the same for every token made within one second)."""
    return base64_encode(int_to_bytes(seconds))


def read_token(secret: str, purpose: str, token: str, max_age: int | None = None) -> Any:
    """The data inside ``token``, or None when it was tampered with, is for another purpose
    or has expired."""
    try:
        return _serializer(secret, purpose).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
