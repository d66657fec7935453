"""From pairs to groups: exact partitions for tiny rounds, growth for bigger groups,
and placing whoever is left over (hard rule 5).

A group is valid when no two members are in a manager line or avoid each other and
all of them share a usable meeting slot. Sizes: ``group_size`` or one more; smaller
only when there are fewer people than that or nobody could be placed otherwise;
bigger only when that is the one way to place someone.
"""

from __future__ import annotations

import numpy as np

from pairing.matching import Adjacency
from pairing.roster import Roster
from pairing.timeline import Interval, common_free, intersect, usable
from pairing.weights import ScalarWeights, conflicting, preference_weights, time_compatible

PLACED = 10_000.0   # per person placed: placing people comes before anything else
UNDER = 1_000.0     # per seat a group is below the target size
OVER = 100.0        # per seat a group is above the target size plus one
EXACT_UP_TO = 10    # people; up to this many the best partition is found exhaustively
ENOUGH_OPTIONS = 12  # groups weighed for a leftover once one of the right size is found


def group_value(members: list[int], weights: ScalarWeights, target: int) -> float | None:
    """What a group is worth: people placed, size, then mean pair weight per person."""
    total, count = 0.0, 0
    for a in range(len(members)):
        for b in range(a + 1, len(members)):
            w = weights(members[a], members[b])
            if w is None:
                return None
            total += w
            count += 1
    size = len(members)
    penalty = UNDER * max(0, target - size) + OVER * max(0, size - target - 1)
    return PLACED * size - penalty + size / 2 * (total / count)


def exact_groups(roster: Roster, weights: ScalarWeights, people: list[int]) -> list[list[int]]:
    """The best partition of a few people into valid groups, by exhaustive search."""
    n = len(people)
    target = min(roster.group_size, n)
    duration = roster.duration
    size = 1 << n
    common: list[list[Interval] | None] = [None] * size
    value: list[float | None] = [None] * size
    for mask in range(1, size):
        high = mask.bit_length() - 1
        rest = mask ^ (1 << high)
        person = people[high]
        if rest == 0:
            common[mask] = roster.free[person]
            continue
        shared = common[rest]
        if not shared:
            continue
        if any(weights(people[b], person) is None for b in range(high) if rest >> b & 1):
            continue
        shared = usable(intersect(shared, roster.free[person]), duration)
        if not shared:
            continue
        common[mask] = shared
        value[mask] = group_value([people[b] for b in range(n) if mask >> b & 1], weights, target)
    best = [0.0] * size
    choice = [0] * size
    for mask in range(1, size):
        low = mask & -mask
        best[mask], choice[mask] = best[mask ^ low], low
        rest = mask ^ low
        sub = rest
        while True:
            group = sub | low
            if value[group] is not None and value[group] + best[mask ^ group] > best[mask] + 1e-9:
                best[mask], choice[mask] = value[group] + best[mask ^ group], group
            if sub == 0:
                break
            sub = (sub - 1) & rest
    groups, mask = [], size - 1
    while mask:
        group = choice[mask]
        if group & (group - 1):
            groups.append([people[b] for b in range(n) if group >> b & 1])
        mask ^= group
    return groups


def grow_groups(roster: Roster, weights: ScalarWeights, adjacency: Adjacency) -> list[list[int]]:
    """Greedy groups of exactly ``group_size`` grown along the candidate graph.

    People with few candidates start first; among equals, those who had the extra seat
    recently start earlier so that the leftovers (who later take extra seats) rotate.
    """
    target = roster.group_size
    degree = np.diff(adjacency.indptr)
    order = np.lexsort((-roster.extra_seats, np.minimum(degree, 4)))
    taken = np.zeros(roster.n, bool)
    groups = []
    for seed in order.tolist():
        if taken[seed] or not roster.available[seed]:
            continue
        group, shared = [seed], roster.free[seed]
        frontier = set(adjacency.neighbours(seed)[0])
        while len(group) < target:
            best = None
            for c in sorted(frontier):
                if taken[c] or c in group:
                    continue
                total = 0.0
                for m in group:
                    w = weights(m, c)
                    if w is None:
                        break
                    total += w
                else:
                    if best is None or total > best[0]:
                        joined = usable(intersect(shared, roster.free[c]), roster.duration)
                        if joined:
                            best = (total, c, joined)
            if best is None:
                break
            _, c, shared = best
            group.append(c)
            frontier.update(adjacency.neighbours(c)[0])
        if len(group) == target:
            groups.append(group)
            taken[group] = True
    return groups


def partners_of(roster: Roster, person: int) -> np.ndarray:
    """Everyone the person could meet under the hard rules (exact, vectorised)."""
    others = np.flatnonzero(roster.available)
    others = others[others != person]
    if len(others) == 0:
        return others
    mine = np.full(len(others), person)
    fits = time_compatible(roster, mine, others)
    others = others[fits]
    return others[~conflicting(roster, np.full(len(others), person), others)]


def place_leftovers(roster: Roster, weights: ScalarWeights, groups: list[list[int]]) -> list[list[int]]:
    """Give every unplaced person a group if any valid one exists (hard rule 5).

    First as the extra member of a group of the target size, then of a smaller group,
    then of a bigger one; failing that, together with other unplaced people.
    """
    target = roster.group_size
    group_of = np.full(roster.n, -1, np.int64)
    for g, members in enumerate(groups):
        group_of[members] = g
    shared = [common_free([roster.free[m] for m in members], roster.duration) for members in groups]
    waiting = [i for i in np.flatnonzero(roster.available & (group_of < 0)).tolist()]
    waiting.sort(key=lambda i: (int(roster.extra_seats[i]), i))
    changed = True
    while waiting and changed:
        changed = False
        still = []
        for person in waiting:
            if group_of[person] >= 0:
                continue
            partners = partners_of(roster, person)
            if len(partners):  # look at the groups of the best partners first
                rank = preference_weights(roster, np.full(len(partners), person), partners)
                partners = partners[np.argsort(-rank, kind="stable")]
            best, options = None, 0
            for g in dict.fromkeys(group_of[partners].tolist()):
                if g < 0:
                    continue
                if best is not None and best[0][0] <= 0 and options >= ENOUGH_OPTIONS:
                    break
                members = groups[g]
                if any(weights(m, person) is None for m in members):
                    continue
                joined = usable(intersect(shared[g], roster.free[person]), roster.duration)
                if not joined:
                    continue
                size = len(members)
                rank = 0 if size == target else (-1 if size < target else size - target)
                gain = sum(weights(m, person) for m in members) / size
                key = (rank, -gain, g)
                options += 1
                if best is None or key < best[0]:
                    best = (key, g, joined)
            if best is not None:
                _, g, joined = best
                groups[g].append(person)
                shared[g] = joined
                group_of[person] = g
                changed = True
                continue
            free = [p for p in partners.tolist() if group_of[p] < 0]
            if free:
                mate = max(free, key=lambda p: (weights(person, p), -p))
                groups.append([person, mate])
                shared.append(common_free([roster.free[person], roster.free[mate]], roster.duration))
                group_of[[person, mate]] = len(groups) - 1
                changed = True
                continue
            still.append(person)
        waiting = still
    return groups
