"""Fika's Slack app manifest (``slack_app_manifest.yaml``), filled in for one deployment.

The file in the repository is the one source: its scopes, events and request URLs are what
``fika slack manifest`` prints, with ``${FIKA_BASE_URL}`` replaced in the parsed values (never in
the text, so no address can change the YAML's shape). Slack calls the request URLs from the
internet, so the base URL must be a public ``https://`` address.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from integrations.public_address import public_base_url

TEMPLATE = Path(__file__).with_name("slack_app_manifest.yaml")
PLACEHOLDER = "${FIKA_BASE_URL}"


def manifest_template() -> dict[str, Any]:
    """The manifest as kept in the repository, placeholders and all."""
    return yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))


def slack_manifest(base_url: str) -> dict[str, Any]:
    """The manifest with every request URL on ``base_url`` (checked by public_base_url)."""
    base = public_base_url(base_url, "Slack")

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(PLACEHOLDER, base)
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        return value

    return fill(manifest_template())


def request_urls(manifest: dict[str, Any]) -> list[str]:
    """Every URL Slack will call: slash commands, interactivity and events."""
    settings = manifest.get("settings", {})
    urls = [command["url"] for command in manifest["features"].get("slash_commands", [])]
    urls.append(settings["interactivity"]["request_url"])
    urls.append(settings["event_subscriptions"]["request_url"])
    return urls


def render(manifest: dict[str, Any], *, as_json: bool = False) -> str:
    """The manifest as YAML (Slack's default tab) or JSON, in the file's order."""
    if as_json:
        return json.dumps(manifest, indent=2, ensure_ascii=False)
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
