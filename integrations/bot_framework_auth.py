"""Who may call the Teams bot's messaging endpoint: the Bot Framework's JWT validation.

Microsoft documents the check ("Authentication with the Bot Connector API", connector to bot):
the request's ``Authorization: Bearer`` token is a JWT signed (RS256) with one of the keys at the
``jwks_uri`` of the OpenID metadata (``login.botframework.com``), issued by
``https://api.botframework.com`` for the bot's Microsoft App ID, inside its validity (five
minutes of clock skew allowed); the key's ``endorsements`` name the activity's ``channelId``;
and the token's ``serviceurl`` claim, when present, is the activity's ``serviceUrl``, so a token
minted for one service cannot send the bot's own token elsewhere.

The metadata and keys are fetched with ``requests`` and kept for ``ttl`` seconds (Microsoft
rotates keys with overlap and recommends refreshing daily); a token signed by a key Fika has not
seen refreshes them early, at most once per ``refresh_gap``. Signatures are checked by PyJWT's
public API (``jwt.PyJWK``, ``jwt.decode``), nothing hand-rolled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import requests

DEFAULT_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
ISSUER = "https://api.botframework.com"
LEEWAY_SECONDS = 300
ALGORITHMS = ["RS256"]


class BotAuthError(Exception):
    """The request is not from the Bot Framework for this bot; ``reason`` says why (401)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """The OpenID metadata or keys could not be fetched: nothing can be verified now (503)."""


class BotFrameworkAuth:
    """Verifies incoming activities' tokens for the bot ``app_id``; thread-safe, keys cached."""

    def __init__(
        self,
        app_id: str,
        openid_url: str = DEFAULT_OPENID_URL,
        *,
        session: requests.Session | None = None,
        ttl: float = 24 * 3600,
        refresh_gap: float = 300,
        timeout: float = 5,
        clock: Callable[[], float] = time.time,
    ):
        self.app_id = app_id
        self.openid_url = openid_url
        self._session = session or requests.Session()
        self._ttl = ttl
        self._refresh_gap = refresh_gap
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None

    def verify(self, authorization: str | None, activity: Mapping[str, Any]) -> dict[str, Any]:
        """The token's claims, or BotAuthError (KeysUnavailable when the keys cannot be had)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise BotAuthError("missing bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise BotAuthError("malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise BotAuthError("token not signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise BotAuthError("token names no signing key")
        jwk = self._key(kid)
        if jwk is None:
            raise BotAuthError("token signed by an unknown key")
        channel = activity.get("channelId")
        if channel:
            endorsements = jwk.get("endorsements")
            if not isinstance(endorsements, list) or channel not in endorsements:
                raise BotAuthError("signing key not endorsed for this channel")
        try:
            key = jwt.PyJWK(jwk, algorithm="RS256").key
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.app_id,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise BotAuthError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise BotAuthError("token not valid yet") from None
        except jwt.InvalidAudienceError:
            raise BotAuthError("token issued for another bot") from None
        except jwt.InvalidIssuerError:
            raise BotAuthError("token not issued by the Bot Framework") from None
        except jwt.InvalidSignatureError:
            raise BotAuthError("bad signature") from None
        except jwt.PyJWTError as exc:
            raise BotAuthError(f"invalid token ({type(exc).__name__})") from None
        service_url = claims.get("serviceurl") or claims.get("serviceUrl")
        if service_url and service_url != activity.get("serviceUrl"):
            raise BotAuthError("token issued for another service URL")
        return claims

    def _key(self, kid: str) -> dict[str, Any] | None:
        """The JWK ``kid``, from the cache or freshly fetched (expired, or a key not seen yet)."""
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._ttl
            unknown = kid not in self._keys and (
                self._fetched_at is None or now - self._fetched_at >= self._refresh_gap
            )
            if stale or unknown:
                try:
                    self._keys = self._fetch()
                    self._fetched_at = now
                except KeysUnavailable:
                    if not self._keys or now - (self._fetched_at or 0) >= 2 * self._ttl:
                        raise
                    # A short outage of Microsoft's metadata: the keys of yesterday still do.
            return self._keys.get(kid)

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        if not url.startswith("https://"):
            raise KeysUnavailable(f"{what}: not an https URL")
        try:
            response = self._session.get(url, timeout=self._timeout)
        except requests.RequestException as exc:
            raise KeysUnavailable(f"{what}: {type(exc).__name__}") from None
        with response:
            if not response.ok:
                raise KeysUnavailable(f"{what}: HTTP {response.status_code}")
            try:
                body = response.json()
            except ValueError:
                raise KeysUnavailable(f"{what}: not JSON") from None
        if not isinstance(body, dict):
            raise KeysUnavailable(f"{what}: not a JSON object")
        return body

    def _fetch(self) -> dict[str, dict[str, Any]]:
        metadata = self._get_json(self.openid_url, "Bot Framework OpenID metadata")
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise KeysUnavailable("Bot Framework OpenID metadata: no jwks_uri")
        keys = self._get_json(jwks_uri, "Bot Framework keys").get("keys")
        if not isinstance(keys, list):
            raise KeysUnavailable("Bot Framework keys: no keys")
        return {
            key["kid"]: key
            for key in keys
            if isinstance(key, dict) and isinstance(key.get("kid"), str)
        }
