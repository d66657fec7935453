"""The data at the boundary of the pairing engine: what comes in, what goes out.

Everything here is a frozen dataclass so a request or a plan can be passed around,
cached and compared without anyone mutating it behind the planner's back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    """How someone likes to meet, and (in person or virtual) how a group meets."""

    IN_PERSON = "in_person"
    VIRTUAL = "virtual"
    EITHER = "either"  # a wish only: a group meets in person or by video


MODES = tuple(Mode)
GROUP_MODES = (Mode.IN_PERSON, Mode.VIRTUAL)


class RequestError(ValueError):
    """A request the planner cannot use.

    ``str(err)`` is one line naming the field path and, where there is one, the
    participant, e.g. ``participants[17].timezone: unknown time zone 'Europe/Stokholm'``.
    """


@dataclass(frozen=True)
class Participant:
    """One person taking part in a round, as they are on the round's date.

    ``topics`` are what the person is curious about or wants to learn; ``share_topics``
    what they can teach others (read by learning teams, :mod:`pairing.teams`; the coffee
    planner ignores it).
    """

    id: str
    department: str
    site: str | None = None
    timezone: str = "UTC"
    work_hours: tuple[datetime.time, datetime.time] = (datetime.time(9), datetime.time(17))
    busy: tuple[tuple[datetime.datetime, datetime.datetime], ...] = ()
    mode: str = "either"
    manager: str | None = None
    avoid: frozenset[str] = frozenset()
    topics: tuple[str, ...] = ()
    share_topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryRound:
    """The groups of one earlier round; ids no longer taking part are ignored."""

    date: datetime.date
    groups: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class PlanRequest:
    """Everything the planner needs to plan one round; the date is data, not a clock read."""

    date: datetime.date
    participants: tuple[Participant, ...]
    history: tuple[HistoryRound, ...] = ()
    group_size: int = 2
    duration_minutes: int = 15
    cooldown_rounds: int = 10
    seed: int = 0
    preferred_start: datetime.datetime | None = None


@dataclass(frozen=True)
class Group:
    """People who meet, where and when, and why they were put together."""

    members: tuple[str, ...]
    mode: str
    site: str | None
    start: datetime.datetime
    end: datetime.datetime
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Unmatched:
    """Someone who could not be placed this round, and why."""

    id: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """The outcome of a round.

    ``stats`` holds counts (participants, groups, by_size, unmatched, repeats,
    cross_department, hybrid, in_person) and ``seconds``, the time taken: the one
    value that differs between two runs of the same request.
    """

    groups: tuple[Group, ...]
    unmatched: tuple[Unmatched, ...]
    stats: dict = field(default_factory=dict)
