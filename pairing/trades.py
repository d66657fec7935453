"""Trading places between groups once they are formed.

Groups grow one after another and leftovers join them afterwards, so a late group can
close around two people who met recently or share a department, and the extra seats
can land on the same people again. Both passes here swap two people between two
groups, keeping the hard rules and a common slot; they differ in what a swap must win.
"""

from __future__ import annotations

import numpy as np

from pairing.grouping import group_value, partners_of
from pairing.ladder import TOPIC, WISH
from pairing.matching import Adjacency
from pairing.roster import Roster
from pairing.timeline import common_free
from pairing.weights import ScalarWeights

ROTATION_GAP = 0.5  # extra-seat score difference worth a swap
ROTATION_TOLERANCE = WISH + TOPIC  # wishes-and-topics units a swap may cost: a wish and a topic
ROTATION_OPTIONS = 60  # swap partners weighed per extra-seat holder
SWAP_OPTIONS = 64  # other groups weighed per person in a repeat within the cooldown
SWAP_CANDIDATE_GROUPS = 8  # the same for other weak pairs: the groups of the best candidates
SWAP_EVERYONE_UP_TO = 1000  # people; up to this many, every weak pair looks at everyone
SWAP_PASSES = 3  # passes over the groups that still hold such a pair
OTHER_DEPARTMENTS, OTHER_PRESENCE, CANDIDATES, EVERYONE = 0, 1, 2, 3  # where a weak pair looks


def swap_members(
    roster: Roster,
    weights: ScalarWeights,
    groups: list[list[int]],
    adjacency: Adjacency | None = None,
) -> None:
    """Trade people between groups where that lifts a pair off the top tiers.

    Growing groups one after another, or adding leftovers, can close a group around two
    people who met (within the cooldown or before) or two of one department, although a
    better grouping exists. Each person in such a pair may swap with a member of another
    group: the groups of everyone they could meet for a repeat within the cooldown (and
    for any weak pair in a round of up to ``SWAP_EVERYONE_UP_TO`` people), of their best
    candidates (``adjacency``) otherwise. A swap is taken when both groups keep the
    hard rules and a common slot and their value rises, so it never buys a lower
    preference with a higher one. Passes repeat while they change something, at most
    ``SWAP_PASSES`` times; after the first, only for people in a repeat.
    """
    group_of = np.full(roster.n, -1, np.int64)
    for g, members in enumerate(groups):
        group_of[members] = g
    dept = roster.dept.tolist()
    small = roster.n <= SWAP_EVERYONE_UP_TO  # everyone's partners are cheap to list
    remote = roster.remote.tolist()
    present = roster.remote[roster.available]
    # Groups (not pairs) of one presence where the round has both: the last groups
    # formed can be left with only on-site or only remote people.
    mixed = roster.group_size >= 3 and present.any() and not present.all()

    def weak(members: list[int]) -> dict[int, int]:
        """Members of a weak pair and where to look: ``EVERYONE`` (a repeat, or any weak
        pair in a small round), ``CANDIDATES`` (met before), ``OTHER_PRESENCE`` (the
        candidates of the other presence, in a group of one presence),
        ``OTHER_DEPARTMENTS`` (the candidates from another department, for a
        one-department pair)."""
        found: dict[int, int] = {}
        pure = mixed and len({remote[m] for m in members}) == 1
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                x, y = members[a], members[b]
                ago = roster.met(x, y)
                if ago is not None and (ago <= roster.cooldown or small):
                    search = EVERYONE
                elif dept[x] == dept[y]:
                    search = EVERYONE if small else OTHER_DEPARTMENTS
                elif ago is not None:
                    search = CANDIDATES
                elif pure:
                    search = OTHER_PRESENCE
                else:
                    continue
                if search != EVERYONE and adjacency is None:
                    continue
                for z in (x, y):
                    found[z] = max(found.get(z, search), search)
        return found

    for done in range(SWAP_PASSES):
        swapped = False
        for g in [g for g, members in enumerate(groups) if weak(members)]:
            for m, search in weak(groups[g]).items():
                everyone = search == EVERYONE
                if m not in groups[g] or (done and not everyone):
                    continue  # later passes only for repeats: the rest costs more than it gains
                near = partners_of(roster, m) if everyone else adjacency.neighbours(m)[0]
                homes = dict.fromkeys(group_of[near].tolist())
                homes.pop(g, None)
                homes.pop(-1, None)
                homes = list(homes)[: SWAP_OPTIONS if everyone else SWAP_CANDIDATE_GROUPS]
                other = weights.dept if search == OTHER_DEPARTMENTS else None
                other = remote if search == OTHER_PRESENCE else other
                best = _best_swap(roster, weights, groups, g, m, homes, other)
                if best is not None:
                    h, q, groups[g], groups[h] = best
                    group_of[q], group_of[m] = g, h
                    swapped = True
        if not swapped:
            return


def _best_swap(
    roster: Roster,
    weights: ScalarWeights,
    groups: list[list[int]],
    g: int,
    m: int,
    homes: list[int],
    other: list | None,
) -> tuple[int, int, list[int], list[int]] | None:
    """The swap of ``m`` (in group ``g``) with a member of one of the ``homes`` that
    raises the two groups' value most: ``(h, q, new g, new h)``, or None.
    ``other``: a value per person (department, presence): only with people whose
    value differs from ``m``'s."""
    best, found = 0, None
    loose, members = weights.loose, groups[g]
    target, quarters = roster.group_size, weights.quarters
    # How much group_value of g and h together rises (m and q trade places, sizes
    # stay), with what does not depend on q taken once: m's pairs in g, m's pairs with
    # each home, and the fairness factor of each size.
    mine = sum(loose(m, x) for x in members if x != m)
    fair_g = weights.ladder.fairness * ((len(members) <= target) - (len(members) - 1))
    for h in homes:
        home = groups[h]
        fair = fair_g - weights.ladder.fairness * ((len(home) <= target) - (len(home) - 1))
        towards: list[int | None] | None = None  # m's pair with each member of the home
        for t, q in enumerate(home):
            if other is not None and other[q] == other[m]:
                continue
            if towards is None:
                towards = [loose(m, y) for y in home]
            joined = 0  # m's new pairs in h
            for s, w in enumerate(towards):
                if s != t:
                    if w is None:
                        break
                    joined += w
            else:
                gain = _gain_of_q(loose, members, home, m, q, mine, joined)
                if gain is None:
                    continue
                gain += fair * (quarters[q] - quarters[m])
                if gain <= best:
                    continue
                new_g = [x for x in members if x != m] + [q]
                new_h = [x for x in home if x != q] + [m]
                if not common_free([roster.free[x] for x in new_g], roster.duration):
                    continue
                if not common_free([roster.free[x] for x in new_h], roster.duration):
                    continue
                best, found = gain, (h, q, new_g, new_h)
    return found


def _gain_of_q(loose, g: list[int], h: list[int], m: int, q: int, mine: int, joined: int):
    """How much the pair weights of ``g`` and ``h`` rise when ``m`` (in ``g``) and
    ``q`` (in ``h``) trade places, given ``m``'s pairs in ``g`` (``mine``) and in ``h``
    after the swap (``joined``); None when a new pair breaks a hard rule."""
    gain = joined - mine
    for x in g:
        if x != m:
            new = loose(q, x)
            if new is None:
                return None
            gain += new
    for y in h:
        if y != q:
            gain -= loose(q, y)
    return gain


def rotate_extra_seats(roster: Roster, weights: ScalarWeights, groups: list[list[int]]) -> None:
    """Swap recent extra-seat holders out of the bigger groups where it costs little.

    A member of a group above the target size trades places with a member of a
    target-size group who had fewer extra seats lately, when both groups stay valid
    and their value drops by at most ``ROTATION_TOLERANCE`` wishes-and-topics units
    (less than one hybrid unit, so no higher preference gives way).
    """
    target = roster.group_size
    seats = roster.extra_seats
    if not seats.any():
        return
    group_of = np.full(roster.n, -1, np.int64)
    for g, members in enumerate(groups):
        group_of[members] = g
    tolerance = ROTATION_TOLERANCE * weights.ladder.wishes_topics
    for g in [g for g, members in enumerate(groups) if len(members) > target]:
        for m in sorted(groups[g], key=lambda x: (-seats[x], x)):
            if seats[m] < ROTATION_GAP:
                break
            partners = partners_of(roster, m)
            homes = group_of[partners]
            sizes = np.array([len(groups[h]) if h >= 0 else 0 for h in homes.tolist()], np.int64)
            fit = (
                (homes >= 0)
                & (homes != g)
                & (sizes == target)
                & (seats[partners] <= seats[m] - ROTATION_GAP)
            )
            options = partners[fit]
            options = options[np.lexsort((options, seats[options]))][:ROTATION_OPTIONS]
            for q in options.tolist():
                h = int(group_of[q])
                old_g, old_h = groups[g], groups[h]
                new_g = [x for x in old_g if x != m] + [q]
                new_h = [x for x in old_h if x != q] + [m]
                before = group_value(old_g, weights, target) + group_value(old_h, weights, target)
                after_g = group_value(new_g, weights, target)
                after_h = group_value(new_h, weights, target)
                if after_g is None or after_h is None or after_g + after_h < before - tolerance:
                    continue
                if not common_free([roster.free[x] for x in new_g], roster.duration):
                    continue
                if not common_free([roster.free[x] for x in new_h], roster.duration):
                    continue
                groups[g], groups[h] = new_g, new_h
                group_of[q], group_of[m] = g, h
                break
