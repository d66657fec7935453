"""Learning teams: who forms a team around a topic, when it meets, and why. Pure.

``form_teams(TeamRequest) -> TeamPlan`` is the planner half of a learning-team
programme. Its hard rules are the coffee planner's (everyone free for the meeting inside
their working hours and outside busy times; no manager line; nobody someone avoids);
sizes stay within 3-8, as even as the head count allows around the team size. Then, in
this order: as many people placed as possible, the best shape, a team for everyone who
can share the topic first (each team gets one whenever there are enough of them), teams
spanning departments, and then the coffee planner's order of preferences over every pair
(recency, departments, hybrid, wishes and topics; :mod:`pairing.team_search`,
:mod:`pairing.team_filling`).

Existing teams are never reshuffled: newcomers join a team with room (fewer than
``team_size + 1`` members, 8 at most) that keeps the rules, or, once at least three of
them wait who can meet, form new teams of their own.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pairing.describe import latest_meeting, listing
from pairing.model import HistoryRound, Mode, Participant, PlanRequest, RequestError, Unmatched
from pairing.roster import VIRTUAL, Roster
from pairing.team_filling import form, place_leftovers
from pairing.team_search import MAX_SIZE, MIN_SIZE, TeamSearch
from pairing.timeline import choose_start, day_origin

__all__ = ["ExistingTeam", "Team", "TeamPlan", "TeamRequest", "form_teams"]


@dataclass(frozen=True)
class ExistingTeam:
    """A team formed earlier; ``start`` is when it meets when teams do not all meet at
    the programme's time (None: whenever its members share the time). Members who no
    longer take part (not among the participants) are dropped from it."""

    id: str
    members: tuple[str, ...]
    start: datetime.datetime | None = None


@dataclass(frozen=True)
class TeamRequest:
    """Everything needed to form a programme's learning teams.

    ``start`` is the first meeting, timezone-aware (the programme's day and local
    time); ``same_time``: every team meets then (otherwise each team meets at the time
    nearest it, that day, that all its members have free). A participant can share
    the topic when their ``share_topics`` hold it and wants to learn it when their
    ``topics`` do (compared case-insensitively). Participants already in ``existing``
    teams stay there.
    """

    topic: str
    participants: tuple[Participant, ...]
    start: datetime.datetime
    team_size: int = 5
    duration_minutes: int = 60
    same_time: bool = True
    history: tuple[HistoryRound, ...] = ()
    existing: tuple[ExistingTeam, ...] = ()
    cooldown_rounds: int = 10
    seed: int = 0


@dataclass(frozen=True)
class Team:
    """One team: who, when, where, and why, in plain words.

    ``id`` is the existing team's id, None for a team this plan forms; ``joined`` who
    this plan added to an existing team; ``sharers`` the members who can share the topic.
    """

    id: str | None
    members: tuple[str, ...]
    sharers: tuple[str, ...]
    learners: tuple[str, ...]
    departments: tuple[str, ...]
    mode: str
    site: str | None
    start: datetime.datetime
    end: datetime.datetime
    reasons: tuple[str, ...]
    joined: tuple[str, ...] = ()


@dataclass(frozen=True)
class TeamPlan:
    """The teams (existing ones first, in their order, then new ones), who is left
    waiting and why, and counts: participants, teams, new_teams, by_size, with_sharer,
    cross_department, sharers, unplaced."""

    teams: tuple[Team, ...]
    unplaced: tuple[Unmatched, ...]
    stats: dict = field(default_factory=dict)


def _fold(topic: str) -> str:
    return topic.strip().casefold()


def validate(request: TeamRequest) -> None:
    """Raise :class:`RequestError` naming the field when the request cannot be used."""
    if not _fold(request.topic):
        raise RequestError("topic: expected a topic, got an empty one")
    if not MIN_SIZE <= request.team_size <= MAX_SIZE:
        raise RequestError(f"team_size: expected {MIN_SIZE} to {MAX_SIZE}, got {request.team_size}")
    if not 5 <= request.duration_minutes <= 480:
        raise RequestError(f"duration_minutes: expected 5 to 480, got {request.duration_minutes}")
    start = request.start
    if start.tzinfo is None or start.utcoffset() is None:
        raise RequestError("start: expected a time with a time zone")
    if start.astimezone(datetime.UTC).minute % 5 or start.second or start.microsecond:
        raise RequestError(f"start: expected a 5-minute boundary, got {start.isoformat()}")
    seen: set[str] = set()
    for index, person in enumerate(request.participants):
        if person.id in seen:
            raise RequestError(f"participants[{index}].id: duplicate id {person.id!r}")
        seen.add(person.id)
        try:
            ZoneInfo(person.timezone)
        except (ValueError, KeyError):
            raise RequestError(
                f"participants[{index}].timezone: unknown time zone {person.timezone!r}"
            ) from None
    placed: set[str] = set()
    for index, team in enumerate(request.existing):
        for member in team.members:
            if member in placed:
                raise RequestError(f"existing[{index}].members: {member!r} is in two teams")
            placed.add(member)
        if team.start is not None:
            if team.start.utcoffset() is None:
                raise RequestError(f"existing[{index}].start: expected a time with a time zone")
            if team.start.astimezone(datetime.UTC).minute % 5 or team.start.second:
                raise RequestError(
                    f"existing[{index}].start: expected a 5-minute boundary, "
                    f"got {team.start.isoformat()}"
                )


def form_teams(request: TeamRequest) -> TeamPlan:
    """Form the learning teams of a request. The same request and seed give the same plan.

    Raises :class:`RequestError` for a request it cannot use (see :func:`validate`).
    """
    validate(request)
    date = request.start.date()
    roster = Roster(
        PlanRequest(
            date=date,
            participants=request.participants,
            history=request.history,
            group_size=request.team_size,
            duration_minutes=request.duration_minutes,
            cooldown_rounds=request.cooldown_rounds,
            seed=request.seed,
            preferred_start=request.start,
        )
    )
    origin = day_origin(date)
    slot = int((request.start - origin).total_seconds()) // 60
    length = request.duration_minutes
    topic = _fold(request.topic)
    sharer = [topic in {_fold(t) for t in p.share_topics} for p in request.participants]
    free = [
        [(slot, slot + length)] if any(a <= slot and slot + length <= b for a, b in f) else []
        for f in roster.free
    ]
    if not request.same_time:
        free = roster.free
    search = TeamSearch(roster, free, sharer, request.same_time)

    index = roster.index
    existing = [[index[m] for m in team.members if m in index] for team in request.existing]
    taken = {m for members in existing for m in members}
    newcomers = [i for i in range(roster.n) if i not in taken and free[i]]
    if request.existing:
        teams = [list(members) for members in existing]
        times = []  # when each existing team meets: a newcomer must be free then
        for team, members in zip(request.existing, existing, strict=True):
            if request.same_time:
                times.append([(slot, slot + length)])
            elif team.start is None:
                times.append(search.common(members))
            else:
                minute = int((team.start - origin).total_seconds()) // 60
                times.append([(minute, minute + length)])
        teams = place_leftovers(
            search,
            teams,
            newcomers,
            most=min(MAX_SIZE, request.team_size + 1),
            shared=times,
            strict=True,
        )
    else:
        times = []
        teams = form(search, newcomers)
    return describe_teams(search, request, teams, times, slot)


def _history_reason(roster: Roster, members: list[int]) -> str:
    latest = latest_meeting(roster, members)
    if latest is None:
        return "none of you have met in a coffee break or team yet"
    ago, a, b = latest
    rounds = "1 round" if ago == 1 else f"{ago} rounds"
    if ago <= roster.cooldown:
        return f"{roster.ids[a]} and {roster.ids[b]} met {rounds} ago; no better mix was free"
    return f"{roster.ids[a]} and {roster.ids[b]} last met {rounds} ago"


def _reasons(
    search: TeamSearch,
    request: TeamRequest,
    members: list[int],
    spare_sharers: bool,
    mixable: bool,
    learner: list[bool],
) -> tuple[str, ...]:
    """Plain words for one team, in the order of the rules: the sharer, departments,
    who wants to learn, history."""
    roster = search.roster
    topic = request.topic.strip()
    sharers = [roster.ids[m] for m in members if search.sharer[m]]
    if sharers:
        verb = "can" if len(sharers) == 1 else "can all"
        reasons = [f"{listing(sharers[:3])} {verb} share {topic}"]
    elif spare_sharers:
        reasons = [f"nobody here can share {topic}: no sharer is free at the same time"]
    else:
        reasons = [f"nobody here can share {topic}: too few people offered to share it"]
    departments = list(dict.fromkeys(roster.dept_names[search.dept[m]] for m in members))
    if len(departments) > 1:
        reasons.append(f"spans {listing(departments)}")
    elif mixable:
        reasons.append(f"all from {departments[0]}: no mix of departments could meet then")
    else:
        reasons.append(f"all from {departments[0]}: everyone taking part is")
    learners = sum(learner[m] for m in members)
    if learners:
        reasons.append(f"{learners} of {len(members)} want to learn {topic}")
    reasons.append(_history_reason(roster, members))
    return tuple(reasons)


def _unplaced_reason(search: TeamSearch, request: TeamRequest, person: int, late: bool) -> str:
    if not search.free[person]:
        if request.same_time:
            local = request.start.strftime("%H:%M")
            return (
                f"not free for {request.duration_minutes} minutes at {local} "
                f"({request.start.tzname()}) inside your working hours"
            )
        return f"no free {request.duration_minutes} minutes inside your working hours that day"
    if late:
        return (
            "waiting: no team with room meets when you are free without your manager, "
            "someone who reports to you or someone avoided, and fewer than three wait"
        )
    return (
        "no team of three or more could take you: everyone free at the same time is in "
        "a full team, your manager, reports to you, or is avoided"
    )


def describe_teams(
    search: TeamSearch,
    request: TeamRequest,
    teams: list[list[int]],
    times: list[list[tuple[int, int]]],
    slot: int,
) -> TeamPlan:
    """The plan for the chosen teams: times, modes, reasons and counts."""
    roster = search.roster
    origin = day_origin(roster.request.date)
    length = datetime.timedelta(minutes=request.duration_minutes)
    late = bool(request.existing)
    old = len(request.existing)
    # Existing teams keep their order; new teams are sorted so the plan is stable.
    fresh = sorted((sorted(members) for members in teams[old:]), key=lambda m: m[0])
    teams = [sorted(members) for members in teams[:old]] + fresh
    placed = {m for members in teams for m in members}
    sharers_total = sum(search.sharer[i] for i in range(roster.n) if search.free[i])
    spare = sharers_total >= len(teams)
    mixable = len({search.dept[i] for i in range(roster.n) if search.free[i]}) > 1
    wanted = _fold(request.topic)
    learner = [wanted in {_fold(t) for t in p.topics} for p in request.participants]
    sites = roster.site.tolist()
    virtual = (roster.mode == VIRTUAL).tolist()  # hard rule 4: in person only if nobody is
    out = []
    by_size: dict[int, int] = {}
    with_sharer = cross = 0
    for number, members in enumerate(teams):
        existing = request.existing[number] if number < old else None
        if existing is not None and existing.start is not None and not request.same_time:
            begin = existing.start.astimezone(datetime.UTC)
        elif request.same_time:
            begin = origin + datetime.timedelta(minutes=slot)
        else:
            shared = times[number] if number < old else search.common(members)
            minute = slot  # an existing team whose members no longer share any time
            if shared:
                minute = choose_start(shared, request.duration_minutes, slot + length.seconds / 120)
            begin = origin + datetime.timedelta(minutes=minute)
        places = {sites[m] for m in members}
        meet = len(places) == 1 and min(places) >= 0 and not any(virtual[m] for m in members)
        site = roster.site_names[sites[members[0]]] if meet else None
        before = set(existing.members) if existing is not None else set()
        ids = tuple(roster.ids[m] for m in members)
        departments = tuple(dict.fromkeys(roster.dept_names[search.dept[m]] for m in members))
        has_sharer = any(search.sharer[m] for m in members)
        with_sharer += has_sharer
        cross += len(departments) > 1
        by_size[len(members)] = by_size.get(len(members), 0) + 1
        out.append(
            Team(
                id=existing.id if existing is not None else None,
                members=ids,
                sharers=tuple(roster.ids[m] for m in members if search.sharer[m]),
                learners=tuple(roster.ids[m] for m in members if learner[m]),
                departments=departments,
                mode=Mode.IN_PERSON if meet else Mode.VIRTUAL,
                site=site,
                start=begin,
                end=begin + length,
                reasons=_reasons(
                    search, request, members, spare and not has_sharer, mixable, learner
                )
                if members
                else (),
                joined=tuple(i for i in ids if existing is not None and i not in before),
            )
        )
    waiting = [i for i in range(roster.n) if i not in placed]
    unplaced = tuple(
        Unmatched(roster.ids[i], _unplaced_reason(search, request, i, late)) for i in waiting
    )
    stats = {
        "participants": roster.n,
        "teams": len(out),
        "new_teams": len(out) - old,
        "by_size": dict(sorted(by_size.items())),
        "with_sharer": with_sharer,
        "cross_department": cross,
        "sharers": sharers_total,
        "joined": sum(len(t.joined) for t in out),
        "unplaced": len(unplaced),
    }
    return TeamPlan(tuple(out), unplaced, stats)
