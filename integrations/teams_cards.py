"""Adaptive Cards (version 1.5) for Microsoft Teams: pure builders, no network.

Workflows webhooks post cards that cannot submit anything back, so every answer is an
``Action.OpenUrl`` to a signed, expiring Fika link (``/a/<token>``) whose page confirms the change
in one click. The same card goes to the bot's 1:1 chats, so a person sees one design either way.
Only properties in the 1.5 schema are used: Teams drops a card it cannot parse, silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.i18n import gettext as _
from integrations.base import Invite
from integrations.invite_text import _headline as headline  # one wording for every channel
from integrations.invite_text import (
    jitsi_note,
    local_times,
    reasons_of,
    summary_of,
    uses_public_jitsi,
)
from integrations.slack_blocks import ACTIONS, announcement_text
from integrations.starters import translate_starter
from pairing.model import Mode

CARD_VERSION = "1.5"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def text_block(text: str, **style: Any) -> dict[str, Any]:
    """A wrapping TextBlock (``style``: weight, size, color, spacing, …)."""
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _heading(text: str) -> dict[str, Any]:
    return text_block(text, weight="Bolder", spacing="Medium")


def adaptive_card(
    body: list[dict[str, Any]], fallback: str, actions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An Adaptive Card 1.5 with ``body``, a text fallback and, if any, ``actions``."""
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "fallbackText": fallback,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _safe_url(url: str) -> bool:
    """Only http(s) links become buttons or links: a bad setting must not inject another scheme."""
    return url.startswith(("https://", "http://"))


def _where(invite: Invite) -> str:
    """Where to meet, as Adaptive Card markdown (links written ``[label](url)``)."""
    video = ""
    if invite.video_url:
        video = (
            f"[{_('Join the video call')}]({invite.video_url})"
            if _safe_url(invite.video_url)
            else invite.video_url
        )
    if invite.mode == Mode.IN_PERSON:
        if invite.site:
            text = _("In person at %(place)s.", place=invite.site)
        else:
            text = _("In person at the office.")
        if video:
            text += "\n\n" + _("Joining remotely?") + f" {video}"
    else:
        text = video or _("Video call (link to follow)")
    return text


def answer_actions(links: Mapping[str, str]) -> list[dict[str, Any]]:
    """The three answers as ``Action.OpenUrl`` buttons, for the links web/ signed for this card."""
    actions = []
    for key, _action_id, label in ACTIONS:
        url = links.get(key, "")
        if url and _safe_url(url):
            action = {"type": "Action.OpenUrl", "title": _(label), "url": url, "id": f"fika_{key}"}
            if key == "in":
                action["style"] = "positive"
            actions.append(action)
    return actions


def group_card(invite: Invite, links: Mapping[str, str]) -> dict[str, Any]:
    """One group's invite: who, when per member, where, why, starter and the answer buttons.

    A cancelled break gets no buttons. Links missing from ``links`` are left out rather than
    pointing somewhere that cannot work.
    """
    facts = [
        {"title": f"{a.name} ({a.department})" if a.department else a.name, "value": span}
        for a, span in local_times(invite)
    ]
    body: list[dict[str, Any]] = [
        text_block(
            summary_of(invite) or invite.programme, size="Large", weight="Bolder", style="heading"
        ),
        text_block(headline(invite), isSubtle=True),
        _heading(_("Who and when, in each person's own time")),
        {"type": "FactSet", "facts": facts},
        _heading(_("Where")),
        text_block(_where(invite)),
    ]
    if invite.video_url and uses_public_jitsi(invite.video_url):
        body.append(text_block(jitsi_note(), isSubtle=True, size="Small"))
    if invite.reasons:
        body.append(_heading(_("Why you were matched")))
        body.append(text_block("\n".join(f"- {reason}" for reason in reasons_of(invite))))
    if invite.starter:
        body.append(_heading(_("Conversation starter")))
        body.append(text_block(translate_starter(invite.starter)))
    names = ", ".join(a.name for a in invite.attendees)
    fallback = _("%(summary)s: coffee with %(names)s", summary=summary_of(invite), names=names)
    actions = [] if invite.method == "CANCEL" else answer_actions(links)
    return adaptive_card(body, fallback, actions)


def announcement_card(people: int, departments: int, hybrid_share: float) -> dict[str, Any]:
    """The after-round announcement for a Teams channel, with the same words as Slack's."""
    text = announcement_text(people, departments, hybrid_share)
    return adaptive_card([text_block(text, size="Medium", weight="Bolder")], text)


def workflows_envelope(card: dict[str, Any]) -> dict[str, Any]:
    """Wrap a card the way a Teams Workflows webhook ("When a Teams webhook request is received")
    expects it: a message with one Adaptive Card attachment."""
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }
