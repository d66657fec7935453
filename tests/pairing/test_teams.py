"""Learning teams (issue 23): ``form_teams`` against brute force and its own rules.

Small requests are checked against every partition (:mod:`tests.pairing.team_brute`);
random organisations against the hard rules and placement; the issue's scenario of 40
people; and late joiners, who never reshuffle the teams that exist.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairing import (
    ExistingTeam,
    HistoryRound,
    Participant,
    RequestError,
    TeamRequest,
    form_teams,
    parse_request,
    team_filling,
    team_search,
)
from pairing.check import conflict, is_free
from tests.pairing.strategies import DAY, people
from tests.pairing.team_brute import TeamOracle, can_share, valid_team

START = datetime.datetime.combine(DAY, datetime.time(10), tzinfo=ZoneInfo("Europe/Stockholm"))
TOPIC = "data"


@st.composite
def team_requests(
    draw: st.DrawFn,
    min_people: int = 0,
    max_people: int = 9,
    sizes: tuple[int, ...] = (3, 4, 5),
    max_rounds: int = 3,
    conflicts: bool = True,
) -> TeamRequest:
    """A learning-team request over a random small organisation (parsed from JSON, so
    ``share_topics`` goes through the request parser too). Without ``conflicts``: no
    managers or avoid lists, and everyone meets at the programme's time."""
    count = draw(st.integers(min_people, max_people))
    crowd = draw(people(count, overlap=True))
    for person in crowd:
        if draw(st.integers(0, 2)) == 0:
            person["share_topics"] = [draw(st.sampled_from([TOPIC, "Data ", "chess"]))]
        if draw(st.booleans()):
            person["topics"] = [TOPIC]
        person["department"] = draw(st.sampled_from(["Sales", "Research", "Legal", "Ops"]))
        if not conflicts:
            person.pop("manager", None)
            person.pop("avoid", None)
    ids = [p["id"] for p in crowd]
    history = []
    for back in range(draw(st.integers(0, max_rounds))):
        shuffled = draw(st.permutations(ids))
        step = draw(st.sampled_from([2, 3, 4]))
        groups = [list(shuffled[i : i + step]) for i in range(0, len(shuffled) - 1, step)]
        history.append(
            {"date": (DAY - datetime.timedelta(weeks=back + 1)).isoformat(), "groups": groups}
        )
    parsed = parse_request(
        json.loads(json.dumps({"date": DAY.isoformat(), "participants": crowd, "history": history}))
    )
    return TeamRequest(
        topic=TOPIC,
        participants=parsed.participants,
        start=START,
        team_size=draw(st.sampled_from(sizes)),
        duration_minutes=draw(st.sampled_from([30, 60])),
        same_time=draw(st.booleans()) if conflicts else True,
        history=parsed.history,
        cooldown_rounds=draw(st.sampled_from([0, 2, 10])),
        seed=draw(st.integers(0, 2**31)),
    )


def broken_rules(request: TeamRequest, plan) -> list[str]:
    """Every hard rule the plan breaks, checked from the request alone."""
    found = []
    people = {p.id: p for p in request.participants}
    seen = [m for t in plan.teams for m in t.members] + [u.id for u in plan.unplaced]
    if sorted(seen) != sorted(people):
        found.append(f"not a partition: {sorted(seen)}")
    length = datetime.timedelta(minutes=request.duration_minutes)
    date = request.start.date()
    for team in plan.teams:
        members = [people[m] for m in team.members]
        if not 3 <= len(members) <= 8:
            found.append(f"{team.members}: size {len(members)}")
        if team.end - team.start != length or team.start.astimezone(datetime.UTC).minute % 5:
            found.append(f"{team.members}: slot {team.start}-{team.end}")
        if request.same_time and team.start != request.start:
            found.append(f"{team.members}: not at the programme's time")
        for person in members:
            if not is_free(person, date, team.start, team.end):
                found.append(f"{person.id} in {team.members} is not free then")
        for a, b in itertools.combinations(members, 2):
            if conflict(a, b):
                found.append(f"{a.id} and {b.id} in {team.members}")
        sharers = tuple(m.id for m in members if can_share(m, request.topic))
        if team.sharers != sharers:
            found.append(f"{team.members}: sharers {team.sharers} != {sharers}")
    return found


def leftover_could_be_placed(request: TeamRequest, plan) -> list[str]:
    """Unplaced people who could join a team of fewer than eight, or three of them who
    could form a team of their own."""
    people = {p.id: p for p in request.participants}
    alone = [people[u.id] for u in plan.unplaced]
    found = []
    for person in alone:
        for team in plan.teams:
            members = [people[m] for m in team.members]
            if len(members) < 8 and valid_team(request, [*members, person]):
                if request.same_time or all(
                    is_free(m, request.start.date(), team.start, team.end)
                    for m in [*members, person]
                ):
                    found.append(f"{person.id} could join {team.members}")
    for trio in itertools.combinations(alone, 3):
        if valid_team(request, list(trio)):
            found.append(f"{[p.id for p in trio]} could form a team")
    return found


# --- brute force on small requests ------------------------------------------------------


@given(team_requests(min_people=3, max_people=9, max_rounds=4))
@settings(max_examples=60)
def test_small_requests_get_the_best_partition_tier_by_tier(request):
    """Up to ten people the plan is the best partition: most placed, best shape, most
    teams with a sharer, most across departments, then the planner's pair order."""
    plan = form_teams(request)
    assert broken_rules(request, plan) == []
    oracle = TeamOracle(request)
    assert oracle.plan_score(plan) == max(oracle.every_score())


@given(team_requests(min_people=6, max_people=9, sizes=(3, 4), max_rounds=2, conflicts=False))
@settings(max_examples=60)
def test_block_filling_keeps_the_sharer_and_department_rules_whenever_a_partition_can(request):
    """The search used beyond ten people, run on small requests where only the meeting
    time limits who can take part: whenever some partition of the plan's shape has a
    sharer in every team, or spans departments in every team, the plan's does too, and
    nobody is left out who could join a team or form one."""
    with mock.patch.object(team_filling, "EXHAUSTIVE_UP_TO", 0):
        plan = form_teams(request)
    assert broken_rules(request, plan) == []
    assert leftover_could_be_placed(request, plan) == []
    oracle = TeamOracle(request)
    every = oracle.every_score()
    mine = oracle.plan_score(plan)
    same_shape = [s for s in every if s[:5] == mine[:5]]
    teams = len(plan.teams)
    if any(s[5] == teams for s in same_shape):
        assert mine[5] == teams, "a team without a sharer although every team could have one"
    if any(s[6] == teams for s in same_shape):
        assert mine[6] == teams, "a team of one department although all could span two"


# --- random organisations ------------------------------------------------------------------


@given(team_requests(min_people=0, max_people=30, sizes=(3, 4, 5, 6, 7, 8)))
@settings(max_examples=50)
def test_random_organisations_keep_the_hard_rules_and_place_whoever_can_be(request):
    plan = form_teams(request)
    assert broken_rules(request, plan) == []
    assert leftover_could_be_placed(request, plan) == []
    assert plan.stats["unplaced"] == len(plan.unplaced)
    assert sum(plan.stats["by_size"].values()) == len(plan.teams)
    assert all(u.reason for u in plan.unplaced)
    assert plan == form_teams(request)  # deterministic


@given(
    st.integers(3, 60),
    st.integers(3, 8),
    st.integers(0, 12),
    st.integers(1, 6),
    st.integers(0, 2**31),
)
@settings(max_examples=60)
def test_without_conflicts_everyone_is_placed_in_even_teams_with_sharers_and_departments(
    count, size, sharers, departments, seed
):
    """Everyone free and no conflicts: all placed, sizes within 3-8 and as even as the
    count allows around the team size, a sharer in every team when there are enough, and
    every team across departments when no department holds more than its share."""
    crowd = tuple(
        Participant(
            f"p{i}",
            f"d{i % departments}",
            share_topics=(TOPIC,) if i < sharers else (),
            topics=(TOPIC,),
        )
        for i in range(count)
    )
    request = TeamRequest(TOPIC, crowd, START, team_size=size, seed=seed)
    plan = form_teams(request)
    assert broken_rules(request, plan) == []
    assert plan.unplaced == ()
    sizes = [len(t.members) for t in plan.teams]
    assert sorted(sizes, reverse=True) == team_search.size_plan(count, size)
    spreads = count % size <= count // size and (count % size == 0 or size < 8)
    if count >= size and spreads:  # the remainder spreads, one more each, 8 at most
        assert len(plan.teams) == count // size
        assert set(sizes) <= {size, size + 1}
    teams = len(plan.teams)
    assert plan.stats["with_sharer"] == min(teams, min(sharers, count))
    if departments >= 2:
        assert plan.stats["cross_department"] == teams


def test_size_plan_spreads_the_remainder():
    assert team_search.size_plan(40, 5) == [5] * 8
    assert team_search.size_plan(42, 5) == [6, 6] + [5] * 6
    assert team_search.size_plan(7, 5) == [7]
    assert team_search.size_plan(17, 8) == [6, 6, 5]
    assert team_search.size_plan(2, 5) == []
    assert all(3 <= s <= 8 for n in range(3, 200) for s in team_search.size_plan(n, 8))


# --- the scenario ------------------------------------------------------------------


def _company(seed: int = 7) -> tuple[Participant, ...]:
    """40 people across 5 departments: 30 want to learn data, 6 can share it, 4 neither;
    some managers, an avoid list, and two people in a meeting at 10:00."""
    departments = ["Engineering", "Sales", "Support", "Finance", "People"]
    busy = (
        datetime.datetime(2025, 3, 4, 8, 30, tzinfo=datetime.UTC),
        datetime.datetime(2025, 3, 4, 9, 30, tzinfo=datetime.UTC),
    )
    crowd = []
    for i in range(40):
        crowd.append(
            Participant(
                f"p{i:02d}",
                departments[(i * seed) % 5 if i % 3 else 0],  # Engineering is the biggest
                site="Stockholm" if i % 2 else None,
                timezone="Europe/Stockholm",
                busy=(busy,) if i in (38, 39) else (),
                manager="p00" if 1 <= i <= 4 else None,
                avoid=frozenset({"p07"}) if i == 6 else frozenset(),
                topics=(TOPIC,) if 6 <= i < 36 else ("chess",),
                share_topics=(TOPIC,) if i < 6 else (),
            )
        )
    return tuple(crowd)


@pytest.mark.parametrize("size", [5, 6])
def test_forty_people_form_teams_of_the_right_size_across_departments(size):
    crowd = _company()
    request = TeamRequest(TOPIC, crowd, START, team_size=size, duration_minutes=60, seed=3)
    plan = form_teams(request)
    assert broken_rules(request, plan) == []
    assert [u.id for u in plan.unplaced] == ["p38", "p39"]  # in a meeting at 10:00
    assert "not free for 60 minutes at 10:00" in plan.unplaced[0].reason
    assert sorted(len(t.members) for t in plan.teams) == sorted(team_search.size_plan(38, size))
    assert all(len(t.departments) >= 2 for t in plan.teams)
    assert plan.stats["cross_department"] == len(plan.teams)
    # Six sharers: every team has one when there are at most six teams (size 6), and
    # six of the teams have one otherwise.
    assert plan.stats["with_sharer"] == min(6, len(plan.teams))
    assert sorted(s for t in plan.teams for s in t.sharers) == [f"p0{i}" for i in range(6)]
    for team in plan.teams:
        if team.sharers:
            assert team.reasons[0].startswith(f"{team.sharers[0]} can")
        else:
            assert (
                team.reasons[0] == "nobody here can share data: too few people offered to share it"
            )
        assert team.reasons[1].startswith("spans ")
        assert team.learners == tuple(m for m in team.members if 6 <= int(m[1:]) < 36)
    assert plan == form_teams(request)
    assert plan != form_teams(dataclasses.replace(request, seed=4))


def test_forty_people_at_size_six_each_team_has_a_sharer():
    plan = form_teams(TeamRequest(TOPIC, _company(), START, team_size=6))
    assert len(plan.teams) == 6
    assert all(t.sharers and len(t.departments) >= 2 for t in plan.teams)
    assert all(6 <= len(t.members) <= 7 for t in plan.teams)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_team_spans_departments_across_blocks_when_just_enough_others_exist(seed):
    """170 people in 34 teams of 5 (three blocks), 136 from Engineering and exactly 34
    from elsewhere: every team needs exactly one of them, whichever block they fell in."""
    crowd = tuple(
        Participant(
            f"p{i:03d}",
            "Engineering" if i % 5 else ["Sales", "Legal", "Ops"][i % 3],
            share_topics=(TOPIC,) if i % 5 == 1 else (),
        )
        for i in range(170)
    )
    plan = form_teams(TeamRequest(TOPIC, crowd, START, team_size=5, seed=seed))
    assert len(plan.teams) == 34 and plan.unplaced == ()
    assert plan.stats["cross_department"] == 34
    assert plan.stats["with_sharer"] == 34


def test_teams_avoid_people_who_met_recently_when_they_can():
    crowd = _company()[:20]
    first = form_teams(TeamRequest(TOPIC, crowd, START, team_size=5, seed=1))
    history = (
        HistoryRound(DAY - datetime.timedelta(weeks=2), tuple(t.members for t in first.teams)),
    )
    second = form_teams(TeamRequest(TOPIC, crowd, START, team_size=5, seed=1, history=history))
    before = {frozenset(p) for t in first.teams for p in itertools.combinations(t.members, 2)}
    again = {frozenset(p) for t in second.teams for p in itertools.combinations(t.members, 2)}
    # 4 teams of 5 out of 20: a fresh mix is impossible, but most pairs are new.
    assert len(before & again) <= len(again) // 2
    assert all(t.sharers for t in second.teams)


def test_flexible_times_meet_inside_everyones_hours():
    """Without a fixed time each team meets at the time nearest the programme's that
    all its members have free: Stockholm works mornings only, so New York and Stockholm
    get teams of their own, and New York's meet as early as they can."""
    crowd = tuple(
        Participant(
            f"p{i}",
            ["Sales", "Legal"][i % 2],
            timezone="America/New_York" if i < 6 else "Europe/Stockholm",
            work_hours=(datetime.time(9), datetime.time(17 if i < 6 else 12)),
            share_topics=(TOPIC,) if i in (0, 6) else (),
        )
        for i in range(12)
    )
    fixed = form_teams(TeamRequest(TOPIC, crowd, START, team_size=5))
    assert len(fixed.unplaced) == 6  # 10:00 in Stockholm is 04:00 in New York
    request = TeamRequest(TOPIC, crowd, START, team_size=5, same_time=False)
    plan = form_teams(request)
    assert broken_rules(request, plan) == []
    assert plan.unplaced == ()
    zones = [{crowd[int(m[1:])].timezone for m in t.members} for t in plan.teams]
    assert all(len(z) == 1 for z in zones)
    assert all(t.sharers for t in plan.teams)
    for team, zone in zip(plan.teams, zones, strict=True):
        local = team.start.astimezone(ZoneInfo(zone.pop())).time()
        assert local == datetime.time(10) if team.members[0] == "p6" else datetime.time(9)


# --- late joiners ----------------------------------------------------------------------


def _people(count: int, **extra) -> list[Participant]:
    return [Participant(f"p{i}", ["Sales", "Legal", "Ops"][i % 3], **extra) for i in range(count)]


def test_a_late_joiner_goes_into_a_team_with_room_that_keeps_the_rules():
    crowd = _people(9) + [
        Participant("late", "Sales", manager="p0", share_topics=(TOPIC,)),
    ]
    existing = (
        ExistingTeam("t1", ("p0", "p1", "p2")),
        ExistingTeam("t2", ("p3", "p4", "p5", "p6")),
        ExistingTeam("t3", ("p7", "p8")),
    )
    plan = form_teams(TeamRequest(TOPIC, tuple(crowd), START, team_size=3, existing=existing))
    assert [t.id for t in plan.teams] == ["t1", "t2", "t3"]
    by_id = {t.id: t for t in plan.teams}
    # t1 has their manager, t2 is full (team size + 1): t3 it is, members kept in order.
    assert by_id["t3"].members == ("p7", "p8", "late")
    assert by_id["t3"].joined == ("late",)
    assert by_id["t1"].members == ("p0", "p1", "p2") and by_id["t1"].joined == ()
    assert by_id["t2"].members == ("p3", "p4", "p5", "p6")
    assert plan.stats == {**plan.stats, "new_teams": 0, "joined": 1, "unplaced": 0}


def test_a_sharer_joins_the_team_without_one_and_nobody_is_reshuffled():
    crowd = _people(8) + [Participant("late", "Ops", share_topics=(TOPIC,))]
    crowd[0] = dataclasses.replace(crowd[0], share_topics=(TOPIC,))
    existing = (
        ExistingTeam("a", ("p0", "p1", "p2", "p3")),
        ExistingTeam("b", ("p4", "p5", "p6", "p7")),
    )
    request = TeamRequest(TOPIC, tuple(crowd), START, team_size=4, existing=existing)
    plan = form_teams(request)
    assert broken_rules(request, plan) == []
    assert [t.members for t in plan.teams] == [
        ("p0", "p1", "p2", "p3"),
        ("p4", "p5", "p6", "p7", "late"),
    ]
    assert plan.teams[1].sharers == ("late",)


def test_late_joiners_wait_until_three_can_form_a_team():
    crowd = _people(8)
    full = (
        ExistingTeam("a", ("p0", "p1", "p2", "p3")),
        ExistingTeam("b", ("p4", "p5", "p6", "p7")),
    )
    two = [Participant("n1", "Sales"), Participant("n2", "Legal")]
    request = TeamRequest(TOPIC, tuple(crowd + two), START, team_size=3, existing=full)
    plan = form_teams(request)
    assert [u.id for u in plan.unplaced] == ["n1", "n2"]
    assert plan.unplaced[0].reason.startswith("waiting")
    assert [t.members for t in plan.teams] == [("p0", "p1", "p2", "p3"), ("p4", "p5", "p6", "p7")]
    three = two + [Participant("n3", "Ops", share_topics=(TOPIC,))]
    plan = form_teams(dataclasses.replace(request, participants=tuple(crowd + three)))
    assert plan.unplaced == ()
    assert [t.id for t in plan.teams] == ["a", "b", None]
    assert plan.teams[2].members == ("n1", "n2", "n3")
    assert plan.teams[2].sharers == ("n3",)
    assert plan.stats["new_teams"] == 1


@given(team_requests(min_people=3, max_people=16, sizes=(3, 4, 5)), st.integers(1, 6))
@settings(max_examples=40)
def test_late_joiners_never_reshuffle_and_only_join_teams_with_room_that_keep_the_rules(
    request, late
):
    """Teams formed from everyone but the last ``late`` participants; then those join.
    Existing teams keep their ids, order and members; newcomers join a team below team
    size + 1 without breaking a rule, or form new teams of their own; anyone left
    waiting could join no team with room."""
    first = len(request.participants) - late
    if first < 3:
        return
    before = form_teams(dataclasses.replace(request, participants=request.participants[:first]))
    existing = tuple(
        ExistingTeam(f"t{n}", t.members, None if request.same_time else t.start)
        for n, t in enumerate(before.teams)
    )
    plan = form_teams(dataclasses.replace(request, existing=existing))
    assert broken_rules(request, plan) == []
    # Everyone in no team waits: the late ones and anyone the first round left out.
    newcomers = {p.id for p in request.participants} - {m for t in existing for m in t.members}
    old = len(existing)
    assert [t.id for t in plan.teams[:old]] == [t.id for t in existing]
    room = request.team_size + 1
    for team, was in zip(plan.teams, existing, strict=False):
        assert [m for m in team.members if m not in newcomers] == list(was.members)
        assert set(team.joined) <= newcomers
        assert not team.joined or len(team.members) <= max(room, len(was.members))
        if team.joined and not request.same_time:
            assert team.start == was.start
    for team in plan.teams[old:]:
        assert team.id is None and set(team.members) <= newcomers
    people = {p.id: p for p in request.participants}
    waiting = [people[u.id] for u in plan.unplaced if u.id in newcomers]
    for person in waiting:
        for team in plan.teams[:old]:
            if len(team.members) < room:
                members = [people[m] for m in team.members]
                fits = not any(conflict(person, m) for m in members) and is_free(
                    person, request.start.date(), team.start, team.end
                )
                assert not fits, f"{person.id} could join {team.id}"
    assert plan == form_teams(dataclasses.replace(request, existing=existing))


def test_a_late_joiner_must_be_free_when_the_team_meets():
    crowd = _people(6) + [
        Participant("late", "Ops", work_hours=(datetime.time(12), datetime.time(17)))
    ]
    existing = (ExistingTeam("a", ("p0", "p1", "p2")), ExistingTeam("b", ("p3", "p4", "p5")))
    plan = form_teams(TeamRequest(TOPIC, tuple(crowd), START, team_size=4, existing=existing))
    assert [u.id for u in plan.unplaced] == ["late"]
    assert "not free for 60 minutes at 10:00" in plan.unplaced[0].reason


# --- the request edge --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"team_size": 9}, "team_size: expected 3 to 8, got 9"),
        ({"team_size": 2}, "team_size: expected 3 to 8, got 2"),
        ({"topic": "  "}, "topic: expected a topic, got an empty one"),
        ({"start": datetime.datetime(2025, 3, 4, 10)}, "start: expected a time with a time zone"),
        ({"start": START.replace(minute=7)}, "start: expected a 5-minute boundary"),
        ({"duration_minutes": 0}, "duration_minutes: expected 5 to 480, got 0"),
        (
            {"existing": (ExistingTeam("a", ("p0",)), ExistingTeam("b", ("p0",)))},
            "existing[1].members: 'p0' is in two teams",
        ),
    ],
)
def test_a_request_it_cannot_use_names_the_field(change, message):
    request = TeamRequest(TOPIC, tuple(_people(4)), START)
    with pytest.raises(RequestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        form_teams(dataclasses.replace(request, **change))


def test_share_topics_are_optional_in_the_plan_request_json():
    base = {"date": "2025-03-04", "participants": [{"id": "a", "department": "x"}]}
    assert parse_request(base).participants[0].share_topics == ()
    base["participants"][0]["share_topics"] = ["data"]
    assert parse_request(base).participants[0].share_topics == ("data",)
    base["participants"][0]["share_topics"] = "data"
    with pytest.raises(RequestError, match=r"participants\[0\].share_topics: expected a list"):
        parse_request(base)
