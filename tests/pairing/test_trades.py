"""Trading places (:mod:`pairing.trades`): the swap search that weighs each part of a
swap's gain once gives exactly the swaps of the plain search it replaced; and the
plan's repeat count and history reasons, read in one pass, are the pairwise walks'."""

from __future__ import annotations

import itertools
import json

import numpy as np
from hypothesis import given, settings

from pairing import parse_request, plan_round, trades
from pairing.candidates import candidate_edges
from pairing.describe import _history_reason, build_plan, latest_meeting
from pairing.grouping import grow_groups, place_leftovers
from pairing.matching import Adjacency
from pairing.roster import Roster
from pairing.timeline import common_free
from pairing.weights import ScalarWeights
from tests.pairing.strategies import requests


def _swap_gain(roster, weights, g, h, m, q):
    """How much group_value of ``g`` and ``h`` together rises when ``m`` (in ``g``) and
    ``q`` (in ``h``) trade places; None when a new pair breaks a hard rule (the code
    the search replaced)."""
    loose, gain = weights.loose, 0
    for x in g:
        if x != m:
            new = loose(q, x)
            if new is None:
                return None
            gain += new - loose(m, x)
    for y in h:
        if y != q:
            new = loose(m, y)
            if new is None:
                return None
            gain += new - loose(q, y)
    target, quarters = roster.group_size, weights.quarters
    for size, sign in ((len(g), 1), (len(h), -1)):
        gain += (
            sign
            * weights.ladder.fairness
            * (quarters[q] - quarters[m])
            * ((size <= target) - (size - 1))
        )
    return gain


def _plain_best_swap(roster, weights, groups, g, m, homes, other):
    """The plain search: every member of every home weighed in full, in order."""
    best, found = 0, None
    for h in homes:
        for q in groups[h]:
            if other is not None and other[q] == other[m]:
                continue
            gain = _swap_gain(roster, weights, groups[g], groups[h], m, q)
            if gain is None or gain <= best:
                continue
            new_g = [x for x in groups[g] if x != m] + [q]
            new_h = [x for x in groups[h] if x != q] + [m]
            if not common_free([roster.free[x] for x in new_g], roster.duration):
                continue
            if not common_free([roster.free[x] for x in new_h], roster.duration):
                continue
            best, found = gain, (h, q, new_g, new_h)
    return found


def _formed(obj):
    """Roster, weights, candidate graph and groups as the planner has them before swaps."""
    roster = Roster(parse_request(json.loads(json.dumps(obj))))
    weights = ScalarWeights(roster)
    u, v, w = candidate_edges(roster, np.flatnonzero(roster.available))
    adjacency = Adjacency(roster.n, u, v, w)
    weights.remember(u, v, w)
    groups = place_leftovers(roster, weights, grow_groups(roster, weights, adjacency))
    return roster, weights, adjacency, groups


@given(
    requests(
        min_people=11,
        max_people=60,
        sizes=(3, 4, 5),
        max_rounds=4,
        overlap=True,
        history_groups=(2, 3, 4),
    )
)
@settings(max_examples=40, deadline=None)
def test_swaps_are_the_plain_searchs_swaps(obj):
    roster, weights, adjacency, groups = _formed(obj)
    plain = [list(g) for g in groups]
    original = trades._best_swap
    trades._best_swap = _plain_best_swap
    try:
        trades.swap_members(roster, weights, plain, adjacency)
    finally:
        trades._best_swap = original
    trades.swap_members(roster, weights, groups, adjacency)
    assert groups == plain


@given(
    requests(
        min_people=4, max_people=30, sizes=(3, 4), max_rounds=3, overlap=True, history_groups=(3, 4)
    )
)
@settings(max_examples=40, deadline=None)
def test_each_best_swap_is_the_plain_searchs(obj):
    roster, weights, _, groups = _formed(obj)
    for g, members in enumerate(groups):
        homes = [h for h in range(len(groups)) if h != g]
        for m in members:
            for other in (None, weights.dept, roster.remote.tolist()):
                expected = _plain_best_swap(roster, weights, groups, g, m, homes, other)
                assert trades._best_swap(roster, weights, groups, g, m, homes, other) == expected


@given(requests(min_people=4, max_people=40, sizes=(3, 4), max_rounds=4, history_groups=(2, 3, 4)))
@settings(max_examples=30, deadline=None)
def test_plan_repeats_and_history_reasons_are_the_pairwise_walks(obj):
    """build_plan counts repeats and finds each group's latest meeting in one pass;
    both are what latest_meeting and a walk over every pair give."""
    request = parse_request(json.loads(json.dumps(obj)))
    plan = plan_round(request)
    roster = Roster(request)
    repeats = 0
    for group in plan.groups:
        members = sorted(roster.index[m] for m in group.members)
        for a, b in itertools.combinations(members, 2):
            ago = roster.met(a, b)
            repeats += ago is not None and ago <= roster.cooldown
        assert group.reasons[0] == _history_reason(roster, members, latest_meeting(roster, members))
    assert plan.stats["repeats"] == repeats


@given(requests(min_people=6, max_people=30, max_rounds=3, history_groups=(2, 3), overlap=True))
@settings(max_examples=30, deadline=None)
def test_described_groups_of_former_groups_name_the_first_latest_pair(obj):
    """Groups made of two former groups hold several pairs that met equally recently:
    the reason names the first of them, as latest_meeting does."""
    request = parse_request(json.loads(json.dumps(obj)))
    roster = Roster(request)
    if not request.history:
        return
    latest = max(request.history, key=lambda r: r.date).groups
    former = [[roster.index[m] for m in group] for group in latest]
    chosen = []
    for a, b in zip(former[::2], former[1::2], strict=False):
        members = sorted(set(a + b))
        if common_free([roster.free[m] for m in members], roster.duration):
            chosen.append(members)
    plan = build_plan(roster, chosen, 0.0)
    for group in plan.groups:
        members = sorted(roster.index[m] for m in group.members)
        assert group.reasons[0] == _history_reason(roster, members, latest_meeting(roster, members))
