"""How close the planner gets to the exact optimum, on rounds small enough to solve."""

from __future__ import annotations

import random

import networkx as nx
import pytest

import pairing.matching
import pairing.planner
from pairing import parse_request, plan_round
from pairing.graph import candidate_graph
from pairing.roster import Roster
from pairing.weights import ScalarWeights

ZONES = [
    ("Stockholm", "Europe/Stockholm"),
    ("New York", "America/New_York"),
    ("Pune", "Asia/Kolkata"),
]


def _round(count: int, seed: int) -> dict:
    rng = random.Random(seed)
    crowd = []
    for i in range(count):
        office, zone = rng.choice(ZONES)
        start = rng.choice([7, 8, 9, 10])
        crowd.append(
            {
                "id": f"p{i}",
                "department": rng.choices(
                    ["Eng", "Sales", "Ops", "Legal", "Design"], [8, 4, 2, 1, 1]
                )[0],
                "site": None if rng.random() < 0.4 else office,
                "timezone": zone,
                "work_hours": [f"{start:02d}:00", f"{start + 8:02d}:00"],
                "topics": rng.sample(["data", "chess", "books", "films", "running", "jazz"], 2),
                "manager": f"p{rng.randrange(count)}",
            }
        )
    history = []
    for back in range(1, 4):
        ids = [p["id"] for p in crowd]
        rng.shuffle(ids)
        history.append(
            {
                "date": f"2025-02-{25 - 7 * back:02d}",
                "groups": [ids[i : i + 2] for i in range(0, count - 1, 2)],
            }
        )
    return {"date": "2025-03-04", "seed": seed, "participants": crowd, "history": history}


def _best_pairs(roster: Roster, weights: ScalarWeights, plan) -> list[tuple[int, int]]:
    """The best pair inside each group (a trio counts one pair, like a matching)."""
    pairs = []
    for group in plan.groups:
        ids = [roster.index[m] for m in group.members]
        options = [(a, b) for a in ids for b in ids if a < b and weights(a, b) is not None]
        pairs.append(max(options, key=lambda ab: weights(*ab)))
    return pairs


def _preferences(roster: Roster, weights: ScalarWeights, pairs) -> int:
    """What the pairs are worth above the placement base: the order's tiers 1-6."""
    return sum(weights(a, b) - roster.ladder.base for a, b in pairs)


@pytest.mark.parametrize("solver", ["blossom", "lp"])
def test_plans_reach_the_exact_optimum_closely(monkeypatch, solver):
    """Everyone the optimum places is placed, and the preference value (the weight less
    the base that makes any full plan look optimal) is within 1% of the optimum's."""
    monkeypatch.setattr(pairing.matching, "BLOSSOM_UP_TO", 10**9 if solver == "blossom" else 0)
    for seed in (1, 2):
        request = parse_request(_round(80, seed))
        plan = plan_round(request)
        roster = Roster(request)
        weights = ScalarWeights(roster)
        graph = candidate_graph(request, full=True)
        best = [
            (roster.index[a], roster.index[b])
            for a, b in nx.max_weight_matching(graph, maxcardinality=True)
        ]
        mine = _best_pairs(roster, weights, plan)
        assert len(mine) == len(best)
        optimum = _preferences(roster, weights, best)
        assert optimum > 0
        assert _preferences(roster, weights, mine) >= 0.99 * optimum, (seed, solver)


def test_the_candidate_graph_holds_the_planner_weights():
    request = parse_request(_round(40, 3))
    sparse, full = candidate_graph(request), candidate_graph(request, full=True)
    assert set(sparse.nodes) == set(full.nodes) == {p.id for p in request.participants}
    assert sparse.number_of_edges() < full.number_of_edges()
    for a, b, data in sparse.edges(data=True):
        assert full[a][b]["weight"] == data["weight"]
        assert isinstance(data["weight"], int)  # networkx then stays in exact integers
    boss = {p.id: p.manager for p in request.participants}
    assert not any(boss[a] == b or boss[b] == a for a, b in full.edges)


def test_blocks_and_lp_match_one_block_closely(monkeypatch):
    """Splitting a round into time-zone blocks costs (almost) nothing."""
    request = parse_request(_round(300, 4))
    monkeypatch.setattr(pairing.matching, "BLOSSOM_UP_TO", 0)
    whole = plan_round(request)
    monkeypatch.setattr(pairing.planner, "BLOCK", 60)
    split = plan_round(request)
    roster = Roster(request)
    weights = ScalarWeights(roster)
    whole_value = _preferences(roster, weights, _best_pairs(roster, weights, whole))
    assert _preferences(roster, weights, _best_pairs(roster, weights, split)) >= 0.99 * whole_value
    assert not split.unmatched
