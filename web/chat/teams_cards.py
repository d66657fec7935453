"""The Teams bot's own Adaptive Cards (1.5): a person's card in the 1:1 chat, a team's link card.

Their buttons are ``Action.Execute`` (Universal Actions): Teams sends an ``adaptiveCard/action``
invoke with the verb and the card's inputs, and the bot answers with the next card, which
replaces this one in place. Every string a person reads goes through ``core.i18n``, so these
live in web/ rather than in integrations/ (which may not import the core).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from core.enums import GroupSizePreference
from core.i18n import format_day
from core.i18n import gettext as _
from core.models import Person, Programme
from integrations.teams_cards import (
    CARD_CONTENT_TYPE,
    adaptive_card,
    text_block,
)
from pairing.model import Mode

#: The verbs of the cards' Action.Execute buttons (the bot's contract with its own cards).
JOIN, PAUSE, PREFERENCES, NEXT_BREAK, LINK_PROGRAMME = (
    "join",
    "pause",
    "preferences",
    "next_break",
    "link_programme",
)
#: Longest pause one can choose from the card (the preferences page allows the same year).
PAUSE_MAX_DAYS = 365


def mode_choices() -> list[tuple[str, str]]:
    """Meeting modes as the card offers them."""
    return [
        (Mode.EITHER.value, _("In person or by video")),
        (Mode.IN_PERSON.value, _("In person, when we are at the same office")),
        (Mode.VIRTUAL.value, _("By video")),
    ]


def group_size_choices() -> list[tuple[str, str]]:
    """Group size wishes as the card offers them."""
    return [
        (GroupSizePreference.ONE_TO_ONE.value, _("One-to-one only")),
        (GroupSizePreference.SMALL_GROUPS.value, _("Small groups welcome")),
    ]


def _execute(verb: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Action.Execute", "verb": verb, "title": title, "id": verb, **extra}


def _messages(error: str | None, notice: str | None) -> list[dict[str, Any]]:
    blocks = []
    if error:
        blocks.append(text_block(error, color="Attention", weight="Bolder", id="error"))
    if notice:
        blocks.append(text_block(notice, color="Good", id="notice"))
    return blocks


def _choice_set(input_id: str, label: str, choices: list[tuple[str, str]], value: str):
    return {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "compact",
        "isRequired": True,
        "value": value,
        "choices": [{"title": title, "value": key} for key, title in choices],
    }


def person_card(
    person: Person | None,
    today: date,
    *,
    notice: str | None = None,
    error: str | None = None,
    next_break: str | None = None,
) -> dict[str, Any]:
    """A person's own card: how they take part now, and join, pause, preferences, next break."""
    title = _("Fika coffee breaks")
    body = [text_block(title, size="Large", weight="Bolder", style="heading")]
    body += _messages(error, notice)
    pref = person.preference if person is not None else None
    if person is None or pref is None or not pref.active:
        if person is None:
            status = _(
                "Join to meet colleagues for short coffee breaks, in the office or by video."
            )
        else:
            status = _("You are not taking part at the moment.")
        body.append(text_block(status))
        return adaptive_card(body, title, [_execute(JOIN, _("Join"), style="positive")])
    paused = pref.paused_until is not None and pref.paused_until > today
    if paused:
        body.append(
            text_block(
                _(
                    "You are paused until %(date)s.",
                    date=format_day(pref.paused_until, year=True),
                )
            )
        )
    else:
        body.append(text_block(_("You are taking part.")))
    if next_break:
        body.append(text_block(next_break, id="next_break"))
    body += [
        {
            "type": "Input.Date",
            "id": "until",
            "label": _("Pause until"),
            "min": (today + timedelta(days=1)).isoformat(),
            "max": (today + timedelta(days=PAUSE_MAX_DAYS)).isoformat(),
        },
        _choice_set("mode", _("How would you like to meet?"), mode_choices(), pref.mode),
        _choice_set(
            "group_size",
            _("Group size"),
            group_size_choices(),
            pref.group_size_pref or GroupSizePreference.SMALL_GROUPS.value,
        ),
    ]
    actions = [
        _execute(PAUSE, _("Pause")),
        _execute(PREFERENCES, _("Save preferences"), style="positive"),
        _execute(NEXT_BREAK, _("Show my next break")),
    ]
    if paused:
        actions.insert(0, _execute(JOIN, _("Resume now"), style="positive"))
    return adaptive_card(body, title, actions)


def link_card(
    programmes: list[Programme],
    *,
    error: str | None = None,
    linked: Programme | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """The card in a team: link a programme to the team's members (or what is linked now)."""
    title = _("Fika in this team")
    body = [text_block(title, size="Large", weight="Bolder", style="heading")]
    body += _messages(error, notice)
    if linked is not None:
        body.append(text_block(_("This team takes part in %(programme)s.", programme=linked.name)))
    body.append(
        text_block(
            _(
                "Link a Fika programme to this team: every member takes part, with default "
                "preferences they can change in their chat with Fika."
            )
        )
    )
    if not programmes:
        body.append(text_block(_("There is no programme to link yet: create one in Fika first.")))
        return adaptive_card(body, title, [])
    body.append(
        _choice_set(
            "programme",
            _("Programme"),
            [(str(p.id), p.name) for p in programmes],
            str((linked or programmes[0]).id),
        )
    )
    return adaptive_card(
        body, title, [_execute(LINK_PROGRAMME, _("Link programme"), style="positive")]
    )


def card_message(card: dict[str, Any]) -> dict[str, Any]:
    """A message activity carrying ``card``."""
    return {
        "type": "message",
        "summary": card["fallbackText"],
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }


def invoke_response(card: dict[str, Any]) -> dict[str, Any]:
    """The answer to an ``adaptiveCard/action`` invoke that replaces the card in place."""
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}
