"""``plan_round``: who meets whom, when, and why, for one round.

1. Index the request (:mod:`pairing.roster`) and work out everyone's free time.
2. Tiny rounds (up to ten people) are solved exactly over all partitions.
3. Otherwise people are split into blocks of similar free time (time-zone bands),
   each block gets a sparse stratified candidate graph (:mod:`pairing.candidates`)
   and a near-maximum-weight matching (:mod:`pairing.matching`); people left alone
   are matched again across blocks.
4. For groups of three or more, groups form along the candidate graph instead: groups
   of three and four first in bulk (:mod:`pairing.trios`, :mod:`pairing.quartets`),
   the rest grown one at a time.
5. Whoever is still alone joins a group where the hard rules allow (rule 5).
6. People who meet someone again within the cooldown, or a colleague of their own
   department, trade places with members of other groups where that is better
   (:func:`pairing.trades.swap_members`; anyone a swap lets in is placed then), and
   recent extra-seat holders trade out of the bigger groups.
7. Slots, modes, reasons and stats are attached (:mod:`pairing.describe`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from pairing.candidates import CANDIDATES, candidate_edges, candidate_sample
from pairing.describe import build_plan
from pairing.gcpause import gc_paused
from pairing.grouping import EXHAUSTIVE_UP_TO, exact_groups, grow_groups, place_leftovers
from pairing.matching import Adjacency, LazyAdjacency, augment, mend, solve
from pairing.model import Plan, PlanRequest
from pairing.roster import Roster
from pairing.trades import rotate_extra_seats, swap_members
from pairing.weights import ScalarWeights, pair_weights

BLOCK = 500  # people per independently solved block of similar free time (LP time is superlinear)


def blocks_of(roster: Roster) -> list[np.ndarray]:
    """Split available people into blocks of similar free time (time-zone bands).

    Sorted by the middle of their free span with seeded random tie-breaking, then cut
    into equal blocks of at most ``BLOCK``: neighbours in time stay together, and each
    block is a random sample of its band's departments and presence.
    """
    people = np.flatnonzero(roster.available)
    count = max(1, -(-len(people) // BLOCK))
    rng = np.random.default_rng([roster.seed & 0xFFFFFFFF, 1])
    middle = (roster.first[people] + roster.last[people]) // 2
    order = people[np.lexsort((rng.random(len(people)), middle))]
    return np.array_split(order, count)


def pair_up(roster: Roster, weights: ScalarWeights) -> list[list[int]]:
    """Pairs from block-wise matchings, a second pass for those left alone, and swaps
    that lift the pairs left below the top tiers (met before, or one department)."""
    mate = np.full(roster.n, -1, np.int64)
    parts = []
    sample = candidate_sample(int(roster.available.sum()))
    for block in blocks_of(roster):
        u, v, w = candidate_edges(roster, block, sample=sample)
        parts.append((u, v, w))
        local = np.full(roster.n, -1, np.int64)
        index = np.full(roster.n, -1, np.int64)
        index[block] = np.arange(len(block))
        found = solve(len(block), index[u], index[v], w, round_size=len(roster.ids))
        local[block] = np.where(found >= 0, block[np.maximum(found, 0)], -1)
        mate[block] = local[block]
    alone = np.flatnonzero(roster.available & (mate < 0))
    if len(alone):
        # Those left alone in their block look across blocks; their edges are enough
        # for the augmenting paths (x - y = z - t needs z-t with t alone too).
        u, v, w = candidate_edges(roster, alone, np.flatnonzero(roster.available), k=2 * CANDIDATES)
        augment(LazyAdjacency(roster.n, u, v, w), mate, alone.tolist())
        parts.append((u, v, w))
    first = np.flatnonzero(mate > np.arange(roster.n))
    ladder = roster.ladder
    top = ladder.base + ladder.department  # never met, and two departments
    weak = first[pair_weights(roster, first, mate[first]) < top]
    if len(weak):
        u, v, w = (np.concatenate(part) for part in zip(*parts, strict=True))
        mend(LazyAdjacency(roster.n, u, v, w), mate, weak.tolist(), weights)
    return [[i, int(mate[i])] for i in np.flatnonzero(mate > np.arange(roster.n)).tolist()]


def plan_round(request: PlanRequest, timer: Callable[[], float] = time.perf_counter) -> Plan:
    """Plan one round. The same request and seed give the same plan.

    ``stats["seconds"]`` is measured with ``timer`` and is the only value that varies
    between runs; nothing else reads a clock. The cyclic garbage collector is paused
    meanwhile (:mod:`pairing.gcpause`).
    """
    with gc_paused():
        return _plan(request, timer, timer())


def _plan(request: PlanRequest, timer: Callable[[], float], started: float) -> Plan:
    """The steps of the module docstring, in order."""
    roster = Roster(request)
    weights = ScalarWeights(roster)
    people = np.flatnonzero(roster.available).tolist()
    adjacency = None  # the candidate graph, when groups grow along it
    if len(people) <= EXHAUSTIVE_UP_TO:
        groups = exact_groups(roster, weights, people)
    elif roster.group_size == 2:
        groups = pair_up(roster, weights)
    else:
        u, v, w = candidate_edges(roster, np.array(people))
        adjacency = Adjacency(roster.n, u, v, w)
        weights.remember(u, v, w)
        groups = grow_groups(roster, weights, adjacency)
    groups = place_leftovers(roster, weights, groups)
    if len(people) > EXHAUSTIVE_UP_TO:
        swap_members(roster, weights, groups, adjacency)
        groups = place_leftovers(roster, weights, groups)  # a swap may have opened a seat
    rotate_extra_seats(roster, weights, groups)
    return build_plan(roster, groups, timer() - started)
