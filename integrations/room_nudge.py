"""The chat nudge a few minutes before a drop-in room opens, for the Slack and Teams webhooks.

Pure builders: ``core.room_nudges`` puts the words and the card into a :class:`Notice` in the
outbox, and the webhook channels post it.
"""

from __future__ import annotations

from typing import Any

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
