"""The values of the status and kind columns, one definition each.

They are ``StrEnum``s: a member is its string, so rows, JSON and templates keep the plain
values they always had (``"dead"``, ``"drop_in"``), and code compares against a name that a
typo cannot silently miss. What channels and the planner also read is defined where they live:
the message kinds and answers in ``integrations.base``, meeting modes in ``pairing``.
"""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """Where an outbox row is: to go out (pending, retrying) or done (sent, dead)."""

    PENDING = "pending"
    RETRYING = "retrying"
    SENT = "sent"
    DEAD = "dead"


#: The statuses of a delivery still to go out.
UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class RoundStatus(StrEnum):
    """A round that was planned, one the clock missed, or a drop-in room's daily nudge claim."""

    PLANNED = "planned"
    MISSED = "missed"
    NUDGED = "nudged"


class GroupStatus(StrEnum):
    """A break still on, or called off (too few people left)."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class ProgrammeKind(StrEnum):
    """Matched into groups each round, a drop-in room anyone joins when they like, or
    learning teams: formed once around a topic, meeting on a cadence until ``ends_on``."""

    MATCHED = "matched"
    DROP_IN = "drop_in"
    LEARNING_TEAM = "learning_team"


class Cadence(StrEnum):
    """Every week on the programme's days, or every other week."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"


class Frequency(StrEnum):
    """How often a person wants a break."""

    DAILY = "daily"
    FEW_PER_WEEK = "few_per_week"  # two or three times a week
    WEEKLY = "weekly"


class GroupSizePreference(StrEnum):
    """Pairs only, or groups of three or four welcome."""

    ONE_TO_ONE = "one_to_one"
    SMALL_GROUPS = "small_groups"
