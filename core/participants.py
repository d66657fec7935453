"""Who takes part in a round, and the planner's plain data for each of them.

:func:`taking_part` is the one place that decides who is in a programme's round on a date:
active and not paused, taking part that weekday, due by how often they asked for breaks, a
member of the programme (or of the default one when they chose none) that its department and
office filters let in, and, in a group programme, not someone who asked for one-to-ones only.
The round, its preview and the admin's numbers all ask it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import JSON, Text, cast, func, select

from core.db import db
from core.enums import Frequency, GroupSizePreference, GroupStatus, RoundStatus
from core.models import Group, GroupMember, Person, Preference, Programme, ProgrammeMember, Round
from core.programmes import may_join
from core.settings import Settings
from pairing import HistoryRound, Participant

log = logging.getLogger("fika.participants")

#: How many earlier rounds of a programme the planner sees: enough to rank "met longest ago".
HISTORY_ROUNDS = 60


#: Breaks a person may have had in the seven days before a round, by how often they asked for.
WEEKLY_CAP = {Frequency.DAILY: None, Frequency.FEW_PER_WEEK: 2, Frequency.WEEKLY: 1}


@dataclass(frozen=True, slots=True)
class CandidatePreference:
    """The columns of a :class:`Preference` a round reads, as plain values."""

    active: bool
    mode: str
    weekday_sites: dict
    days: list
    paused_until: date | None
    topics: list
    avoid: list
    frequency: str | None
    group_size_pref: str | None
    share_topics: list

    # The same rules as the Preference row's, so a plain copy and a row never disagree.
    site_on = Preference.site_on
    available_on = Preference.available_on


@dataclass(frozen=True, slots=True)
class Candidate:
    """Someone who may be in a round: the columns of a :class:`Person` a round reads.

    Loaded with one Core query instead of as ORM objects: at 50,000 people the identity map
    and the preference relationship cost more than the planning. Reads like a Person for
    the invite builders, the outbox and the tables (``first_name``, ``preference.site_on``).
    """

    id: int
    email: str
    name: str
    department: str
    manager_id: int | None
    timezone: str
    work_start: time
    work_end: time
    home_office: str | None
    language: str | None  # their own choice; None: the organisation's (messages use it)
    preference: CandidatePreference

    first_name = Person.first_name


#: The columns a round reads, in the order of Candidate's and CandidatePreference's fields.
PERSON_COLUMNS = (
    Person.id,
    Person.email,
    Person.name,
    Person.department,
    Person.manager_id,
    Person.timezone,
    Person.work_start,
    Person.work_end,
    Person.home_office,
    Person.language,
)
PREFERENCE_COLUMNS = (
    Preference.active,
    Preference.mode,
    Preference.weekday_sites,
    Preference.days,
    Preference.paused_until,
    Preference.topics,
    Preference.avoid,
    Preference.frequency,
    Preference.group_size_pref,
    Preference.share_topics,
)


def taking_part(programme: Programme, day: date) -> list[Candidate]:
    """Everyone in ``programme``'s round on ``day`` (see the module docstring), by id."""
    people = programme_members(programme, eligible_people(day))
    if programme.group_size > 2:
        # "One-to-one only" people sit out group programmes (pairs may still become a trio).
        people = [
            p for p in people if p.preference.group_size_pref != GroupSizePreference.ONE_TO_ONE
        ]
    return people


def eligible_people(day: date) -> list[Candidate]:
    """People with active, unpaused preferences who take part on ``day``'s weekday and are due.

    "Two or three times a week" and "once a week" are caps over the seven days before ``day``
    (any programme, cancelled breaks not counted), so they hold whatever the programme's days.
    """
    people = active_candidates()
    available = [p for p in people if p.preference.available_on(day)]
    capped = [p for p in available if WEEKLY_CAP.get(p.preference.frequency or Frequency.DAILY)]
    recent = recent_breaks([p.id for p in capped], day) if capped else {}
    return [
        p
        for p in available
        if (cap := WEEKLY_CAP.get(p.preference.frequency or Frequency.DAILY)) is None
        or recent.get(p.id, 0) < cap
    ]


def active_candidates() -> list[Candidate]:
    """Everyone with active preferences, by id, as plain Candidates (one Core query).

    The JSON columns are read as their text and decoded with one ``json.loads`` of them all,
    joined into one array: decoding them one value at a time (the driver's or SQLAlchemy's
    loader per value) was most of the load at 50,000 people, five values each.
    """
    split = len(PERSON_COLUMNS)
    columns = [
        cast(column, Text) if isinstance(column.type, JSON) else column
        for column in PREFERENCE_COLUMNS
    ]
    json_at = [split + i for i, column in enumerate(PREFERENCE_COLUMNS) if column is not columns[i]]
    rows = db.session.execute(
        select(*PERSON_COLUMNS, *columns)
        .join(Preference, Preference.person_id == Person.id)
        .where(Preference.active.is_(True))
        .order_by(Person.id)
    ).all()
    # SQL NULL reads as None, as JSON null does through the column's own type.
    texts = [row[i] or "null" for row in rows for i in json_at]
    values = iter(json.loads(f"[{','.join(texts)}]"))
    people = []
    for row in rows:
        row = list(row)
        for i in json_at:
            row[i] = next(values)
        people.append(Candidate(*row[:split], CandidatePreference(*row[split:])))
    return people


def recent_breaks(person_ids: list[int], day: date) -> dict[int, int]:
    """How many breaks (not cancelled) each person had in the seven days before ``day``."""
    rows = db.session.execute(
        select(GroupMember.person_id, func.count())
        .join(Group, Group.id == GroupMember.group_id)
        .join(Round, Round.id == Group.round_id)
        .where(
            GroupMember.person_id.in_(person_ids),
            Round.date >= day - timedelta(days=7),
            Round.date < day,
            Group.status != GroupStatus.CANCELLED,
        )
        .group_by(GroupMember.person_id)
    )
    return dict(rows.all())


def programme_members(programme: Programme, people: list[Candidate]) -> list[Candidate]:
    """Of ``people`` (already eligible that day), those taking part in ``programme``.

    :func:`eligible_people` finds who is available on a date; this narrows that list to the
    programme's members allowed by its department and office filters.
    """
    if not people:
        return []
    # The whole membership table in one read: an IN list per 900 people (SQLite's parameter
    # limit) was 56 round trips at 50,000 people, and the table has about one row per person.
    wanted = {p.id for p in people}
    chosen: dict[int, set[int]] = {}
    rows = db.session.execute(select(ProgrammeMember.person_id, ProgrammeMember.programme_id))
    for person_id, programme_id in rows:
        if person_id in wanted:
            chosen.setdefault(person_id, set()).add(programme_id)
    default_id = db.session.scalar(select(Programme.id).order_by(Programme.id).limit(1))
    result = []
    for person in people:
        member = programme.id in chosen.get(person.id, {default_id})
        if member and may_join(programme, person):
            result.append(person)
    return result


def busy_times(settings: Settings, people: list[Candidate], day: date) -> dict[str, tuple]:
    """Meetings already in people's calendars on ``day`` (Graph or Google free/busy), by email.

    Without a calendar service, or when it fails, nobody has known busy times: the round still
    runs, just without that extra care.
    """
    from integrations.base import DeliveryError
    from integrations.catalogue import busy_source

    source = busy_source(settings.channel_settings)
    if source is None or not people:
        return {}
    start = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(hours=14)
    end = start + timedelta(hours=52)  # every zone's whole local day
    try:
        found = source([p.email for p in people], start, end)
    except DeliveryError as exc:
        log.warning("free/busy lookup failed, planning without it: %s", exc.reason)
        return {}
    return {email.lower(): tuple(spans) for email, spans in found.items()}


def to_participant(person: Person | Candidate, day: date, busy: tuple = ()) -> Participant:
    """The planner's view of ``person`` on ``day``: site that day, zone, hours, mode, bans."""
    pref = person.preference
    return Participant(
        busy=busy,
        id=str(person.id),
        department=person.department,
        site=pref.site_on(day, person.home_office),
        timezone=person.timezone,
        work_hours=(person.work_start, person.work_end),
        mode=pref.mode,
        manager=str(person.manager_id) if person.manager_id else None,
        avoid=frozenset(str(a) for a in (pref.avoid or [])),
        topics=tuple(pref.topics or ()),
        share_topics=tuple(pref.share_topics or ()),
    )


def history(programme: Programme, before: date) -> tuple[HistoryRound, ...]:
    """The groups of the programme's last rounds before ``before`` that did happen.

    Cancelled groups and groups whose members said they did not meet are left out, so the people
    in them are not kept apart as if they had met. One Core query over plain columns: with tens
    of thousands of people, 60 rounds are millions of seats, too many to load as objects.
    """
    recent = (
        select(Round.id, Round.date)
        .where(
            Round.programme_id == programme.id,
            Round.date < before,
            Round.status == RoundStatus.PLANNED,
        )
        .order_by(Round.date.desc())
        .limit(HISTORY_ROUNDS)
        .subquery()
    )
    rows = db.session.execute(
        select(recent.c.date, Group.id, GroupMember.person_id, GroupMember.met)
        .join(Group, Group.round_id == recent.c.id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.status != GroupStatus.CANCELLED)
        .order_by(recent.c.date.desc(), Group.id)
    )
    days = db.session.scalars(select(recent.c.date).order_by(recent.c.date.desc())).all()
    by_round: dict[date, dict[int, list[str]]] = {day: {} for day in days}
    not_met: set[int] = set()
    for day, group_id, person_id, met in rows:
        by_round[day].setdefault(group_id, []).append(str(person_id))
        if met is False:
            not_met.add(group_id)
    return tuple(
        HistoryRound(
            date=day,
            groups=tuple(tuple(m) for g, m in groups.items() if g not in not_met),
        )
        for day, groups in by_round.items()
    )


def member_rows(group_id: int) -> list[GroupMember]:
    """The seats of one group (for updates and cancellations)."""
    return list(db.session.scalars(select(GroupMember).where(GroupMember.group_id == group_id)))
