"""Trios in bulk: the first and largest part of forming groups of three, in numpy.

Growing groups one seed at a time asks about a million pairs one by one in Python at
50,000 people. Here every person proposes the trios of themself and two of their
``FANOUT`` best candidates (the candidate graph lists them best first); each trio is
weighed once, in arrays, as :func:`pairing.grouping.group_value` weighs it, plus the
department balance of :func:`pairing.grouping.grow_groups`. Then the trios are taken
greedily, best first, where none of its members is taken yet: the same result as
walking the sorted list one trio at a time, but in rounds, each of which takes every
trio that is the best left for all three of its members at once.

Trios with a pair that met before, or without a common slot, or breaking a hard
rule, are never proposed: whoever is left is grouped by the one-at-a-time growth,
which looks wider for them.
"""

from __future__ import annotations

import numpy as np

from pairing.matching import Adjacency
from pairing.roster import Roster
from pairing.timeline import common_free
from pairing.weights import ScalarWeights, pair_weights

FANOUT = 12  # best candidates of a person tried as the other two members of their trio


def trio_proposals(
    roster: Roster, adjacency: Adjacency
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every trio a person proposes with two of their ``FANOUT`` best candidates, once
    each, valid and fresh (no pair met before): ``(x, y, z, wxy, wxz, wyz)``, ``x``
    the person who proposed it, with each pair's weight (int64)."""
    empty = np.zeros(0, np.int64)
    indptr, indices = adjacency.indptr, adjacency.indices
    degree = np.minimum(np.diff(indptr), FANOUT)
    firsts, seconds = np.triu_indices(FANOUT, 1)
    centre = np.repeat(np.arange(roster.n), len(firsts))
    i = np.tile(firsts, roster.n)
    j = np.tile(seconds, roster.n)
    keep = (j < degree[centre]) & roster.available[centre]
    centre, i, j = centre[keep], i[keep], j[keep]
    if len(centre) == 0:
        return empty, empty, empty, empty, empty, empty
    y = indices[indptr[centre] + i]
    z = indices[indptr[centre] + j]
    # The centre's two pairs are candidate edges, weighed already; the third is not.
    wxy = adjacency.weights[indptr[centre] + i].astype(np.int64)
    wxz = adjacency.weights[indptr[centre] + j].astype(np.int64)
    base = roster.ladder.base
    fresh = (wxy >= base) & (wxz >= base)  # a pair that met before weighs less than the base
    x, y, z, wxy, wxz = centre[fresh], y[fresh], z[fresh], wxy[fresh], wxz[fresh]
    # Each trio once, whoever proposed it (the weights do not depend on who did).
    low, high = np.minimum(y, z), np.maximum(y, z)
    low, middle, high = np.sort(np.stack([x, low, high]), axis=0)
    n = np.int64(roster.n)
    _, first = np.unique((low * n + middle) * n + high, return_index=True)
    x, y, z, wxy, wxz = x[first], y[first], z[first], wxy[first], wxz[first]
    wyz = pair_weights(roster, y, z)
    good = wyz >= base  # -inf when a hard rule is broken
    x, y, z, wxy, wxz = x[good], y[good], z[good], wxy[good], wxz[good]
    wyz = wyz[good].astype(np.int64)
    fits = trio_fits(roster, x, y, z)
    return x[fits], y[fits], z[fits], wxy[fits], wxz[fits], wyz[fits]


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
    """Disjoint trios from :func:`trio_proposals`, best first (see the module docstring).

    A trio's score is its :func:`pairing.grouping.group_value` without the shape (all
    trios have the same) plus ``balance`` department units per member, times the share
    of the round's people in that member's department; ties go to the lower members.
    """
    x, y, z, wxy, wxz, wyz = trio_proposals(roster, adjacency)
    if len(x) == 0:
        return []
    dept = roster.dept
    counts = np.bincount(dept[roster.available], minlength=len(roster.dept_names))
    share = balance * counts // max(1, int(counts.sum()))  # balance units per member
    quarters = roster.quarters
    score = wxy + wxz + wyz
    score -= weights.ladder.fairness * (quarters[x] + quarters[y] + quarters[z])
    score += share[dept[x]] + share[dept[y]] + share[dept[z]]
    # Best first; among equal scores the lower members first (the order is total).
    low, middle, high = np.sort(np.stack([x, y, z]), axis=0)
    order = np.lexsort((high, middle, low, -score))
    x, y, z = x[order], y[order], z[order]
    rank = np.arange(len(x), 0, -1)  # higher is better
    taken = np.zeros(roster.n, bool)
    chosen = []
    while len(x):
        best = np.zeros(roster.n, np.int64)
        for member in (x, y, z):
            np.maximum.at(best, member, rank)
        top = (best[x] == rank) & (best[y] == rank) & (best[z] == rank)
        chosen.append(np.stack([x[top], y[top], z[top]], axis=1))
        taken[x[top]] = taken[y[top]] = taken[z[top]] = True
        left = ~(taken[x] | taken[y] | taken[z])
        x, y, z, rank = x[left], y[left], z[left], rank[left]
    return np.concatenate(chosen).tolist()
