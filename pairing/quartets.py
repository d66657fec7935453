"""Groups of four in bulk: :mod:`pairing.trios` for one more member, in numpy.

Growing groups of four one seed at a time asks about millions of pairs one by one in
Python at 50,000 people. Here every person proposes the groups of themself and three
of their ``FANOUT`` best candidates (the candidate graph lists them best first). The
six pair weights of a proposal come from two tables per person: the candidate edges
from the centre (weighed already), and the pairs among the centre's ``FANOUT`` best
candidates, weighed once per centre in arrays however many of its proposals hold
them. Each group is scored as :func:`pairing.grouping.group_value` scores it, plus the
department balance of the trios, and taken greedily, best first, where none of its
members is taken yet and the four share a meeting slot
(:func:`pairing.trios.take_best_first`).

Groups with a pair that met before or breaking a hard rule are never proposed:
whoever is left is grouped by the one-at-a-time growth, which looks wider for them.
"""

from __future__ import annotations

import itertools

import numpy as np

from pairing.matching import Adjacency
from pairing.roster import Roster
from pairing.trios import loose_weights, take_best_first
from pairing.weights import ScalarWeights

FANOUT = 8  # best candidates of a person tried as the other three members of their group
SIZE = 4
PER_CENTRE = 8  # of the groups a person proposes, the heaviest kept (the rest are rarely taken)


def quartet_proposals(roster: Roster, adjacency: Adjacency) -> tuple[np.ndarray, np.ndarray]:
    """Every group of four a person proposes with three of their ``FANOUT`` best
    candidates, once each, fresh (no pair met before) and without a manager line or
    avoid list inside: ``(members, weight)``, ``members`` rows sorted ascending and
    the rows in ascending order, ``weight`` the sum of the six pair weights (int64).
    Their common slot is not checked here."""
    n = roster.n
    centres = np.flatnonzero(roster.available & (np.diff(adjacency.indptr) >= SIZE - 1))
    if len(centres) == 0:
        return np.zeros((0, SIZE), np.int64), np.zeros(0, np.int64)
    base = roster.ladder.base
    near, edge, edge_fresh = _best_of_both(roster, adjacency, centres)
    # The pairs among them, weighed once per centre.
    first, second = np.triu_indices(FANOUT, 1)
    both = edge_fresh[:, first] & edge_fresh[:, second]
    row, pair = np.nonzero(both)
    found = loose_weights(roster, near[row, first[pair]], near[row, second[pair]])
    good = found >= base  # -inf for a hard rule, below the base for a pair met before
    row, pair = row[good], pair[good]
    between = np.zeros((len(centres), FANOUT, FANOUT), np.int64)
    between_fresh = np.zeros((len(centres), FANOUT, FANOUT), bool)
    between[row, first[pair], second[pair]] = found[good].astype(np.int64)
    between_fresh[row, first[pair], second[pair]] = True
    # Every three of the centre's candidates: the centre's three edges and their three pairs.
    trios = np.array(list(itertools.combinations(range(FANOUT), SIZE - 1)), np.int64)
    i, j, k = trios[:, 0], trios[:, 1], trios[:, 2]
    fresh = edge_fresh[:, i] & edge_fresh[:, j] & edge_fresh[:, k]
    fresh &= between_fresh[:, i, j] & between_fresh[:, i, k] & between_fresh[:, j, k]
    weight = edge[:, i] + edge[:, j] + edge[:, k]
    weight += between[:, i, j] + between[:, i, k] + between[:, j, k]
    weight[~fresh] = np.iinfo(np.int64).min
    # Each centre's ``PER_CENTRE`` heaviest groups (ties: the better candidates first).
    best = np.argsort(-weight, axis=1, kind="stable")[:, :PER_CENTRE]
    row = np.repeat(np.arange(len(centres)), best.shape[1])
    pick = best.ravel()
    keep = fresh[row, pick]
    row, pick = row[keep], pick[keep]
    weight = weight[row, pick]
    members = np.stack(
        [centres[row], near[row, i[pick]], near[row, j[pick]], near[row, k[pick]]], axis=1
    )
    members.sort(axis=1)
    # Each group once, whoever proposed it (the weights do not depend on who did).
    if n <= 1 << 16:
        key = (members[:, 0] << 48) | (members[:, 1] << 32) | (members[:, 2] << 16) | members[:, 3]
        _, once = np.unique(key, return_index=True)
    else:
        _, once = np.unique(members, axis=0, return_index=True)
    return members[once], weight[once]


def _best_of_both(
    roster: Roster, adjacency: Adjacency, centres: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each centre's ``FANOUT`` candidates, taken alternately from the best of the
    other presence and of their own (the rest of the longer side when one runs
    short), their edge weights (int64) and where those are fresh (never met): one row
    per centre, padded with -1, 0 and False.

    The best candidates overall are nearly all of the other presence (that pair is
    hybrid), so groups of them would hold one person of one presence and three of the
    other, where two and two make four hybrid pairs instead of three.
    """
    indptr, indices, weights = adjacency.indptr, adjacency.indices, adjacency.weights
    degree = np.diff(indptr)[centres]
    start = indptr[centres]
    head = np.repeat(np.arange(len(centres)), degree)
    at = np.repeat(start - np.cumsum(degree) + degree, degree) + np.arange(degree.sum())
    other = roster.remote[indices[at]] != roster.remote[centres[head]]
    # Place of each candidate among the centre's candidates of the same presence.
    place = np.empty(len(at), np.int64)
    for side in (other, ~other):
        count = np.cumsum(side)
        before = np.repeat(
            count[np.cumsum(degree) - degree] - side[np.cumsum(degree) - degree], degree
        )
        place[side] = (count - before - 1)[side]
    # Within a centre: by place, the other presence first at equal places (as the
    # candidate graph ranks hybrid pairs higher), then in the graph's order.
    order = np.lexsort((at, ~other, place, head))
    slot = np.arange(len(at)) - np.repeat(np.cumsum(degree) - degree, degree)
    keep = slot < FANOUT
    row, column, chosen = head[keep], slot[keep], at[order][keep]
    near = np.full((len(centres), FANOUT), -1, np.int64)
    edge = np.zeros((len(centres), FANOUT), np.int64)
    fresh = np.zeros((len(centres), FANOUT), bool)
    near[row, column] = indices[chosen]
    found = weights[chosen]
    good = found >= roster.ladder.base  # a pair that met before weighs less than the base
    edge[row[good], column[good]] = found[good].astype(np.int64)
    fresh[row[good], column[good]] = True
    return near, edge, fresh


def greedy_quartets(
    roster: Roster, weights: ScalarWeights, adjacency: Adjacency, balance: int
) -> list[list[int]]:
    """Disjoint groups of four from :func:`quartet_proposals`, best first, each with a
    common slot.

    A group's score is its :func:`pairing.grouping.group_value` without the shape (all
    have the same), so each member's fairness units count once though every pair
    weighs them, plus ``balance`` department units per member, times the share of the
    round's people in that member's department; ties go to the lower members.
    """
    members, score = quartet_proposals(roster, adjacency)
    if len(members) == 0:
        return []
    dept = roster.dept
    counts = np.bincount(dept[roster.available], minlength=len(roster.dept_names))
    share = balance * counts // max(1, int(counts.sum()))  # balance units per member
    # Each member's units are in three of the six pairs; group_value keeps them once.
    score -= (SIZE - 2) * weights.ladder.fairness * roster.quarters[members].sum(axis=1)
    score += share[dept[members]].sum(axis=1)
    order = np.argsort(-score, kind="stable")  # ties: lower members first (rows are sorted)
    return take_best_first(roster, members[order])
