"""Block Kit for Fika's Slack messages: pure builders, no network, no clock.

The group DM is where most people first meet their match, so it carries the whole invite: who,
when in each member's own zone, where, why they were matched, a starter, and three buttons whose
clicks come back to ``/slack/actions``. Slack rejects a whole message (``invalid_blocks``) when one
limit is exceeded, so every text is clipped to the documented limits here rather than trusting
that names and reasons stay short.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from core.i18n import N_, ngettext
from core.i18n import format_number as number
from core.i18n import format_when as when_in
from core.i18n import gettext as _
from integrations.base import Invite
from integrations.invite_text import _headline as headline

# The same headline as the email and calendar text (invite_text keeps the wording in one place).
from integrations.invite_text import (
    jitsi_note,
    local_times,
    reasons_of,
    summary_of,
    uses_public_jitsi,
)
from integrations.starters import translate_starter
from pairing.model import Mode

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_CONTEXT_TEXT = 3000

# The three answers a member can give, in the order the buttons appear. The key is the action
# name web/ uses for signed links (Message.links); the action_id is what /slack/actions receives.
# The labels are English here and translated where they are shown (``gettext(label)``).
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("in", "fika_in", N_("I'm in")),
    ("cant", "fika_cant", N_("Can't make it")),
    ("pause_week", "fika_pause_week", N_("Pause me for a week")),
)
#: The fourth button: the members are offered a few other times that suit everyone, and
#: choosing one moves the break for all (``/slack/actions``, ``web/chat/slack_home.py``).
ANOTHER_TIME = ("fika_another_time", N_("Suggest another time"))


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as markup, so a name can never become a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters with an ellipsis: a clipped line beats a refusal."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _member(name: str, department: str) -> str:
    return f"{name} ({department})" if department else name


def _link(url: str, label: str) -> str:
    """A Slack link for http(s) URLs only, so a bad setting can never inject another scheme."""
    if url.startswith(("https://", "http://")) and not any(c in url for c in "<>|"):
        return f"<{url}|{escape_mrkdwn(label)}>"
    return escape_mrkdwn(url)


def where_mrkdwn(invite: Invite) -> str:
    """Where to meet: the office for in-person breaks (with the video link for remote members)."""
    video = _link(invite.video_url, _("Join the video call")) if invite.video_url else ""
    if invite.mode == Mode.IN_PERSON:
        if invite.site:
            text = escape_mrkdwn(_("In person at %(place)s.", place=invite.site))
        else:
            text = escape_mrkdwn(_("In person at the office."))
        if video:
            text += "\n" + escape_mrkdwn(_("Joining remotely?")) + f" {video}"
    else:
        text = video or escape_mrkdwn(_("Video call (link to follow)"))
    if invite.video_url and uses_public_jitsi(invite.video_url):
        text += f"\n_{escape_mrkdwn(jitsi_note())}_"
    return text


def _section(block_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "block_id": block_id,
        "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)},
    }


def text_fallback(invite: Invite) -> str:
    """The plain ``text`` Slack shows in notifications and to clients that cannot draw blocks."""
    names = ", ".join(a.name for a in invite.attendees)
    start = when_in(invite.start, UTC) + " UTC"
    summary = summary_of(invite)
    if invite.method == "CANCEL":
        return escape_mrkdwn(_("Cancelled: %(summary)s (%(start)s)", summary=summary, start=start))
    return escape_mrkdwn(
        _(
            "%(summary)s: coffee with %(names)s on %(start)s",
            summary=summary,
            names=names,
            start=start,
        )
    )


def action_buttons(ref: str) -> dict[str, Any]:
    """The actions block; ``ref`` identifies the group for ``/slack/actions`` and is opaque here.

    The clicking person is known from the interaction payload (``user.id``), so the value never
    needs to name a person and cannot be used to answer for somebody else.
    """
    if not ref or len(ref) > MAX_BUTTON_VALUE:
        raise ValueError(f"button value must be 1..{MAX_BUTTON_VALUE} characters, got {len(ref)}")
    buttons = []
    for _key, action_id, label in ACTIONS:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": clip(_(label), MAX_BUTTON_TEXT), "emoji": True},
            "value": ref,
        }
        if action_id == "fika_in":
            button["style"] = "primary"
        buttons.append(button)
    action_id, label = ANOTHER_TIME
    buttons.append(
        {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": clip(_(label), MAX_BUTTON_TEXT), "emoji": True},
            "value": ref,
        }
    )
    return {"type": "actions", "block_id": "fika_actions", "elements": buttons}


def _links_context(links: Mapping[str, str]) -> dict[str, Any] | None:
    """The same three answers as web links, for workspaces where the buttons cannot reach Fika."""
    parts = [_link(links[key], _(label)) for key, _action, label in ACTIONS if links.get(key)]
    if not parts:
        return None
    text = clip(_("Or answer on the web: %(links)s", links=" · ".join(parts)), MAX_CONTEXT_TEXT)
    return {
        "type": "context",
        "block_id": "fika_links",
        "elements": [{"type": "mrkdwn", "text": text}],
    }


def group_message(
    invite: Invite, links: Mapping[str, str], ref: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The text fallback and blocks of one group's Slack message.

    ``ref`` is the button value (default: the invite's UID, which is stable for the group across
    updates). A cancelled break gets no buttons: there is nothing left to answer.
    """
    when = "\n".join(
        f"• {escape_mrkdwn(_member(a.name, a.department))}: {escape_mrkdwn(span)}"
        for a, span in local_times(invite)
    )
    who = ", ".join(escape_mrkdwn(_member(a.name, a.department)) for a in invite.attendees)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": "fika_header",
            "text": {
                "type": "plain_text",
                "text": clip(summary_of(invite).strip() or invite.programme, MAX_HEADER_TEXT),
                "emoji": True,
            },
        },
        _section("fika_headline", escape_mrkdwn(headline(invite))),
        _section("fika_who", f"*{_('Who')}*\n{who}"),
        _section("fika_when", _("*When*, in each person's own time") + f"\n{when}"),
        _section("fika_where", f"*{_('Where')}*\n{where_mrkdwn(invite)}"),
    ]
    if invite.reasons:
        reasons = "\n".join(f"• {escape_mrkdwn(r)}" for r in reasons_of(invite))
        blocks.append(_section("fika_why", f"*{_('Why you were matched')}*\n{reasons}"))
    if invite.starter:
        starter = escape_mrkdwn(translate_starter(invite.starter))
        blocks.append(_section("fika_starter", f"*{_('Conversation starter')}*\n{starter}"))
    if invite.method != "CANCEL":
        blocks.append(action_buttons(ref or invite.uid))
        links_block = _links_context(links)
        if links_block:
            blocks.append(links_block)
    return text_fallback(invite), blocks[:MAX_BLOCKS]


def announcement_text(people: int, departments: int, hybrid_share: float) -> str:
    """The channel announcement after a round, e.g. "…: 212 people, 18 departments, 61% mixing…".

    ``hybrid_share`` is the fraction (0..1) of groups that mix people in the office and at home.
    """
    if people < 0 or departments < 0:
        raise ValueError(f"counts must not be negative: people={people}, departments={departments}")
    if not 0.0 <= hybrid_share <= 1.0:
        raise ValueError(f"hybrid_share must be a fraction between 0 and 1, got {hybrid_share}")
    return _(
        "Today's coffee breaks are out: %(people)s, %(departments)s, %(share)s%% mixing office "
        "and home",
        people=ngettext("%(num)d person", "%(num)d people", people),
        departments=ngettext("%(num)d department", "%(num)d departments", departments),
        share=number(round(hybrid_share * 100)),
    )


#: Action ids of the welcome DM's buttons (``/slack/actions``); the value names the programme.
WELCOME_PAUSE = "fika_welcome_pause"
WELCOME_LEAVE = "fika_welcome_leave"


def welcome_blocks(
    header: str,
    paragraphs: list[str],
    preferences: tuple[str, str],
    pause: str,
    leave: str,
    ref: str,
) -> list[dict[str, Any]]:
    """The welcome DM to someone who joined a linked channel, from texts already translated.

    ``preferences`` is (label, URL of /me): a link button; ``pause`` and ``leave`` are the
    labels of buttons answered at ``/slack/actions`` (``WELCOME_PAUSE``, ``WELCOME_LEAVE``),
    whose value ``ref`` (the programme) is opaque here; the clicker is known from the payload.
    """
    label, url = preferences
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": "fika_welcome_header",
            "text": {"type": "plain_text", "text": clip(header, 150), "emoji": True},
        }
    ]
    for index, text in enumerate(p for p in paragraphs if p):
        blocks.append(_section(f"fika_welcome_{index}", escape_mrkdwn(text)))
    buttons = [
        {
            "type": "button",
            "action_id": "fika_welcome_preferences",
            "text": {"type": "plain_text", "text": clip(label, MAX_BUTTON_TEXT), "emoji": True},
            "url": url,
            "style": "primary",
        },
        {
            "type": "button",
            "action_id": WELCOME_PAUSE,
            "text": {"type": "plain_text", "text": clip(pause, MAX_BUTTON_TEXT), "emoji": True},
            "value": ref,
        },
        {
            "type": "button",
            "action_id": WELCOME_LEAVE,
            "text": {"type": "plain_text", "text": clip(leave, MAX_BUTTON_TEXT), "emoji": True},
            "value": ref,
            "style": "danger",
        },
    ]
    blocks.append({"type": "actions", "block_id": "fika_welcome_actions", "elements": buttons})
    return blocks
