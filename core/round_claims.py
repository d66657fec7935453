"""Claiming a (programme, date) and what a round call answers: shared by every kind.

Coffee rounds (``core.rounds``), learning teams (``core.learning_teams``) and drop-in nudges
(``core.drop_in``) all claim their date by inserting the Round row with ON CONFLICT DO NOTHING
on its UNIQUE (programme, date) key, so however many processes race, one wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import db
from core.enums import RoundStatus
from core.models import Programme, Round
from core.participants import Candidate
from pairing import Plan


@dataclass
class RoundOutcome:
    """What a call to :func:`run_round` did: ``created`` is False for the no-op second call."""

    created: bool
    round_id: int | None
    plan: Plan | None
    message: str
    people: dict[str, Candidate] = field(default_factory=dict)
    # True when this call planned the round but another process inserted it first.
    raced: bool = False


def default_seed(programme: Programme, day: date) -> int:
    """A seed fixed by programme and date, so a preview shows what the real run will do."""
    return int(day.strftime("%Y%m%d")) * 1000 + programme.id


def existing_round(programme: Programme, day: date) -> Round | None:
    """The round already recorded for (programme, date), if any."""
    return db.session.scalar(
        select(Round).where(Round.programme_id == programme.id, Round.date == day)
    )


def _upsert():
    """The dialect's INSERT that supports ON CONFLICT DO NOTHING (PostgreSQL and SQLite)."""
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


def claim_round(
    programme: Programme, day: date, stats: dict, unmatched: list, status: str = RoundStatus.PLANNED
) -> int | None:
    """Insert the Round row first; None when another call already holds (programme, date)."""
    statement = (
        _upsert()(Round)
        .values(
            programme_id=programme.id,
            date=day,
            status=status,
            stats=stats,
            unmatched=unmatched,
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["programme_id", "date"])
        .returning(Round.id)
    )
    return db.session.execute(statement).scalar_one_or_none()
