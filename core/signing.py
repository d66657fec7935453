"""Signed, opaque tokens for the links in messages, bound to the deployment's secret key."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"fika:{purpose}")


def make_token(secret: str, purpose: str, data: Any) -> str:
    """A URL-safe token carrying ``data`` that only a holder of ``secret`` can have made."""
    return _serializer(secret, purpose).dumps(data)


def read_token(secret: str, purpose: str, token: str, max_age: int | None = None) -> Any:
    """The data inside ``token``, or None when it was tampered with, is for another purpose
    or has expired."""
    try:
        return _serializer(secret, purpose).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
