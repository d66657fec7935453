"""A round, as the one function the CLI, the clock and the admin all call.

``run_round`` loads the programme's eligible people for a date, asks ``pairing`` for groups, and
writes the Round, its Groups and one outbox Delivery per recipient in a single transaction. The
Round row is inserted with ON CONFLICT DO NOTHING on its UNIQUE (programme, date) key, so however
many processes race, one round is written and every other call is a no-op that says so.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from integrations.starters import choose_starter
from jobs.participants import eligible_people, history, to_participant
from pairing import Plan, PlanRequest, plan_round
from web.channels import configured_channels
from web.extensions import db
from web.invites import build_invite, deliveries_for
from web.models import Group, GroupMember, Person, Programme, Round
from web.programmes import break_start

log = logging.getLogger("fika.round")


@dataclass
class RoundOutcome:
    """What a call to :func:`run_round` did: ``created`` is False for the no-op second call."""

    created: bool
    round_id: int | None
    plan: Plan | None
    message: str
    people: dict[str, Person] = field(default_factory=dict)


def default_seed(programme: Programme, day: date) -> int:
    """A seed fixed by programme and date, so a preview shows what the real run will do."""
    return int(day.strftime("%Y%m%d")) * 1000 + programme.id


def plan_request(programme: Programme, day: date, people: list[Person], seed: int) -> PlanRequest:
    """The planner's input for ``programme`` on ``day``."""
    return PlanRequest(
        date=day,
        participants=tuple(to_participant(p, day) for p in people),
        history=history(programme, day),
        group_size=programme.group_size,
        duration_minutes=programme.duration_minutes,
        cooldown_rounds=programme.cooldown_rounds,
        seed=seed,
        preferred_start=break_start(programme, day).astimezone(UTC),
    )


def preview_round(programme: Programme, day: date, seed: int | None = None) -> RoundOutcome:
    """Plan the round without writing anything."""
    people = eligible_people(day)
    seed = default_seed(programme, day) if seed is None else seed
    plan = plan_round(plan_request(programme, day, people, seed))
    return RoundOutcome(
        created=False,
        round_id=None,
        plan=plan,
        message=f"preview: {len(plan.groups)} groups for {len(people)} people",
        people={str(p.id): p for p in people},
    )


def existing_round(programme: Programme, day: date) -> Round | None:
    """The round already recorded for (programme, date), if any."""
    return db.session.scalar(
        select(Round).where(Round.programme_id == programme.id, Round.date == day)
    )


def _claim_round(programme: Programme, day: date, stats: dict, unmatched: list) -> int | None:
    """Insert the Round row first; None when another call already holds (programme, date)."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Round)
        .values(
            programme_id=programme.id,
            date=day,
            status="planned",
            stats=stats,
            unmatched=unmatched,
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["programme_id", "date"])
        .returning(Round.id)
    )
    return db.session.execute(statement).scalar_one_or_none()


def _last_starters(person_ids: list[int]) -> dict[int, str]:
    """The conversation starter each person saw most recently, to rotate away from it."""
    rows = db.session.execute(
        select(GroupMember.person_id, Group.starter)
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.person_id.in_(person_ids))
        .order_by(Group.start_at)
    )
    return {person_id: starter for person_id, starter in rows}


def run_round(
    programme: Programme, day: date, *, seed: int | None = None, now: datetime | None = None
) -> RoundOutcome:
    """Run the round for (programme, day) exactly once; later calls change nothing."""
    if existing_round(programme, day) is not None:
        return RoundOutcome(
            False, None, None, f"{programme.name} on {day}: already ran, nothing to do"
        )
    outcome = preview_round(programme, day, seed)
    plan = outcome.plan
    assert plan is not None
    now = now or datetime.now(UTC)
    channels = sorted(configured_channels(current_app.config))
    template = current_app.config["FIKA_VIDEO_URL_TEMPLATE"]
    people = outcome.people
    try:
        round_id = _claim_round(
            programme,
            day,
            stats=_json_safe(plan.stats),
            unmatched=[{"id": u.id, "reason": u.reason} for u in plan.unmatched],
        )
        if round_id is None:
            db.session.rollback()
            return RoundOutcome(
                False, None, None, f"{programme.name} on {day}: already ran, nothing to do"
            )
        starters = _last_starters([int(i) for i in people])
        for planned in plan.groups:
            members = [people[m] for m in planned.members]
            uid = f"fika-{uuid.uuid4().hex}"
            group = Group(
                round_id=round_id,
                uid=uid,
                sequence=0,
                start_at=planned.start,
                end_at=planned.end,
                mode=planned.mode,
                site=planned.site,
                # Unguessable room names: anyone with the link can join a Jitsi room.
                video_url=template.format(room=secrets.token_hex(10)),
                reasons=list(planned.reasons),
                starter=choose_starter([starters.get(p.id, "") for p in members], uid),
                members=[GroupMember(person_id=p.id) for p in members],
            )
            db.session.add(group)
            db.session.flush()
            invite = build_invite(group, members, "REQUEST", programme.name, now)
            db.session.add_all(deliveries_for(invite, group, members, channels))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info(
        "round=%s programme=%s date=%s groups=%d unmatched=%d",
        round_id,
        programme.id,
        day,
        len(plan.groups),
        len(plan.unmatched),
    )
    return RoundOutcome(
        True,
        round_id,
        plan,
        f"{programme.name} on {day}: {len(plan.groups)} groups, {len(plan.unmatched)} unmatched",
        people,
    )


def _json_safe(stats: dict) -> dict:
    """Plan stats with keys as strings (JSON columns refuse int keys on some backends)."""
    safe = {}
    for key, value in stats.items():
        safe[str(key)] = _json_safe(value) if isinstance(value, dict) else value
    return safe
