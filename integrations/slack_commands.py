"""The ``/fika`` slash command, parsed: pure, so every path is testable without Slack or a clock.

``web`` calls :func:`parse_command` with the command's ``text`` and today's date in the person's
zone, applies the :class:`Command` and answers ephemerally. Bad input becomes a
:class:`CommandError` whose message says what to type instead, in the current language (the web
answers inside ``core.i18n.using`` with the person's): it is shown to the person as is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from core.i18n import gettext as _

CommandName = Literal["join", "pause", "resume", "status", "leave", "help", "team"]

MAX_PAUSE_DAYS = 365


def help_text() -> str:
    """What ``/fika help`` answers, in the current language (the commands stay English)."""
    return _(
        "Usage: `/fika <command>`\n"
        "• `/fika join`: take part in the coffee breaks\n"
        "• `/fika pause`: skip the breaks until you resume\n"
        "• `/fika pause until YYYY-MM-DD`: skip the breaks until that date\n"
        "• `/fika pause for N days`: skip the breaks for N days (1 to %(days)d)\n"
        "• `/fika resume`: take part again\n"
        "• `/fika status`: see whether you take part and your next break\n"
        "• `/fika leave`: stop taking part\n"
        "• `/fika team <topic>`: start a learning team around a topic, open to others\n"
        "• `/fika help`: show this help",
        days=MAX_PAUSE_DAYS,
    )


_NO_ARGUMENTS = ("join", "resume", "status", "leave", "help")


@dataclass(frozen=True)
class Command:
    """One parsed ``/fika`` command.

    For ``pause``, ``until`` is the first day the person is matched again; ``None`` means until
    they resume. For ``team``, ``topic`` is what the team learns about.
    """

    name: CommandName
    until: date | None = None
    topic: str = ""  # ``team``: the topic, one line, as typed (its length the core checks)


class CommandError(ValueError):
    """The command cannot be understood; ``message`` tells the person what to type instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_command(text: str, today: date) -> Command:
    """Parse the text after ``/fika`` (case and extra spaces do not matter; empty means help)."""
    words = text.split()
    if not words:
        return Command("help")
    name, args = words[0].lower(), words[1:]
    if name in _NO_ARGUMENTS:
        if args:
            words = _("`/fika %(command)s` takes no arguments.", command=name)
            raise CommandError(f"{words}\n\n{help_text()}")
        return Command(name)  # type: ignore[arg-type]
    if name == "pause":
        return Command("pause", _pause_until(args, today))
    if name == "team":
        return Command("team", topic=_topic(text.strip()[len(words[0]) :]))
    unknown = _("I don't know `%(word)s`.", word=_shorten(words[0]))
    raise CommandError(f"{unknown}\n\n{help_text()}")


def _topic(rest: str) -> str:
    """The topic after ``/fika team``: some words on one line, without control characters."""
    topic = rest.strip()
    if not topic:
        raise CommandError(_("Name the topic: `/fika team <topic>`, e.g. `/fika team Rust`."))
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in topic):
        raise CommandError(
            _(
                "The topic must be one line of plain text: `/fika team <topic>`, "
                "e.g. `/fika team Rust`."
            )
        )
    return topic


def _pause_until(args: list[str], today: date) -> date | None:
    """The first day back for ``pause [until YYYY-MM-DD | for N days]``."""
    if not args:
        return None
    keyword = args[0].lower()
    if keyword == "until" and len(args) == 2:
        return _until_date(args[1], today)
    if keyword == "for" and len(args) == 3 and args[2].lower() in ("day", "days"):
        return today + timedelta(days=_day_count(args[1]))
    raise CommandError(
        _("Try `/fika pause`, `/fika pause until 2025-06-30` or `/fika pause for 14 days`.")
    )


def _until_date(value: str, today: date) -> date:
    """A date after today and at most a year ahead, written YYYY-MM-DD."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise CommandError(
            _(
                "`%(value)s` is not a date: write it as YYYY-MM-DD, e.g. "
                "`/fika pause until %(example)s`.",
                value=_shorten(value),
                example=(today + timedelta(days=14)).isoformat(),
            )
        )
    try:
        until = date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(value)s is not a day in the calendar: check the month and day.", value=value)
        ) from None
    if until <= today:
        raise CommandError(
            _(
                "%(value)s is not after today (%(today)s): pick a date in the future, "
                "or use `/fika resume` to take part again now.",
                value=value,
                today=today.isoformat(),
            )
        )
    if until > today + timedelta(days=MAX_PAUSE_DAYS):
        raise CommandError(
            _(
                "%(value)s is more than %(days)d days away: pause for at most a year, "
                "or use `/fika leave` to stop taking part.",
                value=value,
                days=MAX_PAUSE_DAYS,
            )
        )
    return until


def _day_count(value: str) -> int:
    """A whole number of days from 1 to MAX_PAUSE_DAYS."""
    if not re.fullmatch(r"[+-]?\d+", value):
        raise CommandError(
            _(
                "`%(value)s` is not a whole number of days: try `/fika pause for 14 days`.",
                value=_shorten(value),
            )
        )
    days = int(value)
    if not 1 <= days <= MAX_PAUSE_DAYS:
        raise CommandError(
            _(
                "%(value)d days is out of range: pause for 1 to %(days)d days, "
                "or use `/fika leave` to stop taking part.",
                value=days,
                days=MAX_PAUSE_DAYS,
            )
        )
    return days


def _shorten(value: str, limit: int = 40) -> str:
    """Echo a person's input back without letting a pasted essay flood the reply."""
    value = value.replace("`", "'")
    return value if len(value) <= limit else value[: limit - 1] + "…"
