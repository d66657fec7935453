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

    Email links, Teams cards and Slack buttons all end here.
    """
    now = now or datetime.now(UTC)
    if action not in ACTIONS:
        raise AnswerError("That button is not one Fika knows.")
    local = group.start_at.astimezone(ZoneInfo(person.timezone))
    when = f"{local:%A %-d %B at %H:%M}"
    if action == ButtonAnswer.PAUSE_WEEK:
        until = now.astimezone(ZoneInfo(person.timezone)).date() + timedelta(days=7)
        given_up = pause(settings, person, until, now)
        extra = f" and gave up {given_up} upcoming break(s)" if given_up else ""
        return f"Paused until {until:%A %-d %B}{extra}. You will be matched again from then."
    seat = seat_of(person, group)
    if seat is None:
        raise AnswerError("You are not in this coffee break any more; nothing was changed.")
    if group.status != GroupStatus.SCHEDULED or group.start_at <= now:
        raise AnswerError("This coffee break has already started or was cancelled.")
    if action == ButtonAnswer.IN:
        seat.response = "in"
        db.session.commit()
        return f"Great, you're in for {when}. See you there!"
    seat.response = ButtonAnswer.CANT
    withdraw(settings, person, group, now)
    db.session.commit()
    return (
        f"Thanks for letting us know: you are out of the break on {when}, "
        "and the others have been told."
    )
