"""What the notices to a whole chat channel say: the round's announcement, the room nudge.

Built in the current language: the core builds them inside ``core.i18n.using`` with the
programme's language, since everyone in the channel reads the same words.

Pure builders of :class:`~integrations.base.Notice`: the core writes them to the outbox, and the
webhook channels (``slack_webhook``, ``teams_webhook``) post the text or the card.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.i18n import gettext as _
from integrations.base import Notice
from integrations.slack_blocks import announcement_text
from integrations.teams_cards import CARD_SCHEMA, CARD_VERSION, announcement_card

NUDGE_MINUTES = 5


def nudge_text(programme: str, room_url: str, minutes: int = NUDGE_MINUTES) -> str:
    """The words of the nudge, the same on Slack and Teams."""
    return _(
        "%(programme)s: Coffee room opens in %(minutes)d minutes — join from the office or from "
        "home: %(url)s",
        programme=programme,
        minutes=minutes,
        url=room_url,
    )


def nudge_card(programme: str, room_url: str, minutes: int = NUDGE_MINUTES) -> dict[str, Any]:
    """An Adaptive Card 1.5 with the nudge and a "Join the room" button (https links only)."""
    text = _(
        "Coffee room opens in %(minutes)d minutes — join from the office or from home",
        minutes=minutes,
    )
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
        card["actions"] = [{"type": "Action.OpenUrl", "title": _("Join the room"), "url": room_url}]
    return card


def announcement(people: int, departments: int, hybrid_share: float) -> Notice:
    """ "Today's coffee breaks are out": how many people, departments, and how hybrid."""
    return Notice(
        text=announcement_text(people, departments, hybrid_share),
        card=announcement_card(people, departments, hybrid_share),
    )


def room_nudge(programme: str, room_url: str, opens: datetime) -> Notice:
    """The nudge before a drop-in room opens; not worth sending once it has (``opens``)."""
    return Notice(
        text=nudge_text(programme, room_url),
        card=nudge_card(programme, room_url),
        expires=opens,
    )
