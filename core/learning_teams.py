"""Learning teams: a programme's teams formed once, late joiners placed, one series per team.

A programme of kind ``learning_team`` is not matched each round. Its first round forms teams
with :func:`pairing.form_teams` (learners: members whose ``topics`` hold the programme's topic;
sharers: those whose ``share_topics`` do) and stores each team as a ``Group`` of that round:
UID ``fika-team-<programme>-<hex>``, ``start_at`` its first meeting, ``video_url`` its room,
``sequence`` the SEQUENCE of its calendar series, ``GroupMember`` rows its seats. The team meets
on the programme's day at its time, every week or every other week (``cadence``), until
``ends_on``: each member holds one recurring invite with the team's UID (``RoomInvite`` with
``team`` set; RRULE with INTERVAL and UNTIL), written to the outbox in the transaction that
changes the team, as ``core.drop_in`` does for rooms.

Later rounds never reshuffle. They place members who joined since into a team with room, or
into new teams once enough of them wait (``form_teams`` keeps its hard rules); the Round row of
that date holds any new team. With nobody to place they write nothing and say so. A member
leaving gets a CANCEL of the series; the others an update (same UID, SEQUENCE + 1).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, Select, select

from core.db import db
from core.enums import Cadence, GroupStatus, ProgrammeKind
from core.events import log_event
from core.i18n import gettext as _
from core.i18n import ngettext
from core.invites import attendee, organiser
from core.models import (
    WEEKDAYS,
    Group,
    GroupMember,
    Person,
    Preference,
    Programme,
    Round,
    TeamProgress,
)
from core.outbox import Outbox
from core.participants import (
    PERSON_COLUMNS,
    PREFERENCE_COLUMNS,
    Candidate,
    CandidatePreference,
    busy_times,
    programme_members,
    to_participant,
)
from core.programmes import break_start
from core.round_claims import RoundOutcome, claim_round, default_seed, existing_round
from core.settings import Settings
from integrations.base import RoomInvite
from pairing import RequestError
from pairing.teams import ExistingTeam, TeamPlan, TeamRequest, form_teams

log = logging.getLogger("fika.teams")

#: Every learning team's UID starts so (a break's is ``fika-<hex>``).
TEAM_UID_PREFIX = "fika-team-"


def team_uid(programme_id: int) -> str:
    """A new team's UID: stable for the team's life, so every version folds into one series."""
    return f"{TEAM_UID_PREFIX}{programme_id}-{secrets.token_hex(6)}"


def is_team(group: Group) -> bool:
    """Whether ``group`` is a learning team (a recurring series) rather than one break."""
    return group.uid.startswith(TEAM_UID_PREFIX)


def interval_weeks(programme: Programme) -> int:
    """Weeks between two meetings: 1 weekly, 2 biweekly (fortnightly)."""
    return 2 if programme.cadence == Cadence.BIWEEKLY else 1


def meeting_day_from(programme: Programme, day: date) -> date:
    """The programme's meeting day on or after ``day``."""
    wanted = WEEKDAYS.index((programme.days or ["mon"])[0])
    return day + timedelta(days=(wanted - day.weekday()) % 7)


def _fold(text: str) -> str:
    return text.strip().casefold()


def _holds(topics: list | None, topic: str) -> bool:
    return _fold(topic) in {_fold(t) for t in topics or ()}


def is_sharer(preference: Preference | CandidatePreference | None, topic: str) -> bool:
    """Whether someone can share ``topic`` (their ``share_topics`` hold it)."""
    return preference is not None and _holds(preference.share_topics, topic)


def is_learner(preference: Preference | CandidatePreference | None, topic: str) -> bool:
    """Whether someone wants to learn ``topic`` (their ``topics`` hold it)."""
    return preference is not None and _holds(preference.topics, topic)


def teams_of(programme: Programme) -> list[Group]:
    """The programme's teams still on, oldest first."""
    return list(
        db.session.scalars(
            select(Group)
            .join(Round, Round.id == Group.round_id)
            .where(
                Round.programme_id == programme.id,
                Group.status == GroupStatus.SCHEDULED,
                Group.uid.startswith(TEAM_UID_PREFIX),
            )
            .order_by(Group.id)
        )
    )


def _active_candidates() -> list[Candidate]:
    split = len(PERSON_COLUMNS)
    rows = db.session.execute(
        select(*PERSON_COLUMNS, *PREFERENCE_COLUMNS)
        .join(Preference, Preference.person_id == Person.id)
        .where(Preference.active.is_(True))
        .order_by(Person.id)
    )
    return [Candidate(*row[:split], CandidatePreference(*row[split:])) for row in rows]


def preview_message(programme: Programme) -> str:
    """What a preview of a learning-team programme says: its teams are formed, not planned."""
    teams = teams_of(programme)
    if teams:
        return ngettext(
            "%(name)s: %(num)d learning team is formed; later rounds only place newcomers. "
            "Run the round to form or fill teams.",
            "%(name)s: %(num)d learning teams are formed; later rounds only place newcomers. "
            "Run the round to form or fill teams.",
            len(teams),
            name=programme.name,
        )
    return _(
        "%(name)s: learning teams are formed by the first round, not previewed. "
        "Run the round to form them.",
        name=programme.name,
    )


def _nothing(message: str) -> RoundOutcome:
    return RoundOutcome(False, None, None, message)


def run_teams(
    settings: Settings,
    programme: Programme,
    day: date,
    *,
    seed: int | None = None,
    now: datetime | None = None,
) -> RoundOutcome:
    """Form the programme's teams (first call), or place those who joined since; once.

    Writes a Round for ``day`` only when a team is formed or joined; otherwise nothing, and
    the message says why. ``plan`` of the outcome is None: teams are not a coffee plan.
    """
    now = now or datetime.now(UTC)
    name = programme.name
    if existing_round(programme, day) is not None:
        return _nothing(_("%(name)s on %(day)s: already ran, nothing to do", name=name, day=day))
    if programme.starts_on is None or programme.ends_on is None or not programme.days:
        return _nothing(
            _("%(name)s: a learning-team programme needs its start and end dates", name=name)
        )
    meets = meeting_day_from(programme, max(day, programme.starts_on))
    if meets > programme.ends_on:
        return _nothing(
            _("%(name)s: ended on %(day)s, no teams to form", name=name, day=programme.ends_on)
        )
    teams = teams_of(programme)
    seats: dict[int, list[int]] = {t.id: [] for t in teams}
    for group_id, person_id in db.session.execute(
        select(GroupMember.group_id, GroupMember.person_id).where(
            GroupMember.group_id.in_(list(seats))
        )
    ):
        seats[group_id].append(person_id)
    seated = {p for members in seats.values() for p in members}
    everyone = _active_candidates()
    topic = programme.topic
    members = programme_members(programme, everyone)
    interested = [
        p
        for p in members
        # A self-formed team's members chose it (or were invited by name): all are in.
        if (
            programme.started_by is not None
            or is_learner(p.preference, topic)
            or is_sharer(p.preference, topic)
        )
        and (p.preference.paused_until is None or p.preference.paused_until <= meets)
    ]
    newcomers = [p for p in interested if p.id not in seated]
    if teams and not newcomers:
        return _nothing(
            _(
                "%(name)s: the teams are formed (%(teams)d), nobody waits: nothing to do",
                name=name,
                teams=len(teams),
            )
        )
    by_id = {p.id: p for p in everyone}
    people = [by_id[p] for p in sorted(seated) if p in by_id] + newcomers
    busy = busy_times(settings, people, meets)
    start = break_start(programme, meets)
    request = TeamRequest(
        topic=topic,
        participants=tuple(to_participant(p, meets, busy.get(p.email, ())) for p in people),
        start=start,
        team_size=programme.group_size,
        duration_minutes=programme.duration_minutes,
        existing=tuple(
            ExistingTeam(id=str(t.id), members=tuple(str(m) for m in seats[t.id])) for t in teams
        ),
        cooldown_rounds=programme.cooldown_rounds,
        seed=default_seed(programme, day) if seed is None else seed,
    )
    try:
        plan = form_teams(request)
    except RequestError as exc:
        return _nothing(_("%(name)s: cannot form teams: %(reason)s", name=name, reason=exc))
    joined = [t for t in plan.teams if t.id is not None and t.joined]
    new = [t for t in plan.teams if t.id is None]
    waiting = len(plan.unplaced)
    if not joined and not new:
        return _nothing(
            _(
                "%(name)s: the teams are formed (%(teams)d), %(waiting)d waiting for a team",
                name=name,
                teams=len(teams),
                waiting=waiting,
            )
        )
    return _persist(settings, programme, day, plan, by_id, teams, now)


def _persist(
    settings: Settings,
    programme: Programme,
    day: date,
    plan: TeamPlan,
    people: dict[int, Candidate],
    teams: list[Group],
    now: datetime,
) -> RoundOutcome:
    """Claim the Round for ``day``, store new teams and seats, and queue the invites."""
    stats = {k: v for k, v in plan.stats.items() if isinstance(v, int | str)}
    unplaced = [{"id": u.id, "reason": u.reason} for u in plan.unplaced]
    try:
        round_id = claim_round(programme, day, stats=stats, unmatched=unplaced)
        if round_id is None:
            db.session.rollback()
            return RoundOutcome(
                False,
                None,
                None,
                _("%(name)s on %(day)s: already ran", name=programme.name, day=day),
                raced=True,
            )
        by_id = {str(t.id): t for t in teams}
        formed = joined = 0
        template = settings.video_url_template
        for planned in plan.teams:
            if planned.id is None:
                group = Group(
                    round_id=round_id,
                    uid=team_uid(programme.id),
                    sequence=0,
                    status=GroupStatus.SCHEDULED,
                    start_at=planned.start.astimezone(UTC),
                    end_at=planned.end.astimezone(UTC),
                    mode=planned.mode,
                    site=planned.site,
                    video_url=template.format(room=secrets.token_hex(10)),
                    reasons=list(planned.reasons),
                    starter="",
                )
                db.session.add(group)
                db.session.flush()
                added = [int(m) for m in planned.members]
                formed += 1
            elif planned.joined:
                group = by_id[planned.id]
                group.sequence += 1  # everyone's series changes: a new member list
                added = [int(m) for m in planned.joined]
                joined += len(added)
            else:
                continue
            db.session.add_all(GroupMember(group_id=group.id, person_id=p) for p in added)
            db.session.flush()
            send_team(settings, programme, group, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log_event(
        log,
        "teams.formed",
        round=round_id,
        programme=programme.id,
        date=day,
        teams=formed,
        joined=joined,
        waiting=len(plan.unplaced),
    )
    message = _(
        "%(name)s on %(day)s: new teams: %(formed)d, joined a team: %(joined)d, waiting: "
        "%(waiting)d",
        name=programme.name,
        day=day,
        formed=formed,
        joined=joined,
        waiting=len(plan.unplaced),
    )
    return RoundOutcome(True, round_id, None, message)


def team_members(group: Group) -> list[Person]:
    """The team's members as people, by id."""
    return list(
        db.session.scalars(
            select(Person)
            .join(GroupMember, GroupMember.person_id == Person.id)
            .where(GroupMember.group_id == group.id)
            .order_by(Person.id)
        )
    )


def build_team_invite(
    settings: Settings,
    programme: Programme,
    group: Group,
    members: list[Person],
    person: Person,
    method: str,
    now: datetime,
) -> RoomInvite:
    """``person``'s copy of the team's series at the team's SEQUENCE."""
    name, address = organiser(settings)
    zone = ZoneInfo(programme.timezone)
    first = group.start_at.astimezone(zone)
    return RoomInvite(
        uid=group.uid,
        sequence=group.sequence,
        method=method,  # type: ignore[arg-type]
        programme=programme.name,
        days=(WEEKDAYS[first.weekday()],),
        local_time=first.time().replace(tzinfo=None),
        timezone=programme.timezone,
        duration_minutes=programme.duration_minutes,
        first_day=first.date(),
        room_url=group.video_url,
        organizer_name=name,
        organizer_email=address,
        attendee=attendee(person, person.home_office),
        stamp=now,
        team=True,
        interval=interval_weeks(programme),
        until=programme.ends_on,
        topic=programme.topic,
        members=tuple(m.name for m in members),
        goal=_goal(group),
        goal_url=f"{settings.base_url}/teams/{group.uid}",
    )


def _goal(group: Group) -> str:
    progress = db.session.get(TeamProgress, group.id)
    return progress.goal if progress is not None else ""


def active_candidates() -> list[Candidate]:
    """Everyone taking part, with their preferences, by id (who a programme reaches)."""
    return _active_candidates()


def send_team(
    settings: Settings,
    programme: Programme,
    group: Group,
    now: datetime,
    *,
    cancel: list[Person] = (),  # type: ignore[assignment]
    detach: int | None = None,
) -> int:
    """Queue the team's current version (REQUEST) to every member, and a CANCEL of the series
    to each of ``cancel`` (who just left; ``detach``: the id of one being erased). Returns the
    rows written."""
    outbox = Outbox(settings)
    members = team_members(group)
    rows = []
    for person in members:
        invite = build_team_invite(settings, programme, group, members, person, "REQUEST", now)
        rows += outbox.room_rows(invite, person, now, group=group)
    for person in cancel:
        invite = build_team_invite(settings, programme, group, members, person, "CANCEL", now)
        rows += outbox.room_rows(invite, person, now, group=group, detach=person.id == detach)
    return outbox.write(rows)


def teams_of_person(person: Person) -> Select:
    """The person's learning teams still on, with their programmes, oldest first (a query)."""
    return _of_person(select(Group, Programme), person.id)


def team_titles_of(person_id: int | BindParameter) -> Select:
    """:func:`teams_of_person` as a page lists them: each team's id and UID, its programme's
    topic, name and last day (columns, no objects; ``person_id`` may be a bound parameter)."""
    columns = (Group.id, Group.uid, Programme.topic, Programme.name, Programme.ends_on)
    return _of_person(select(*columns), person_id)


def _of_person(query: Select, person_id: int | BindParameter) -> Select:
    return (
        query.select_from(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .join(Round, Round.id == Group.round_id)
        .join(Programme, Programme.id == Round.programme_id)
        .where(
            GroupMember.person_id == person_id,
            Group.status == GroupStatus.SCHEDULED,
            Group.uid.startswith(TEAM_UID_PREFIX),
        )
        .order_by(Group.id)
    )


def person_leaves(
    settings: Settings,
    person: Person,
    now: datetime | None = None,
    *,
    programme_id: int | None = None,
    erase: bool = False,
) -> int:
    """Take ``person`` out of their learning teams (of ``programme_id``, or all): they get a
    CANCEL of the series, the others an update (same UID, SEQUENCE + 1); a team nobody is
    left in is called off. Teams whose programme ended are left as they were. Returns how
    many teams changed; the caller commits."""
    now = now or datetime.now(UTC)
    query = teams_of_person(person).where(Programme.kind == ProgrammeKind.LEARNING_TEAM)
    if programme_id is not None:
        query = query.where(Programme.id == programme_id)
    changed = 0
    for group, programme in list(db.session.execute(query)):
        today = now.astimezone(ZoneInfo(programme.timezone)).date()
        if programme.ends_on is not None and programme.ends_on < today:
            continue
        seat = db.session.get(GroupMember, (group.id, person.id))
        db.session.delete(seat)
        db.session.flush()
        group.sequence += 1
        if not team_members(group):
            group.status = GroupStatus.CANCELLED
        send_team(
            settings, programme, group, now, cancel=[person], detach=person.id if erase else None
        )
        changed += 1
    db.session.flush()
    return changed


def team_listing(programme: Programme) -> list[dict]:
    """The programme's teams as the API shows them: when they meet, who, who can share."""
    listing = []
    for group in teams_of(programme):
        members = team_members(group)
        listing.append(
            {
                "id": group.id,
                "uid": group.uid,
                "start": group.start_at.astimezone(UTC).isoformat(),
                "end": group.end_at.astimezone(UTC).isoformat(),
                "ends_on": programme.ends_on.isoformat() if programme.ends_on else None,
                "video_url": group.video_url,
                "sequence": group.sequence,
                "emails": [p.email for p in members],
                "members": [
                    {
                        "email": p.email,
                        "name": p.name,
                        "department": p.department,
                        "sharer": is_sharer(p.preference, programme.topic),
                        "learner": is_learner(p.preference, programme.topic),
                    }
                    for p in members
                ],
            }
        )
    return listing


#: The programme fields whose change sends every team member an updated series.
SERIES_FIELDS = (
    "name",
    "topic",
    "days",
    "local_time",
    "timezone",
    "duration_minutes",
    "cadence",
    "ends_on",
)


def programme_changed(
    settings: Settings, programme: Programme, before: dict | None, now: datetime | None = None
) -> int:
    """After an admin or API edit of a learning-team programme with teams: an update of every
    team's series (SEQUENCE + 1) when its day, time, zone, length, cadence, topic, name or end
    changed; a CANCEL of every series when it is switched off (the teams are called off).
    Returns how many teams were written to."""
    if before is None or before.get("kind") != ProgrammeKind.LEARNING_TEAM:
        return 0
    was_on = bool(before.get("active"))
    is_on = programme.is_learning_team and programme.active
    if not was_on:
        return 0
    changed = any(before.get(f) != getattr(programme, f) for f in SERIES_FIELDS)
    if is_on and not changed:
        return 0
    now = now or datetime.now(UTC)
    teams = teams_of(programme)
    for group in teams:
        group.sequence += 1
        if is_on:
            if changed and _moves_first_meeting(before, programme):
                start = break_start(programme, meeting_day_from(programme, group.start_at.date()))
                group.start_at = start.astimezone(UTC)
                group.end_at = group.start_at + timedelta(minutes=programme.duration_minutes)
            send_team(settings, programme, group, now)
        else:
            members = team_members(group)
            group.status = GroupStatus.CANCELLED
            outbox = Outbox(settings)
            rows = []
            for person in members:
                invite = build_team_invite(
                    settings, programme, group, members, person, "CANCEL", now
                )
                rows += outbox.room_rows(invite, person, now, group=group)
            outbox.write(rows)
    db.session.flush()
    return len(teams)


def _moves_first_meeting(before: dict, programme: Programme) -> bool:
    return any(
        before.get(f) != getattr(programme, f)
        for f in ("days", "local_time", "timezone", "duration_minutes")
    )
