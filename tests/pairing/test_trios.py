"""Trios in bulk (:mod:`pairing.trios`): the arrays agree with the one-pair paths, the
rounds of locally best trios give what a plain greedy walk gives, and groups of three
keep the hard rules and beat the one-at-a-time growth they replace."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pairing import parse_request, plan_round, planner
from pairing.candidates import candidate_edges
from pairing.check import violations
from pairing.grouping import BALANCE, grow_groups, grow_one_by_one
from pairing.matching import Adjacency
from pairing.roster import Roster
from pairing.timeline import common_free
from pairing.trios import greedy_trios, trio_fits, trio_proposals
from pairing.weights import ScalarWeights
from tests.pairing.strategies import plan_of, requests

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _graph(obj: dict):
    """Roster, weights and candidate graph of a JSON-shaped request, as the planner
    builds them for groups."""
    request = parse_request(json.loads(json.dumps(obj)))
    roster = Roster(request)
    weights = ScalarWeights(roster)
    u, v, w = candidate_edges(roster, np.flatnonzero(roster.available))
    weights.remember(u, v, w)
    return roster, weights, Adjacency(roster.n, u, v, w)


def _balance(weights: ScalarWeights) -> int:
    return BALANCE[0] * weights.ladder.department // BALANCE[1]


@given(requests(min_people=3, max_people=40), st.data())
@settings(max_examples=30)
def test_trio_fits_agrees_with_the_exact_common_slot(obj, data):
    roster = Roster(parse_request(json.loads(json.dumps(obj))))
    people = st.integers(0, roster.n - 1)
    trios = data.draw(st.lists(st.tuples(people, people, people), min_size=1, max_size=30))
    x, y, z = (np.array(column, np.int64) for column in zip(*trios, strict=True))
    expected = [
        bool(common_free([roster.free[a], roster.free[b], roster.free[c]], roster.duration))
        for a, b, c in trios
    ]
    assert trio_fits(roster, x, y, z).tolist() == expected


@given(requests(min_people=11, max_people=60, sizes=(3,), max_rounds=3, overlap=True))
@settings(max_examples=20, deadline=None)
def test_proposals_are_fresh_trios_with_their_weight(obj):
    roster, weights, adjacency = _graph(obj)
    x, y, z, weight = trio_proposals(roster, adjacency)
    trios = list(zip(x.tolist(), y.tolist(), z.tolist(), strict=True))
    assert trios == sorted(set(trios))  # each once, in order
    for trio, total in zip(trios, weight.tolist(), strict=True):
        assert trio[0] < trio[1] < trio[2]
        pairs = list(itertools.combinations(trio, 2))
        assert all(roster.met(a, b) is None for a, b in pairs)
        assert total == sum(weights.loose(a, b) for a, b in pairs)  # None would raise


def greedy_walk(rows, roster, weights, balance, fairness: int) -> list[list[int]]:
    """The plain greedy over proposed groups (``rows`` of members): each with a common slot
    weighed one by one in Python (its pairs' weights, less ``fairness`` times the ladder's
    fairness per member's quarters, plus the department balance), sorted best first (ties:
    lower members first), taken when none of its members is taken."""
    counts = np.bincount(roster.dept[roster.available], minlength=len(roster.dept_names))
    total = max(1, int(counts.sum()))
    dept = roster.dept.tolist()
    ranked = []
    for row in rows:
        if not common_free([roster.free[m] for m in row], roster.duration):
            continue
        score = sum(weights.loose(a, b) for a, b in itertools.combinations(row, 2))
        score -= fairness * weights.ladder.fairness * sum(weights.quarters[m] for m in row)
        score += sum(balance * int(counts[dept[m]]) // total for m in row)
        ranked.append((-score, row))
    taken, groups = set(), []
    for _, row in sorted(ranked):
        if not taken & set(row):
            taken.update(row)
            groups.append(list(row))
    return groups


def _walk(roster, weights, adjacency, balance) -> list[list[int]]:
    """The plain greedy over the proposed trios."""
    x, y, z, _ = trio_proposals(roster, adjacency)
    trios = zip(x.tolist(), y.tolist(), z.tolist(), strict=True)
    return greedy_walk(trios, roster, weights, balance, fairness=1)


@given(requests(min_people=11, max_people=80, sizes=(3,), max_rounds=3, overlap=True))
@settings(max_examples=20, deadline=None)
def test_rounds_of_locally_best_trios_are_the_greedy_walk(obj):
    roster, weights, adjacency = _graph(obj)
    balance = _balance(weights)
    found = greedy_trios(roster, weights, adjacency, balance)
    walked = _walk(roster, weights, adjacency, balance)
    assert sorted(map(sorted, found)) == sorted(walked)


@given(requests(min_people=11, max_people=80, sizes=(3,), max_rounds=4, history_groups=(3,)))
@settings(max_examples=20, deadline=None)
def test_groups_of_three_keep_the_hard_rules_and_place_everyone_they_can(obj):
    assert_rules_kept_and_everyone_placed(obj)


def assert_rules_kept_and_everyone_placed(obj: dict) -> None:
    """The request's plan breaks no hard rule, accounts for everyone and is deterministic."""
    request, plan = plan_of(obj)
    assert violations(request, plan, check_rule_five=True) == []
    placed = sum(len(g.members) for g in plan.groups)
    assert placed + len(plan.unmatched) == len(request.participants)
    assert plan_round(request).groups == plan.groups  # deterministic


@given(requests(min_people=11, max_people=80, sizes=(3,), max_rounds=3, overlap=True))
@settings(max_examples=20, deadline=None)
def test_growth_places_everyone_the_trios_leave_out(obj):
    assert_growth_forms_sound_groups_of(obj, 3)


def assert_growth_forms_sound_groups_of(obj: dict, size: int) -> None:
    """The one-at-a-time growth forms disjoint groups of ``size`` with a common slot, each
    pair of them allowed."""
    roster, weights, adjacency = _graph(obj)
    groups = grow_groups(roster, weights, adjacency)
    members = [m for group in groups for m in group]
    assert len(members) == len(set(members))
    assert all(len(group) == size for group in groups)
    for group in groups:
        assert common_free([roster.free[m] for m in group], roster.duration)
        assert all(weights.loose(a, b) is not None for a, b in itertools.combinations(group, 2))


def _tiers(request, plan) -> tuple:
    """A plan's totals on the top tiers, best first, from the request alone: placed,
    seats below and above the target size (fewer is better), pairs met within the
    cooldown and met before (fewer is better), two-department pairs, hybrid pairs."""
    roster = Roster(request)
    target = request.group_size
    under = over = inside = before = cross = hybrid = 0
    for group in plan.groups:
        under += max(0, target - len(group.members))
        over += max(0, len(group.members) - target)
        for a, b in itertools.combinations([roster.index[m] for m in group.members], 2):
            ago = roster.met(a, b)
            inside += ago is not None and ago <= roster.cooldown
            before += ago is not None
            cross += bool(roster.dept[a] != roster.dept[b])
            hybrid += bool(roster.remote[a] != roster.remote[b])
    placed = sum(len(g.members) for g in plan.groups)
    return placed, -under, -over, -inside, -before, cross, hybrid


def _one_by_one(roster, weights, adjacency):
    """Groups grown one at a time from everyone: the growth before the bulk trios."""
    taken = np.zeros(roster.n, bool)
    return grow_one_by_one(roster, weights, adjacency, taken, _balance(weights))


def test_trios_are_as_good_as_one_at_a_time_growth_on_benchmark_organisations(monkeypatch):
    """On the benchmark's own kind of organisation, with rounds of history planned by
    Fika, plans whose groups start as bulk trios are as good as plans whose groups grow
    one at a time: on each organisation on the top tiers (placed, sizes, repeats within
    the cooldown, pairs met before), and over all of them tier by tier."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from orgs import make_org, with_history
    finally:
        sys.path.remove(str(BENCHMARKS))
    totals = {"bulk": np.zeros(7, np.int64), "alone": np.zeros(7, np.int64)}
    for seed in (3, 4, 5):
        org = make_org(300, seed)
        org["group_size"] = 3
        with monkeypatch.context() as patch:
            # The history as the one-at-a-time growth planned it: the same rounds
            # whatever the code under test does.
            patch.setattr(planner, "grow_groups", _one_by_one)
            request = parse_request(json.loads(json.dumps(with_history(org, rounds=5))))
            alone = plan_round(request)
        bulk = plan_round(request)
        assert violations(request, bulk) == []
        mine, theirs = _tiers(request, bulk), _tiers(request, alone)
        assert mine[:5] >= theirs[:5]
        totals["bulk"] += mine
        totals["alone"] += theirs
    assert tuple(totals["bulk"].tolist()) >= tuple(totals["alone"].tolist())
