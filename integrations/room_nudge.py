"""The chat nudge a few minutes before a drop-in room opens, for Slack and Teams webhooks.

Pure builders plus one function that posts to whichever webhooks are configured; like the round
announcement (``chat_registry.announce_round``), one broken webhook never silences the other.
"""

from __future__ import annotations

from typing import Any

from integrations.base import DeliveryError
from integrations.chat_registry import post_to_webhooks
from integrations.registry import Settings
from integrations.teams_cards import CARD_SCHEMA, CARD_VERSION

NUDGE_MINUTES = 5


def nudge_text(programme: str, room_url: str, minutes: int = NUDGE_MINUTES) -> str:
    """The words of the nudge, the same on Slack and Teams."""
    return (
        f"{programme}: Coffee room opens in {minutes} minutes — join from the office or from "
        f"home: {room_url}"
    )


def nudge_card(programme: str, room_url: str, minutes: int = NUDGE_MINUTES) -> dict[str, Any]:
    """An Adaptive Card 1.5 with the nudge and a "Join the room" button (https links only)."""
    text = f"Coffee room opens in {minutes} minutes — join from the office or from home"
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "fallbackText": nudge_text(programme, room_url, minutes),
        "body": [
            {"type": "TextBlock", "text": programme, "wrap": True, "weight": "Bolder"},
            {"type": "TextBlock", "text": text, "wrap": True},
        ],
    }
    if room_url.startswith("https://"):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Join the room", "url": room_url}]
    return card


def post_room_nudge(
    settings: Settings, programme: str, room_url: str
) -> dict[str, DeliveryError | None]:
    """Post the nudge to every configured chat webhook; the outcome per target, never raises."""
    return post_to_webhooks(
        settings, nudge_text(programme, room_url), nudge_card(programme, room_url)
    )
