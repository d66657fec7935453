"""The preference order of issue 17, pinned by brute force on small rounds.

Every partition of the participants into valid groups is scored by
:mod:`tests.pairing.brute` (from the request alone) and the planner's plan must score
as well as the best of them, tier by tier.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings

from pairing import HistoryRound, Participant, PlanRequest, plan_round
from tests.pairing.brute import plan_groups, scores
from tests.pairing.strategies import plan_of, requests

DAY = datetime.date(2025, 3, 4)


@given(
    requests(
        min_people=2,
        max_people=10,
        sizes=(2, 3, 4, 5, 6, 7, 8),
        history_groups=(2, 3, 4),
        max_rounds=6,
        overlap=True,
    )
)
@settings(max_examples=60)
def test_small_plans_are_the_best_grouping_tier_by_tier(obj):
    request, plan = plan_of(obj)
    facts, every = scores(request)
    assert facts.score(plan_groups(request, plan)) == max(every)


def _everyone(count: int, departments: str, remote: str, **fields) -> list[Participant]:
    """``count`` people, free all day; department and remote-or-not by position."""
    return [
        Participant(
            f"p{i}",
            departments[i % len(departments)],
            None if remote[i % len(remote)] == "r" else "Oslo",
            **fields,
        )
        for i in range(count)
    ]


def _daily(crowd: list[Participant], rounds: int, cooldown: int, group_size: int = 2):
    """Plan ``rounds`` daily rounds, each seeing the ones before; yields each request
    and plan."""
    history: list[HistoryRound] = []
    for day in range(rounds):
        request = PlanRequest(
            date=DAY + datetime.timedelta(days=day),
            participants=tuple(crowd),
            history=tuple(history),
            group_size=group_size,
            cooldown_rounds=cooldown,
            seed=day,
        )
        plan = plan_round(request)
        yield request, plan
        history.append(HistoryRound(request.date, tuple(g.members for g in plan.groups)))


@pytest.mark.parametrize(("departments", "remote"), [("abc", "ro"), ("aab", "oor"), ("a", "r")])
def test_a_team_of_seven_never_meets_the_last_two_rounds_partners_when_it_can_avoid_it(
    departments, remote
):
    """After a week of daily rounds everyone has met everyone within the cooldown; from
    then on no pair of the last two rounds meets again while a grouping avoids them all,
    and a repeat only ever goes to the oldest partners the round allows."""
    crowd = _everyone(7, departments, remote)
    checked = 0
    for day, (request, plan) in enumerate(_daily(crowd, 16, cooldown=10)):
        facts, every = scores(request)
        chosen = facts.score(plan_groups(request, plan))
        assert chosen == max(every)
        if day < 7:
            continue
        mine = facts.parts(chosen)
        assert sum(mine.recency[:10]) < 0  # all partners met within the cooldown by now
        could_avoid = any(
            facts.parts(s).shape == mine.shape and facts.parts(s).recency[:2] == (0, 0)
            for s in every
        )
        if could_avoid:
            assert mine.recency[:2] == (0, 0), f"day {day}: a partner of the last two rounds"
            checked += 1
    assert checked  # the situation the test is about did occur


def test_recency_comes_before_departments_and_departments_before_hybrid():
    """Among the groupings with the best recency the plan has the most cross-department
    pairs, and among those the best hybrid mix; a fresh pair beats a cross-department
    and hybrid one that met last round."""
    crowd = [
        Participant("a", "Sales", None),
        Participant("b", "Legal", "Oslo"),
        Participant("c", "Sales", None),
        Participant("d", "Sales", "Oslo"),
        Participant("e", "Legal", None),
        Participant("f", "Legal", "Oslo"),
    ]
    history = (HistoryRound(DAY - datetime.timedelta(days=7), (("a", "b"), ("e", "d"))),)
    request = PlanRequest(DAY, tuple(crowd), history)
    plan = plan_round(request)
    facts, every = scores(request)
    mine = facts.parts(facts.score(plan_groups(request, plan)))
    parts = [facts.parts(s) for s in every]
    best = max((p.shape, p.recency) for p in parts)
    assert (mine.shape, mine.recency) == best
    assert mine.cross == max(p.cross for p in parts if (p.shape, p.recency) == best)
    assert mine.hybrid == max(
        p.hybrid for p in parts if (p.shape, p.recency, p.cross) == (*best, mine.cross)
    )
    pairs = {frozenset(g.members) for g in plan.groups}
    assert not pairs & {frozenset("ab"), frozenset("de")}


@given(
    requests(
        min_people=4,
        max_people=9,
        sizes=(3, 4, 5),
        history_groups=(3, 4),
        max_rounds=4,
        overlap=True,
    )
)
@settings(max_examples=40)
def test_groups_hold_no_repeat_while_a_grouping_without_one_exists(obj):
    request, plan = plan_of(obj)
    facts, every = scores(request)
    mine = facts.parts(facts.score(plan_groups(request, plan)))
    cooldown = request.cooldown_rounds
    others = [facts.parts(s) for s in every]
    if any(p.shape == mine.shape and not any(p.recency[:cooldown]) for p in others):
        assert not any(mine.recency[:cooldown])
