"""How :func:`pairing.teams.form_teams` weighs a grouping, and the exact search.

A grouping is judged by one exact integer per team, summed over the teams, whose tiers
come strictly one before the other (each outweighs everything below it over a whole
plan):

1. the shape: people placed, then fewer seats below the team size, fewer seats more
   than one above it, fewer seats above it at all, then sizes as even as possible
   (the smallest sum of squared sizes);
2. teams with someone who can share the topic;
3. teams spanning at least two departments;
4. the planner's order over every pair in every team (recency, departments, hybrid,
   wishes and topics, fairness: :mod:`pairing.weights` and :mod:`pairing.ladder`).

:func:`exact_teams` finds the best grouping of a few people over all partitions;
:mod:`pairing.team_filling` forms teams for more.
"""

from __future__ import annotations

import numpy as np

from pairing.grouping import best_partition
from pairing.roster import Roster
from pairing.timeline import Interval, intersect, usable
from pairing.weights import ScalarWeights

MIN_SIZE, MAX_SIZE = 3, 8
WHOLE_DAY = 24 * 60


class TeamSearch:
    """What the search knows about the people of one request (internal).

    ``free``: each person's usable time for the meeting (the slot itself when every team
    meets at the programme's time); ``sharer``: can share the topic.
    """

    def __init__(
        self, roster: Roster, free: list[list[Interval]], sharer: list[bool], same_time: bool
    ) -> None:
        self.roster = roster
        self.weights = ScalarWeights(roster)
        self.free = free
        self.sharer = sharer
        self.same_time = same_time
        self.target = roster.group_size
        self.dept = roster.dept.tolist()
        self.duration = roster.duration
        self.rng = np.random.default_rng([roster.seed & 0xFFFFFFFF, 23])
        n = roster.n
        # Scales of the tiers in the module docstring, each above the most the tiers
        # below it can add up to over any plan of the request.
        self.cross_unit = self.weights.grouping_scale
        self.sharer_unit = self.cross_unit * (n + 1)
        self.even_unit = self.sharer_unit * (n + 1)
        self.extra_unit = self.even_unit * (MAX_SIZE * MAX_SIZE * n + 1)
        self.over_unit = self.extra_unit * (n + 1)
        self.under_unit = self.over_unit * (n + 1)
        self.placed_unit = self.under_unit * (MAX_SIZE * n + 1)

    def shape(self, size: int) -> int:
        """Tier 1 of one team of ``size``."""
        target = self.target
        return (
            self.placed_unit * size
            - self.under_unit * max(0, target - size)
            - self.over_unit * max(0, size - target - 1)
            - self.extra_unit * max(0, size - target)
            - self.even_unit * size * size
        )

    def pairs(self, members: list[int]) -> int | None:
        """Tier 4: the pair weights less the base (None on a manager line or avoid)."""
        loose = self.weights.loose
        total = 0
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                w = loose(members[a], members[b])
                if w is None:
                    return None
                total += w
        size = len(members)
        return total - self.weights.ladder.base * (size * (size - 1) // 2)

    def mix(self, members: list[int], pairs: int) -> int:
        """Tiers 2-4 of a team whose pair total is ``pairs``."""
        sharer = any(self.sharer[m] for m in members)
        cross = len({self.dept[m] for m in members}) > 1
        return sharer * self.sharer_unit + cross * self.cross_unit + pairs

    def value(self, members: list[int]) -> int | None:
        """A team's whole value, or None when it breaks a hard rule other than time."""
        pairs = self.pairs(members)
        if pairs is None:
            return None
        return self.shape(len(members)) + self.mix(members, pairs)

    def join(self, shared: list[Interval], person: int) -> list[Interval]:
        """The time a team with free time ``shared`` keeps when ``person`` joins."""
        if self.same_time:
            return shared if self.free[person] else []
        return usable(intersect(shared, self.free[person]), self.duration)

    def common(self, members: list[int]) -> list[Interval]:
        """The usable time all ``members`` share (the whole day for nobody: an existing
        team whose members all left is open to anyone)."""
        if not members:
            return [(-WHOLE_DAY, 2 * WHOLE_DAY)]
        shared = self.free[members[0]]
        for m in members[1:]:
            shared = self.join(shared, m)
            if not shared:
                break
        return shared


def size_plan(people: int, target: int) -> list[int]:
    """Team sizes for ``people`` with the best shape (tier 1), biggest first."""
    if people < MIN_SIZE:
        return []
    # Tier 1 per team as one integer to minimise: seats below the target, seats more
    # than one above it, seats above it, squared size, each outweighing the ones after.
    step = MAX_SIZE * MAX_SIZE * people + 1
    cost = {
        size: (
            (max(0, target - size) * (people + 1) + max(0, size - target - 1)) * (people + 1)
            + max(0, size - target)
        )
        * step
        + size * size
        for size in range(MIN_SIZE, MAX_SIZE + 1)
    }
    best: list[int | None] = [None] * (people + 1)
    best[0] = 0
    last = [0] * (people + 1)
    for count in range(MIN_SIZE, people + 1):
        here_best, here_size = None, 0
        for size in range(MIN_SIZE, min(MAX_SIZE, count) + 1):
            before = best[count - size]
            if before is not None and (here_best is None or before + cost[size] < here_best):
                here_best, here_size = before + cost[size], size
        best[count], last[count] = here_best, here_size
    sizes, count = [], people
    while count:
        sizes.append(last[count])
        count -= last[count]
    return sorted(sizes, reverse=True)


def exact_teams(search: TeamSearch, people: list[int]) -> list[list[int]]:
    """The best partition of a few people into valid teams, by exhaustive search."""
    n = len(people)
    size = 1 << n
    common: list[list[Interval] | None] = [None] * size
    value: list[int | None] = [None] * size
    loose = search.weights.loose
    for mask in range(1, size):
        high = mask.bit_length() - 1
        rest = mask ^ (1 << high)
        person = people[high]
        if rest == 0:
            common[mask] = search.free[person]
            continue
        shared = common[rest]
        if not shared:
            continue
        if any(loose(people[b], person) is None for b in range(high) if rest >> b & 1):
            continue
        shared = search.join(shared, person)
        if not shared:
            continue
        common[mask] = shared
        count = mask.bit_count()
        if MIN_SIZE <= count <= MAX_SIZE:
            value[mask] = search.value([people[b] for b in range(n) if mask >> b & 1])
    return best_partition(people, value)
