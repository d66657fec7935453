"""A person's next coffee break: the one answer every page gives ("You're in", /me, chat).

Before a round is planned the next break is *expected*: the first working slot of one of the
person's programmes (``core.programmes.slots_after``, the clock's own rule: its days, cadence,
holidays and days off) whose round is not planned yet and on which the person would take part
(active, not paused, that weekday, due by how often they asked for breaks, let in by the
programme's filters, the same rules as ``core.participants.taking_part``). After the round is
planned it is *planned*: the real group, with its time, people and link. Whichever comes first
is the next break.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from sqlalchemy import Boolean, Date, bindparam, cast, null, select, union_all
from sqlalchemy.orm import joinedload

from core.db import db
from core.enums import Frequency, GroupSizePreference, GroupStatus
from core.models import WEEKDAYS, Group, GroupMember, Person, Programme, ProgrammeMember, Round
from core.participants import WEEKLY_CAP
from core.programmes import Applicant, may_join, programmes_for, slots_after

#: Working slots of one programme looked at before giving up (a paused year still fits).
MAX_SLOTS = 400


@dataclass(frozen=True)
class Availability:
    """What of a person's preferences decides on which days they can have a break.

    The defaults are those of someone who has just joined (``core.models.Preference``).
    """

    active: bool = True
    days: frozenset[str] = frozenset(WEEKDAYS[:5])
    frequency: str = Frequency.DAILY
    paused_until: date | None = None
    one_to_one_only: bool = False

    @classmethod
    def of(cls, person: Person) -> Availability:
        """The availability a stored person's preferences give (none: not taking part)."""
        pref = person.preference
        if pref is None:
            return cls(active=False)
        return cls(
            active=bool(pref.active),
            days=frozenset(pref.days or ()),
            frequency=pref.frequency or Frequency.DAILY,
            paused_until=pref.paused_until,
            one_to_one_only=pref.group_size_pref == GroupSizePreference.ONE_TO_ONE,
        )

    def takes_part(self, programme: Programme, day: date, breaks_before: Sequence[date]) -> bool:
        """Whether they would be in ``programme``'s round on ``day``.

        ``breaks_before``: the dates of their breaks (not cancelled), for the weekly cap.
        """
        if not self.active or (self.paused_until is not None and day < self.paused_until):
            return False
        if WEEKDAYS[day.weekday()] not in self.days:
            return False
        if programme.group_size > 2 and self.one_to_one_only:
            return False
        cap = WEEKLY_CAP.get(self.frequency)
        if cap is None:
            return True
        week = day - timedelta(days=7)
        return sum(1 for d in breaks_before if week <= d < day) < cap


@dataclass(frozen=True)
class NextBreak:
    """The next break: planned (``group`` and ``seat`` set) or expected (both None)."""

    start: datetime  # aware, UTC
    end: datetime
    expected_in: Programme | None = None  # the programme of an expected break
    group: Group | None = None
    seat: GroupMember | None = None
    others: list[Person] = field(default_factory=list)  # planned only, by name

    @property
    def planned(self) -> bool:
        """Whether the round is planned: the group, its people and link are known."""
        return self.group is not None

    @property
    def programme(self) -> Programme:
        """The programme the break belongs to (a planned one's is read when first asked)."""
        return self.expected_in if self.group is None else self.group.round.programme


_rounds, _groups, _seats = Round.__table__, Group.__table__, GroupMember.__table__

#: Rounds from ``since`` on, and whether ``person_id`` has a break (not cancelled) in each.
#: On the tables, not the mapped classes: a Core statement skips the ORM's per-execution set-up,
#: and these rows are plain columns. ``status != NUDGED`` is ``Round.is_round()``.
_ROUNDS_SINCE = select(
    _rounds.c.programme_id,
    _rounds.c.date,
    _rounds.c.id.in_(
        select(_groups.c.round_id)
        .join(_seats, _seats.c.group_id == _groups.c.id)
        .where(
            _seats.c.person_id == bindparam("person_id"),
            _groups.c.status != GroupStatus.CANCELLED,
        )
    ),
).where(
    _rounds.c.date >= bindparam("since", type_=_rounds.c.date.type),
    _rounds.c.status != Round.NUDGED,
)


def rounds_since(
    since: date, person_id: int | None = None
) -> tuple[dict[int, set[date]], list[date]]:
    """Rounds from ``since`` on, in one query: (planned or missed dates by programme id, the
    dates of ``person_id``'s breaks in them that were not cancelled)."""
    rows = db.session.execute(_ROUNDS_SINCE, {"since": since, "person_id": person_id or 0})
    planned: dict[int, set[date]] = {}
    breaks = []
    for programme_id, day, mine in rows:
        planned.setdefault(programme_id, set()).add(day)
        if mine:
            breaks.append(day)
    return planned, breaks


#: The programmes ``person_id`` chose (rows without a date), then :data:`_ROUNDS_SINCE`'s rows:
#: the two reads of :func:`next_break_for` in one statement.
_CHOSEN_AND_ROUNDS = union_all(
    select(
        ProgrammeMember.__table__.c.programme_id, cast(null(), Date), cast(null(), Boolean)
    ).where(ProgrammeMember.__table__.c.person_id == bindparam("person_id")),
    _ROUNDS_SINCE,
)


def chosen_and_rounds_since(
    since: date, person_id: int
) -> tuple[set[int], dict[int, set[date]], list[date]]:
    """(The ids of the programmes ``person_id`` chose, and :func:`rounds_since`), in one query."""
    rows = db.session.execute(_CHOSEN_AND_ROUNDS, {"since": since, "person_id": person_id})
    chosen: set[int] = set()
    planned: dict[int, set[date]] = {}
    breaks = []
    for programme_id, day, mine in rows:
        if day is None:
            chosen.add(programme_id)
            continue
        planned.setdefault(programme_id, set()).add(day)
        if mine:
            breaks.append(day)
    return chosen, planned, breaks


def expected_break(
    programmes: Iterable[Programme],
    availability: Availability,
    now: datetime,
    *,
    breaks_before: Sequence[date] = (),
    planned_days: dict[int, set[date]] | None = None,
    may_take_part=lambda programme: True,
) -> NextBreak | None:
    """The first slot of ``programmes`` not planned yet (its planning time after ``now``) on
    which ``availability`` takes part; None when there is none within :data:`MAX_SLOTS`.

    ``planned_days``: dates whose round is planned already, by programme id (those slots are
    over for someone not in them). ``may_take_part``: the programme's department and office
    filter for this person.
    """
    planned_days = planned_days or {}
    best: NextBreak | None = None
    for programme in programmes:
        if not programme.active or programme.is_drop_in or not may_take_part(programme):
            continue
        for slot in islice(slots_after(programme, now), MAX_SLOTS):
            day, start = slot.day, slot.start.astimezone(UTC)
            if best is not None and start >= best.start:
                break
            if day in planned_days.get(programme.id, ()):
                continue
            if availability.takes_part(programme, day, breaks_before):
                end = start + timedelta(minutes=programme.duration_minutes)
                best = NextBreak(start=start, end=end, expected_in=programme)
                break
    return best


#: The first planned group of ``person_id`` starting after ``now``, with its people; built once.
_UPCOMING = (
    select(Group)
    .join(GroupMember, GroupMember.group_id == Group.id)
    .where(
        GroupMember.person_id == bindparam("person_id"),
        Group.start_at > bindparam("now", type_=Group.start_at.type),
        Group.status == GroupStatus.SCHEDULED,
    )
    .order_by(Group.start_at, Group.id)
    .limit(1)
    .options(joinedload(Group.members).joinedload(GroupMember.person))
)


def _upcoming_group(person: Person, now: datetime) -> Group | None:
    """The person's first planned group still ahead of ``now`` (not cancelled)."""
    return db.session.scalars(_UPCOMING, {"person_id": person.id, "now": now}).unique().first()


def _planned(person: Person, group: Group) -> NextBreak:
    seat = next(m for m in group.members if m.person_id == person.id)
    others = sorted((m.person for m in group.members if m.person_id != person.id), key=_name)
    return NextBreak(start=group.start_at, end=group.end_at, group=group, seat=seat, others=others)


def _name(person: Person) -> str:
    return person.name


def _since(now: datetime) -> date:
    """A date early enough for every zone's today and the seven-day cap before it."""
    return now.date() - timedelta(days=8)


def next_break_for(
    person: Person,
    now: datetime,
    *,
    ahead: Sequence[Group] | None = None,
    every_programme: Sequence[Programme] | None = None,
) -> NextBreak | None:
    """The stored ``person``'s next break: their planned group, or the expected slot if earlier.

    /me, chat and every other page that names someone's next break ask this. ``ahead``: the
    person's groups still to come (not cancelled, soonest first, with their members), when the
    caller has loaded them already; otherwise they are read. ``every_programme``: every
    programme, oldest first, when the caller holds read-only copies (the web's kept ones); then
    which of them the person takes part in (``programmes_for``'s rule: those they chose, or
    else the first) is read in the same statement as the rounds.
    """
    group = (ahead[0] if ahead else None) if ahead is not None else _upcoming_group(person, now)
    planned = _planned(person, group) if group is not None else None
    availability = Availability.of(person)
    if not availability.active:
        return planned
    if every_programme is None:
        programmes = programmes_for(person)
        planned_days, breaks = rounds_since(_since(now), person.id)
    else:
        chosen, planned_days, breaks = chosen_and_rounds_since(_since(now), person.id)
        programmes = (
            [p for p in every_programme if p.id in chosen] if chosen else list(every_programme[:1])
        )
    expected = expected_break(
        programmes,
        availability,
        now,
        breaks_before=breaks,
        planned_days=planned_days,
        may_take_part=lambda programme: may_join(programme, person),
    )
    if planned is None or (expected is not None and expected.start < planned.start):
        return expected
    return planned


def next_break_for_applicant(
    applicant: Applicant, programmes: Sequence[Programme], now: datetime
) -> NextBreak | None:
    """The first break of someone joining now, with a new person's preferences.

    The opt-in form answers from what was typed alone (it must not tell whether the address
    was known), so this is what :func:`next_break_for` says for them once they are stored.
    """
    return expected_break(
        programmes,
        Availability(),
        now,
        planned_days=rounds_since(_since(now))[0],
        may_take_part=lambda programme: may_join(programme, applicant),
    )
