"""Fika's public address, as the chat apps that call it (Slack, Teams) need it."""

from __future__ import annotations

from urllib.parse import urlsplit

from integrations.base import ConfigError


def public_base_url(base_url: str, service: str) -> str:
    """``base_url`` without a trailing slash, or ConfigError unless it is an https:// address.

    Slack and Teams call Fika, or send people to it, from the internet, and both refuse
    plain-http URLs in an app manifest: better to say so here than in their app portals.
    """
    text = base_url.strip()
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(
            f"FIKA_BASE_URL: {service} needs Fika's public https:// address, got {base_url!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"FIKA_BASE_URL: no query or fragment allowed, got {base_url!r}")
    return text.rstrip("/")
