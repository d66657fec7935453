"""Bearer tokens for the JSON API: created once, shown once, stored as a SHA-256 hash.

The secret has 256 bits of randomness, so a fast hash is enough (there is nothing to brute-force
as there would be with a password), and lookups stay one indexed query.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import select

from core.db import db
from core.models import ApiToken

PREFIX = "fika_"


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(name: str, created_by: str) -> tuple[ApiToken, str]:
    """A new token row (added, not committed) and the secret to show exactly once."""
    name = name.strip()
    if not name:
        raise ValueError("name: give the token a name (e.g. the HR system it is for)")
    if len(name) > 100:
        raise ValueError("name: at most 100 characters")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name, token_hash=hash_token(secret), prefix=secret[:12], created_by=created_by
    )
    db.session.add(token)
    return token, secret


def find_active(secret: str) -> ApiToken | None:
    """The unrevoked token with this secret, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    digest = hash_token(secret)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or token.revoked_at is not None:
        return None
    # The lookup is by hash already; compare again in constant time out of habit.
    return token if hmac.compare_digest(token.token_hash, digest) else None


def active_tokens_named(name: str) -> list[ApiToken]:
    """Unrevoked tokens called ``name`` (names need not be unique)."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        )
    )


def revoke(token: ApiToken, now: datetime | None = None) -> None:
    """Stop a token working from the next request on (the caller commits)."""
    if token.revoked_at is None:
        token.revoked_at = now or datetime.now(UTC)


def all_tokens() -> list[ApiToken]:
    """Every token, newest first, for the admin page."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))
