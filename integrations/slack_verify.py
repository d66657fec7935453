"""Is this request really from Slack? Checked before the Slack routes read a single field.

Slack signs every request with the app's signing secret: ``v0=`` + HMAC-SHA256 over
``v0:{X-Slack-Request-Timestamp}:{raw body}``. slack_sdk's ``SignatureVerifier`` compares in
constant time and rejects timestamps more than five minutes from now (replays); we only pin its
clock to ``now`` so the web layer (and tests) decide what "now" is.
"""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.signature import Clock, SignatureVerifier

from integrations.base import ConfigError


class _FixedClock(Clock):
    """The SDK asks its clock for the time; this one answers with the instant we were given."""

    def __init__(self, now: float):
        self._now = now

    def now(self) -> float:
        return self._now


def verify_slack_request(
    signing_secret: str, headers: Mapping[str, str], raw_body: bytes | str, now: float
) -> bool:
    """True when ``raw_body`` was signed by Slack with ``signing_secret`` within 300 s of ``now``.

    ``raw_body`` must be the bytes as received: re-encoding a parsed form changes the signature.
    Header names are matched case-insensitively. A missing or malformed timestamp or signature
    is simply not valid, and so is a body that is not UTF-8 (Slack's never is); an empty secret
    is a configuration error, not a rejected request.
    """
    if not signing_secret or not signing_secret.strip():
        raise ConfigError("FIKA_SLACK_SIGNING_SECRET is empty: copy it from the Slack app page")
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp", "")
    if not timestamp.isascii() or not timestamp.isdigit():
        return False  # the SDK would raise on int("abc"); a forged header is just a bad request
    if isinstance(raw_body, bytes):
        try:
            raw_body = raw_body.decode("utf-8")  # the SDK decodes too, and would raise
        except UnicodeDecodeError:
            return False  # Slack sends UTF-8: these bytes were not signed by it
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(now))
    return verifier.is_valid(
        body=raw_body, timestamp=timestamp, signature=lowered.get("x-slack-signature")
    )
