"""What each button does to a person's state, whichever channel it was pressed in.

"I'm in" records the answer; "Can't make it" takes the person out of that break (the others get
an update, or a cancellation when too few are left); "Pause me for a week" pauses them for seven
days and gives up the breaks in that week.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.changes import pause, withdraw
from core.db import db
from core.enums import GroupStatus
from core.i18n import format_day, format_when, ngettext, using
from core.i18n import gettext as _
from core.links import ACTIONS
from core.models import Group, Person
from core.settings import Settings
from integrations.base import ButtonAnswer


class AnswerError(ValueError):
    """The answer cannot be applied; the message says why, for the person to read."""


def seat_of(person: Person, group: Group):
    """The person's seat in the group, or None."""
    return next((m for m in group.members if m.person_id == person.id), None)


def apply_answer(
    settings: Settings, person: Person, group: Group, action: str, now: datetime | None = None
) -> str:
    """Apply one button press; returns a sentence saying exactly what changed. Commits.

    Email links, Teams cards and Slack buttons all end here. The sentence (and an
    :class:`AnswerError`'s) is in the person's language: it answers them alone.
    """
    with using(person.language):
        return _apply(settings, person, group, action, now or datetime.now(UTC))


def _apply(settings: Settings, person: Person, group: Group, action: str, now: datetime) -> str:
    if action not in ACTIONS:
        raise AnswerError(_("That button is not one Fika knows."))
    zone = ZoneInfo(person.timezone)
    when = format_when(group.start_at, zone, sentence=True)
    if action == ButtonAnswer.PAUSE_WEEK:
        until = now.astimezone(zone).date() + timedelta(days=7)
        given_up = pause(settings, person, until, now)
        day = format_day(until, sentence=True)
        if given_up:
            return ngettext(
                "Paused until %(day)s and gave up %(num)d upcoming break. You will be matched "
                "again from then.",
                "Paused until %(day)s and gave up %(num)d upcoming breaks. You will be matched "
                "again from then.",
                given_up,
                day=day,
            )
        return _("Paused until %(day)s. You will be matched again from then.", day=day)
    seat = seat_of(person, group)
    if seat is None:
        raise AnswerError(_("You are not in this coffee break any more; nothing was changed."))
    if group.status != GroupStatus.SCHEDULED or group.start_at <= now:
        raise AnswerError(_("This coffee break has already started or was cancelled."))
    if action == ButtonAnswer.IN:
        seat.response = "in"
        db.session.commit()
        return _("Great, you're in for %(when)s. See you there!", when=when)
    seat.response = ButtonAnswer.CANT
    withdraw(settings, person, group, now)
    db.session.commit()
    return _(
        "Thanks for letting us know: you are out of the break on %(when)s, and the others have "
        "been told.",
        when=when,
    )
