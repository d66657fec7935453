"""From pairs to groups: exact partitions for tiny rounds, growth for bigger groups,
and placing whoever is left over (hard rule 5).

A group is valid when no two members are in a manager line or avoid each other and
all of them share a usable meeting slot. Sizes: ``group_size`` or one more; smaller
only when there are fewer people than that or nobody could be placed otherwise;
bigger only when that is the one way to place someone.
"""

from __future__ import annotations

import numpy as np

from pairing.candidates import candidate_edges
from pairing.matching import Adjacency
from pairing.quartets import greedy_quartets
from pairing.roster import Roster
from pairing.timeline import Interval, common_free, intersect, usable
from pairing.trios import greedy_trios
from pairing.weights import ScalarWeights, conflicting, preference_weights, time_compatible

# The shape of a grouping comes before every preference: people placed, then seats
# below the target size, seats more than one above it, and any seat above it at all
# (so a group of target + 1 only when the count or the hard rules need it).
PLACED = 1 << 30  # per person placed
UNDER = 1 << 20  # per seat a group is below the target size
OVER = 1 << 10  # per seat a group is above the target size plus one
EXTRA = 1  # per seat a group is above the target size
EXHAUSTIVE_UP_TO = 10  # people; up to this many the best partition is found exhaustively
SEAT_ROTATION = 6  # fairness units per recent quarter seat among a group's members
ENOUGH_OPTIONS = 12  # groups weighed for a leftover once one of the right size is found
WIDEN_TO = 48  # people added to a stalled group's frontier from a wider search
WIDEN_SAMPLE = 2000  # people a stalled group's seed checks before scanning everyone
BALANCE = (3, 2)  # department units per member, times the waiting share of the candidate's
SECOND_PASS = {4}
BULK = {3: greedy_trios, 4: greedy_quartets}  # group sizes formed in bulk first


def group_value(members: list[int], weights: ScalarWeights, target: int) -> int | None:
    """What a group adds to a grouping (None when it breaks a hard rule other than time).

    The shape (``PLACED``, ``UNDER``, ``OVER``, ``EXTRA``) above the sum of every pair's
    weight less the base (the shape already counts who is placed), so groupings are
    compared on the shape first, then tier by tier over all their pairs. Fairness is
    the group's, not its pairs': each member's units count once, and only in a group
    not above the target size (pair weights count them once per partner, which would
    reward putting recent extra-seat holders in big groups).
    """
    total = 0
    for a in range(len(members)):
        for b in range(a + 1, len(members)):
            w = weights.loose(members[a], members[b])
            if w is None:
                return None
            total += w
    size = len(members)
    total -= weights.ladder.base * (size * (size - 1) // 2)  # the shape counts people placed
    quarters = sum(weights.quarters[m] for m in members)
    total += weights.ladder.fairness * quarters * ((size <= target) - (size - 1))
    shape = (
        PLACED * size
        - UNDER * max(0, target - size)
        - OVER * max(0, size - target - 1)
        - EXTRA * max(0, size - target)
    )
    return shape * weights.grouping_scale + total


def exact_groups(roster: Roster, weights: ScalarWeights, people: list[int]) -> list[list[int]]:
    """The best partition of a few people into valid groups, by exhaustive search."""
    n = len(people)
    target = min(roster.group_size, n)
    duration = roster.duration
    size = 1 << n
    common: list[list[Interval] | None] = [None] * size
    value: list[int | None] = [None] * size
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
        if any(weights.loose(people[b], person) is None for b in range(high) if rest >> b & 1):
            continue
        shared = usable(intersect(shared, roster.free[person]), duration)
        if not shared:
            continue
        common[mask] = shared
        value[mask] = group_value([people[b] for b in range(n) if mask >> b & 1], weights, target)
    return best_partition(people, value)


def best_partition(people: list[int], value: list[int | None]) -> list[list[int]]:
    """The partition of ``people`` into groups of highest total value, by subset DP.

    ``value[mask]`` is the value of the group whose members are the bits of ``mask`` (indexes
    into ``people``), or None where that group is not allowed. Anyone the best partition leaves
    on their own is left out of the result: a single is not a group.
    """
    n = len(people)
    size = 1 << n
    best = [0] * size
    choice = [0] * size
    for mask in range(1, size):
        low = mask & -mask
        best[mask], choice[mask] = best[mask ^ low], low
        rest = mask ^ low
        sub = rest
        while True:
            group = sub | low
            if value[group] is not None and value[group] + best[mask ^ group] > best[mask]:
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
    """Groups of exactly ``group_size`` along the candidate graph.

    Groups of three and four come in bulk first (:func:`pairing.trios.greedy_trios`,
    :func:`pairing.quartets.greedy_quartets`, when the weights are int64); whoever
    they leave out grows one group at a time (:func:`grow_one_by_one`) on a candidate
    graph of their own, as does every group of another size. (A second bulk pass over
    those left cost trios elsewhere.)
    """
    balance = BALANCE[0] * weights.ladder.department // BALANCE[1]
    taken = np.zeros(roster.n, bool)
    groups: list[list[int]] = []
    bulk = BULK.get(roster.group_size)
    if bulk is not None and not weights.ladder.wide:
        groups = bulk(roster, weights, adjacency, balance)
        taken[np.array(groups, np.int64).reshape(-1)] = True
        rest = np.flatnonzero(roster.available & ~taken)
        if len(rest) == 0:
            return groups
        # Those left look again among themselves (their candidates were taken).
        u, v, w = candidate_edges(roster, rest)
        adjacency = Adjacency(roster.n, u, v, w)
        weights.remember(u, v, w)
        if roster.group_size in SECOND_PASS:
            more = bulk(roster, weights, adjacency, balance)
            taken[np.array(more, np.int64).reshape(-1)] = True
            groups = groups + more
    return groups + grow_one_by_one(roster, weights, adjacency, taken, balance)


def grow_one_by_one(
    roster: Roster, weights: ScalarWeights, adjacency: Adjacency, taken: np.ndarray, balance: int
) -> list[list[int]]:
    """Greedy groups of exactly ``group_size`` grown one at a time along the candidate
    graph, from the people not ``taken`` (which it updates).

    When a group's candidates are all taken, it looks at everyone still free who fits.
    People with few candidates start first; among equals, those who had the extra seat
    recently start earlier so that the leftovers (who later take extra seats) rotate.
    """
    target = roster.group_size
    degree = np.diff(adjacency.indptr)
    # Seeds from the biggest departments first: growing groups around them spreads the
    # majority over many groups instead of leaving it to fill the last ones by itself.
    dept_size = np.bincount(roster.dept, minlength=1)[roster.dept]
    order = np.lexsort((-roster.extra_seats, -dept_size, np.minimum(degree, 4)))
    seated = bytearray(taken.tobytes())  # ``taken`` for the loops below: a numpy item costs more
    groups = []
    dept = roster.dept.tolist()
    free = roster.available & ~taken
    left = np.bincount(roster.dept[free], minlength=len(roster.dept_names)).tolist()
    left_total = max(1, sum(left))
    rng = np.random.default_rng([roster.seed & 0xFFFFFFFF, 2])
    available = roster.available.tolist()
    for seed in order.tolist():
        if seated[seed] or not available[seed]:
            continue
        group, shared = [seed], roster.free[seed]
        frontier = set(adjacency.neighbours(seed)[0])
        widened = False
        while len(group) < target:
            ranked = []
            for c in frontier:
                if seated[c] or c in group:
                    continue
                # Balance: departments with many people still waiting weigh more, so
                # the biggest ones spread over all groups instead of filling the last.
                total = balance * len(group) * left[dept[c]] // left_total
                for m in group:
                    w = weights.loose(m, c)
                    if w is None:
                        break
                    total += w
                else:
                    ranked.append((-total, c))
            best = None
            for _, c in sorted(ranked):
                joined = usable(intersect(shared, roster.free[c]), roster.duration)
                if joined:
                    best = (c, joined)
                    break
            if best is not None and not widened and any(roster.met(m, best[0]) for m in group):
                best = None  # the best at hand met someone here before: look wider first
            if best is None:
                if widened:
                    break
                # The candidate graph ran dry (its people are taken): ask everyone.
                widened = True
                everyone = _free_partners(roster, seed, taken, rng)
                if len(everyone) > WIDEN_TO:
                    rank = preference_weights(roster, np.full(len(everyone), seed), everyone)
                    everyone = everyone[np.argsort(-rank, kind="stable")[:WIDEN_TO]]
                frontier.update(everyone.tolist())
                continue
            c, shared = best
            group.append(c)
            frontier.update(adjacency.neighbours(c)[0])
        if len(group) == target:
            groups.append(group)
            taken[group] = True
            for m in group:
                seated[m] = 1
                left[dept[m]] -= 1
            left_total = max(1, left_total - len(group))
    return groups


def _free_partners(
    roster: Roster, person: int, taken: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """People not yet in a group whom ``person`` could meet: from a random sample of
    ``WIDEN_SAMPLE`` first (a full scan per stalled group is quadratic), all if none fit."""
    free = np.flatnonzero(roster.available & ~taken)
    free = free[free != person]
    if len(free) > WIDEN_SAMPLE:
        sample = np.sort(rng.choice(free, WIDEN_SAMPLE, replace=False))
        found = _fitting(roster, person, sample)
        if len(found):
            return found
    return _fitting(roster, person, free)


def _fitting(roster: Roster, person: int, others: np.ndarray) -> np.ndarray:
    mine = np.full(len(others), person)
    others = others[time_compatible(roster, mine, others)]
    return others[~conflicting(roster, np.full(len(others), person), others)]


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


def place_leftovers(
    roster: Roster, weights: ScalarWeights, groups: list[list[int]]
) -> list[list[int]]:
    """Give every unplaced person a group if any valid one exists (hard rule 5).

    First as the extra member of a group of the target size, then of a smaller group,
    then of a bigger one; failing that, together with other unplaced people.
    """
    target = roster.group_size
    group_of = np.full(roster.n, -1, np.int64)
    for g, members in enumerate(groups):
        group_of[members] = g
    waiting = np.flatnonzero(roster.available & (group_of < 0)).tolist()
    if not waiting:
        return groups
    # Each group's common free time, worked out when a leftover first looks at it (most
    # groups are never looked at).
    shared: list[list[Interval] | None] = [None] * len(groups)
    seats = roster.extra_seats.tolist()
    quarters = weights.quarters
    rotation = SEAT_ROTATION * weights.ladder.fairness
    waiting.sort(key=lambda i: (seats[i], i))  # fewest recent extra seats take one first
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
                if any(weights.loose(m, person) is None for m in members):
                    continue
                if shared[g] is None:
                    shared[g] = common_free([roster.free[m] for m in members], roster.duration)
                joined = usable(intersect(shared[g], roster.free[person]), roster.duration)
                if not joined:
                    continue
                size = len(members)
                rank = 0 if size == target else (-1 if size < target else size - target)
                gain = sum(weights.loose(m, person) for m in members) // size
                gain -= rotation * sum(quarters[m] for m in members)
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
                mate = max(free, key=lambda p: (weights.loose(person, p), -p))
                groups.append([person, mate])
                shared.append(
                    common_free([roster.free[person], roster.free[mate]], roster.duration)
                )
                group_of[[person, mate]] = len(groups) - 1
                changed = True
                continue
            still.append(person)
        waiting = still
    return groups
