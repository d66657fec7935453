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
from pairing.roster import FAR, Roster
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
    """True where the three people share a usable, aligned meeting slot
    (:func:`group_fits` for three)."""
    return group_fits(roster, np.stack([x, y, z], axis=1))


def group_fits(roster: Roster, members: np.ndarray) -> np.ndarray:
    """True where the people of each row of ``members`` (one group per row) share a
    usable, aligned meeting slot: :func:`pairing.timeline.common_free` for whole
    groups at once.

    :func:`pairing.weights.time_compatible` for more than two: one member's slots
    are tried in turn against what the members before them share, only where that
    member has that many slots, and a branch stops as soon as its shared time is too
    short for a meeting (sharing with one more person never makes it longer).
    """
    count, size = members.shape
    ok = np.zeros(count, bool)
    if count == 0:
        return ok
    duration, fs, fe, slots = roster.duration, roster.fs, roster.fe, roster.slots
    width = fs.shape[1]

    def walk(rows: np.ndarray, depth: int, start: np.ndarray, end: np.ndarray) -> None:
        person = members[rows, depth]
        for a in range(width):
            keep = (slots[person] > a) & ~ok[rows]
            if not keep.any():
                break
            who = person[keep]
            s = np.maximum(start[keep], fs[who, a])
            e = np.minimum(end[keep], fe[who, a])
            fit = -(-s // 5) * 5 + duration <= e
            if depth == size - 1:
                ok[rows[keep][fit]] = True
            elif fit.any():
                walk(rows[keep][fit], depth + 1, s[fit], e[fit])

    everyone = np.arange(count)
    walk(everyone, 0, np.full(count, -FAR, np.int64), np.full(count, FAR, np.int64))
    if roster.wide.any():  # the arrays keep only the longest pieces: recheck exactly
        free = roster.free
        for k in np.flatnonzero(roster.wide[members].any(axis=1)).tolist():
            together = [free[m] for m in members[k].tolist()]
            ok[k] = bool(common_free(together, duration))
    return ok


def take_best_first(roster: Roster, members: np.ndarray) -> list[list[int]]:
    """Disjoint groups from ``members`` (one proposed group per row, best first), each
    with a common slot: the same as walking the rows in order and taking each one
    whose people are all still free and share a slot, but in rounds, each of which
    takes every row that is the best left for all of its people at once (and drops
    those of them without a common slot)."""
    rank = np.arange(len(members), 0, -1)  # higher is better
    taken = np.zeros(roster.n, bool)
    chosen = [np.zeros((0, members.shape[1]), np.int64)]
    while len(members):
        best = np.zeros(roster.n, np.int64)
        for column in members.T:
            np.maximum.at(best, column, rank)
        top = np.flatnonzero((best[members] == rank[:, None]).all(axis=1))
        fits = group_fits(roster, members[top])
        won = members[top[fits]]
        chosen.append(won)
        taken[won.ravel()] = True
        left = ~taken[members].any(axis=1)
        left[top[~fits]] = False  # no common slot: never a group
        members, rank = members[left], rank[left]
    return np.concatenate(chosen).tolist()


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
    return take_best_first(roster, np.stack([x[order], y[order], z[order]], axis=1))
