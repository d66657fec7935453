"""Signed, opaque tokens for links in messages (unsubscribe, actions), bound to SECRET_KEY."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"fika:{purpose}")


def make_token(purpose: str, data) -> str:
    """A URL-safe token carrying ``data`` that only this server can have made."""
    return _serializer(purpose).dumps(data)


def read_token(purpose: str, token: str, max_age: int | None = None):
    """The data inside ``token``, or None when it was tampered with or has expired."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
