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
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select, text

from core import faults, learning_teams
from core.bulk import cycle_collector_paused, insert_rows
from core.db import db
from core.enums import GroupStatus, RoundStatus
from core.events import log_event
from core.i18n import gettext as _
from core.i18n import ngettext, using
from core.invites import build_invite
from core.models import Group, GroupMember, Programme
from core.outbox import Outbox
from core.participants import Candidate, busy_times, history, taking_part, to_participant
from core.programmes import break_start
from core.round_claims import RoundOutcome, claim_round, default_seed, existing_round
from core.settings import Settings
from integrations import notices
from integrations.base import MessageKind, Notice
from integrations.starters import choose_starter
from pairing import Plan, PlanRequest, plan_round

log = logging.getLogger("fika.round")

#: How far back the conversation starters people saw are remembered (to rotate them).
STARTER_MEMORY = timedelta(days=14)


def plan_request(
    programme: Programme, day: date, people: list[Candidate], seed: int, busy: dict | None = None
) -> PlanRequest:
    """The planner's input for ``programme`` on ``day`` (``busy``: calendar meetings by email)."""
    busy = busy or {}
    return PlanRequest(
        date=day,
        participants=tuple(
            _with_topic(to_participant(p, day, busy.get(p.email, ())), programme.topic)
            for p in people
        ),
        history=history(programme, day),
        group_size=programme.group_size,
        duration_minutes=programme.duration_minutes,
        cooldown_rounds=programme.cooldown_rounds,
        seed=seed,
        preferred_start=break_start(programme, day).astimezone(UTC),
    )


def _with_topic(participant, topic: str | None):
    """In a programme around a topic (learning teams), joining it says you are curious about it."""
    if not topic or topic in participant.topics:
        return participant
    return replace(participant, topics=(*participant.topics, topic))


def preview_round(
    settings: Settings, programme: Programme, day: date, seed: int | None = None
) -> RoundOutcome:
    """Plan the round without writing anything (a drop-in room has nothing to plan)."""
    if programme.is_drop_in:
        return RoundOutcome(False, None, None, drop_in_message(programme))
    if programme.is_learning_team:
        return RoundOutcome(False, None, None, learning_teams.preview_message(programme))
    with cycle_collector_paused():
        people = taking_part(programme, day)
        seed = default_seed(programme, day) if seed is None else seed
        busy = busy_times(settings, people, day)
        plan = plan_round(plan_request(programme, day, people, seed, busy))
    return RoundOutcome(
        created=False,
        round_id=None,
        plan=plan,
        message=_(
            "preview: %(groups)s for %(people)s",
            groups=_groups(len(plan.groups)),
            people=_people(len(people)),
        ),
        people={str(p.id): p for p in people},
    )


def _groups(count: int) -> str:
    return ngettext("%(num)d group", "%(num)d groups", count)


def _people(count: int) -> str:
    return ngettext("%(num)d person", "%(num)d people", count)


def drop_in_message(programme: Programme) -> str:
    """Why a drop-in programme has no rounds: people join its room when they like."""
    return _(
        "%(name)s is a drop-in room: nobody is matched, there is no round to run",
        name=programme.name,
    )


def _last_starters(person_ids: list[int], since: datetime) -> dict[int, str]:
    """The conversation starter each person saw most recently, to rotate away from it.

    Only breaks since ``since`` are read, and people are filtered here rather than in an IN
    list of every participant (tens of thousands of bound parameters).
    """
    wanted = set(person_ids)
    rows = db.session.execute(
        select(GroupMember.person_id, Group.starter)
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.start_at >= since)
        .order_by(Group.start_at)
    )
    return {person_id: starter for person_id, starter in rows if person_id in wanted}


@cycle_collector_paused()  # tens of thousands of rows: see core.bulk
def run_round(
    settings: Settings,
    programme: Programme,
    day: date,
    *,
    seed: int | None = None,
    now: datetime | None = None,
) -> RoundOutcome:
    """Run the round for (programme, day) exactly once; later calls change nothing.

    The clock, ``fika round``, the admin's "run now" and ``fika demo`` all call this.
    """
    if programme.is_drop_in:
        return RoundOutcome(False, None, None, drop_in_message(programme))
    if programme.is_learning_team:
        return learning_teams.run_teams(settings, programme, day, seed=seed, now=now)
    previous = existing_round(programme, day)
    if previous is not None:
        if previous.status == RoundStatus.MISSED:
            said = _(
                "%(name)s on %(day)s: was recorded as missed, nothing to do",
                name=programme.name,
                day=day,
            )
        else:
            said = _(
                "%(name)s on %(day)s: already ran, nothing to do", name=programme.name, day=day
            )
        return RoundOutcome(False, None, None, said)
    outcome = preview_round(settings, programme, day, seed)
    plan = outcome.plan
    assert plan is not None
    now = now or datetime.now(UTC)
    people = outcome.people
    try:
        round_id = claim_round(
            programme,
            day,
            stats=_json_safe(plan.stats),
            unmatched=[{"id": u.id, "reason": u.reason} for u in plan.unmatched],
        )
        if round_id is None:
            db.session.rollback()
            log_event(log, "round.raced", programme=programme.id, date=day)
            return RoundOutcome(
                False,
                None,
                None,
                _("%(name)s on %(day)s: already ran, nothing to do", name=programme.name, day=day),
                raced=True,
            )
        deliveries = _persist_groups(settings, programme, round_id, plan, people, now)
        # The announcement goes with the round: once, and retried when a webhook fails.
        outbox = Outbox(settings)
        with using(programme.language):  # a shared channel reads the programme's language
            notice = announcement(plan, people)
        notices = outbox.notice_rows(
            MessageKind.ANNOUNCEMENT, f"announcement-{round_id}", notice, now, round_id=round_id
        )
        deliveries += outbox.write(notices)
        faults.reach("round.before_commit")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log_event(
        log,
        "round.planned",
        round=round_id,
        programme=programme.id,
        date=day,
        groups=len(plan.groups),
        unmatched=len(plan.unmatched),
        deliveries=deliveries,
    )
    return RoundOutcome(
        True,
        round_id,
        plan,
        _(
            "%(name)s on %(day)s: %(groups)s, %(unmatched)d unmatched",
            name=programme.name,
            day=day,
            groups=_groups(len(plan.groups)),
            unmatched=len(plan.unmatched),
        ),
        people,
    )


def announcement(plan: Plan, people: dict[str, Candidate]) -> Notice:
    """The notice after a round: how many people were placed, from how many departments."""
    placed = [people[m] for g in plan.groups for m in g.members if m in people]
    hybrid = plan.stats.get("hybrid", 0) / len(plan.groups) if plan.groups else 0.0
    return notices.announcement(len(placed), len({p.department for p in placed}), hybrid)


def _persist_groups(
    settings: Settings,
    programme: Programme,
    round_id: int,
    plan: Plan,
    people: dict[str, Candidate],
    now: datetime,
) -> int:
    """Write the groups, seats and outbox rows in bulk (COPY on PostgreSQL, Core executemany
    elsewhere; never one ORM flush per group), with group ids taken up front so no RETURNING
    is needed.

    Returns how many deliveries were written. Runs inside the round's transaction.
    """
    if not plan.groups:
        return 0
    template = settings.video_url_template
    starters = _last_starters([int(i) for i in people], now - STARTER_MEMORY)
    rows = []
    for planned in plan.groups:
        uid = f"fika-{uuid.uuid4().hex}"
        member_ids = [people[m].id for m in planned.members]
        rows.append(
            {
                "round_id": round_id,
                "uid": uid,
                "sequence": 0,
                "status": GroupStatus.SCHEDULED,
                "start_at": planned.start,
                "end_at": planned.end,
                "mode": planned.mode,
                "site": planned.site,
                # Unguessable room names: anyone with the link can join a Jitsi room.
                "video_url": template.format(room=secrets.token_hex(10)),
                "reasons": list(planned.reasons),
                "starter": choose_starter([starters.get(p, "") for p in member_ids], uid),
            }
        )
    group_ids = _new_ids("fika_group", len(rows))
    for row, group_id in zip(rows, group_ids, strict=True):
        row["id"] = group_id
    seats, messages = [], []
    outbox = Outbox(settings)
    for row, planned in zip(rows, plan.groups, strict=True):
        members = [people[m] for m in planned.members]
        seats.extend({"group_id": row["id"], "person_id": p.id} for p in members)
        # Only read by the invite builders: a plain namespace, not a transient ORM object (whose
        # instrumented constructor costs more than the invite at 25,000 groups).
        group = SimpleNamespace(**row)
        invite = build_invite(settings, group, members, "REQUEST", programme.name, now)
        messages += outbox.invite_rows(
            invite, group, members, now, programme_language=programme.language
        )
    # COPY on PostgreSQL, Core executemany elsewhere: no ORM bookkeeping per row.
    insert_rows(Group.__table__, rows)
    insert_rows(GroupMember.__table__, seats)
    return outbox.write_many(messages)


def _new_ids(table: str, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, so rows can be inserted without RETURNING.

    PostgreSQL: from the column's sequence (safe under concurrency). SQLite: after max(id), which
    is safe because the round's INSERT already holds SQLite's single write lock.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        statement = text(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"
        )
        return list(db.session.scalars(statement, {"n": count}))
    start = db.session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))
    return list(range(start + 1, start + 1 + count))


def record_missed(programme: Programme, day: date, reason: str) -> RoundOutcome:
    """Record that the round for (programme, day) did not happen, visibly (status "missed").

    Uses the same UNIQUE key, so a missed day can never also get a late round.
    """
    round_id = claim_round(
        programme, day, stats={"missed": reason}, unmatched=[], status=RoundStatus.MISSED
    )
    db.session.commit()
    if round_id is None:
        return RoundOutcome(
            False, None, None, _("%(name)s on %(day)s: already ran", name=programme.name, day=day)
        )
    log_event(
        log,
        "round.missed",
        logging.WARNING,
        round=round_id,
        programme=programme.id,
        date=day,
        reason=reason,
    )
    said = _(
        "%(name)s on %(day)s: missed (%(reason)s)", name=programme.name, day=day, reason=reason
    )
    return RoundOutcome(False, round_id, None, said)


def _json_safe(stats: dict) -> dict:
    """Plan stats with keys as strings (JSON columns refuse int keys on some backends)."""
    safe = {}
    for key, value in stats.items():
        safe[str(key)] = _json_safe(value) if isinstance(value, dict) else value
    return safe
