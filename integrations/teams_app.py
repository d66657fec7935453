"""Fika's Microsoft Teams app package: ``manifest.json`` (schema 1.29) and its two icons.

An admin uploads the zip in the Teams admin center (or "Upload a custom app"). It holds the bot
Fika already sends its 1:1 cards with (``FIKA_TEAMS_BOT_APP_ID``, also the app's own id), in the
personal scope, where those cards arrive, and the team scope, and Fika's host as the one valid
domain. The bot is conversational: its messaging endpoint, which the bot's registration in
Azure (not the manifest) names, is ``FIKA_BASE_URL`` + :data:`MESSAGING_PATH`; people opt in,
pause and set preferences in its 1:1 chat, and a team can link a programme to its members.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from integrations.base import ConfigError
from integrations.png import cup_icon
from integrations.public_address import public_base_url

MANIFEST_VERSION = "1.29"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}"
    "/MicrosoftTeams.schema.json"
)
APP_ID_SETTING = "FIKA_TEAMS_BOT_APP_ID"
#: The bot's messaging endpoint on Fika (web/chat/teams_bot.py), set in the Azure Bot resource.
MESSAGING_PATH = "/teams/messages"
GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
ACCENT = (0x6F, 0x4E, 0x37)  # coffee brown, as in the Slack app
COLOR_ICON, OUTLINE_ICON = "color.png", "outline.png"
#: Zip entries get this time, so the same settings give the same bytes.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def teams_manifest(app_id: str | None, base_url: str, org_name: str, version: str) -> dict:
    """The manifest for this deployment; ConfigError naming the setting when one is unusable."""
    app_id = (app_id or "").strip()
    if not app_id:
        raise ConfigError(
            f"{APP_ID_SETTING}: not set; the Teams app package needs the bot's Microsoft App ID"
        )
    if not GUID.fullmatch(app_id):
        raise ConfigError(
            f"{APP_ID_SETTING}: expected the bot's Microsoft App ID, a GUID such as "
            f"00000000-0000-0000-0000-000000000000, got {app_id!r}"
        )
    if not SEMVER.fullmatch(version):
        raise ConfigError(f"version: expected MAJOR.MINOR.PATCH, got {version!r}")
    base = public_base_url(base_url, "Teams")
    org = " ".join(org_name.split()) or "Fika"
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id.lower(),
        "developer": {
            "name": org[:32],
            "websiteUrl": f"{base}/",
            "privacyUrl": f"{base}/me/privacy",
            "termsOfUseUrl": f"{base}/",
        },
        "name": {"short": "Fika", "full": f"Fika coffee breaks at {org}"[:100]},
        "description": {
            "short": "Hybrid coffee breaks across teams, from the office and from home.",
            "full": (
                "Fika pairs colleagues for short coffee breaks across departments and between "
                "the office and home. Each person gets a card with the time, the place or video "
                "link and buttons to confirm, skip or pause. Fika runs on your organisation's "
                f"own server at {base}/."
            ),
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id.lower(),
                "scopes": ["personal", "team"],
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": "start", "description": "Join, pause or set preferences"},
                        ],
                    }
                ],
                "supportsFiles": False,
                "supportsCalling": False,
                "supportsVideo": False,
            }
        ],
        "validDomains": [urlsplit(base).hostname],
    }


def package_files(manifest: dict[str, Any]) -> dict[str, bytes]:
    """The files of the package, by name: the manifest and the icons it names."""
    return {
        "manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"),
        manifest["icons"]["color"]: cup_icon(192, ACCENT),
        manifest["icons"]["outline"]: cup_icon(32, None),
    }


def write_package(path: Path, manifest: dict[str, Any]) -> None:
    """Write the zip Teams expects: every file at its root, none in a folder."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in package_files(manifest).items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def messaging_endpoint(base_url: str) -> str:
    """The URL to set as the Azure Bot's messaging endpoint: ``FIKA_BASE_URL/teams/messages``."""
    return public_base_url(base_url, "Teams") + MESSAGING_PATH
