"""Trios in bulk: the first and largest part of forming groups of three, in numpy.

Growing groups one seed at a time asks about a million pairs one by one in Python at
50,000 people. Here every person proposes the trios of themself and two of their
``FANOUT`` best candidates (the candidate graph lists them best first); each trio is
weighed once, in arrays, as :func:`pairing.grouping.group_value` weighs it, plus the
department balance of :func:`pairing.grouping.grow_groups`. Then the trios are taken
greedily, best first, where none of its members is taken yet and the three share a
meeting slot: the same result as walking the sorted list one trio at a time, but in
rounds, each of which takes every trio that is the best left for all three of its
members at once (and drops those of them without a common slot).

Trios with a pair that met before or breaking a hard rule are never proposed:
whoever is left is grouped by the one-at-a-time growth, which looks wider for them.
"""

from __future__ import annotations

import numpy as np

from pairing.matching import Adjacency
from pairing.roster import Roster
from pairing.timeline import common_free
from pairing.weights import ScalarWeights, conflicting, full_weights, preference_weights

FANOUT = 8  # best candidates of a person tried as the other two members of their trio
CHUNK = 200_000  # pairs weighed at once (memory)


def loose_weights(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """:func:`pairing.weights.pair_weights` without the free-time check (a trio's
    common slot is checked for the three at once): ``-inf`` for a manager line or an
    avoid list. Weighed in chunks: the history check holds a row of past partners
    per pair."""
    out = [np.zeros(0)]
    for a in range(0, len(u), CHUNK):
        p, q = u[a : a + CHUNK], v[a : a + CHUNK]
        w = full_weights(roster, p, q, preference_weights(roster, p, q, with_noise=False))
        w[conflicting(roster, p, q)] = -np.inf
        out.append(w)
    return np.concatenate(out)


def trio_proposals(
    roster: Roster, adjacency: Adjacency
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every trio a person proposes with two of their ``FANOUT`` best candidates, once
    each, fresh (no pair met before) and without a manager line or avoid list inside:
    ``(x, y, z, weight)``, ``x < y < z``, ``weight`` the sum of its three pair weights
    (int64). Ordered by ``x``, ``y``, ``z``. Their common slot is not checked here."""
    empty = np.zeros(0, np.int64)
    indptr, indices = adjacency.indptr, adjacency.indices
    degree = np.minimum(np.diff(indptr), FANOUT)
    firsts, seconds = np.triu_indices(FANOUT, 1)
    centre = np.repeat(np.arange(roster.n), len(firsts))
    i = np.tile(firsts, roster.n)
    j = np.tile(seconds, roster.n)
    keep = (j < degree[centre]) & roster.available[centre]
    centre, i, j = centre[keep], indptr[centre[keep]] + i[keep], indptr[centre[keep]] + j[keep]
    if len(centre) == 0:
        return empty, empty, empty, empty
    # The centre's two pairs are candidate edges, weighed already; the third is not.
    base = roster.ladder.base
    wxy, wxz = adjacency.weights[i], adjacency.weights[j]
    fresh = (wxy >= base) & (wxz >= base)  # a pair that met before weighs less than the base
    x, y, z = centre[fresh], indices[i[fresh]], indices[j[fresh]]
    weight = wxy[fresh].astype(np.int64) + wxz[fresh].astype(np.int64)
    # Each trio once, whoever proposed it (the weights do not depend on who did).
    low = np.minimum(np.minimum(x, y), z)
    high = np.maximum(np.maximum(x, y), z)
    middle = x + y + z - low - high
    n = np.int64(roster.n)
    _, first = np.unique((low * n + middle) * n + high, return_index=True)
    x, y, z, weight = low[first], middle[first], high[first], weight[first]
    # The third pair's weight; ``centre`` no longer tells which pair that is.
    centre = centre[fresh][first]
    third_u = np.where(centre == x, y, x)
    third_v = np.where(centre == z, y, z)
    third = loose_weights(roster, third_u, third_v)
    good = third >= base  # -inf for a hard rule, below the base for a pair met before
    return x[good], y[good], z[good], weight[good] + third[good].astype(np.int64)


def trio_fits(roster: Roster, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """True where the three people share a usable, aligned meeting slot.

    :func:`pairing.weights.time_compatible` for three: slot triples are tried in turn
    on the trios not yet known to fit, and only where each person has that many slots.
    """
    duration, fs, fe, slots = roster.duration, roster.fs, roster.fe, roster.slots
    ok = np.zeros(len(x), bool)
    width = fs.shape[1]
    todo = np.arange(len(x))
    for a in range(width):
        first = todo[slots[x[todo]] > a]
        for b in range(width):
            second = first[(slots[y[first]] > b) & ~ok[first]]
            for c in range(width):
                rows = second[(slots[z[second]] > c) & ~ok[second]]
                if len(rows) == 0:
                    break
                px, py, pz = x[rows], y[rows], z[rows]
                start = np.maximum(np.maximum(fs[px, a], fs[py, b]), fs[pz, c])
                end = np.minimum(np.minimum(fe[px, a], fe[py, b]), fe[pz, c])
                ok[rows[-(-start // 5) * 5 + duration <= end]] = True
    if roster.wide.any():  # the arrays keep only the longest pieces: recheck exactly
        free = roster.free
        for k in np.flatnonzero(roster.wide[x] | roster.wide[y] | roster.wide[z]).tolist():
            together = [free[x[k]], free[y[k]], free[z[k]]]
            ok[k] = bool(common_free(together, duration))
    return ok


def greedy_trios(
    roster: Roster, weights: ScalarWeights, adjacency: Adjacency, balance: int
) -> list[list[int]]:
    """Disjoint trios from :func:`trio_proposals`, best first, each with a common slot
    (see the module docstring).

    A trio's score is its :func:`pairing.grouping.group_value` without the shape (all
    trios have the same) plus ``balance`` department units per member, times the share
    of the round's people in that member's department; ties go to the lower members.
    """
    x, y, z, score = trio_proposals(roster, adjacency)
    if len(x) == 0:
        return []
    dept = roster.dept
    counts = np.bincount(dept[roster.available], minlength=len(roster.dept_names))
    share = balance * counts // max(1, int(counts.sum()))  # balance units per member
    quarters = roster.quarters
    score -= weights.ladder.fairness * (quarters[x] + quarters[y] + quarters[z])
    score += share[dept[x]] + share[dept[y]] + share[dept[z]]
    # Best first; the proposals come ordered by members, so equal scores keep the
    # lower members first and the order is total.
    order = np.argsort(-score, kind="stable")
    x, y, z = x[order], y[order], z[order]
    rank = np.arange(len(x), 0, -1)  # higher is better
    taken = np.zeros(roster.n, bool)
    chosen = []
    while len(x):
        best = np.zeros(roster.n, np.int64)
        for member in (x, y, z):
            np.maximum.at(best, member, rank)
        top = np.flatnonzero((best[x] == rank) & (best[y] == rank) & (best[z] == rank))
        fits = trio_fits(roster, x[top], y[top], z[top])
        won = top[fits]
        chosen.append(np.stack([x[won], y[won], z[won]], axis=1))
        taken[x[won]] = taken[y[won]] = taken[z[won]] = True
        left = ~(taken[x] | taken[y] | taken[z])
        left[top[~fits]] = False  # no common slot: never a group
        x, y, z, rank = x[left], y[left], z[left], rank[left]
    return np.concatenate(chosen).tolist()
