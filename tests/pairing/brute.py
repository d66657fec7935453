"""Every grouping of a small round, scored by the preference order, from the request alone.

The oracle for the order tests. It shares nothing with the planner but the request
types: validity comes from :mod:`pairing.check`, history is read from the dated rounds,
and the score of a grouping is a tuple compared left to right (bigger is better):

- people placed; then fewer seats below the target size, fewer seats more than one
  above it, fewer seats above it at all (the shape);
- recency: fewer pairs who met 1 round ago, then 2 rounds ago, and so on (never met
  counts nowhere), over every pair in every group;
- pairs across departments; pairs of one remote and one on-site person;
- mode wishes and topics: 5 per in-person wish a pair can meet, 2 per shared topic
  (up to 3); then fairness: recent extra seats (quarter seats, capped at 2 each) of the
  people in groups not above the target size.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass
from typing import NamedTuple

from pairing import Plan, PlanRequest
from pairing.check import valid_group


@dataclass(frozen=True)
class Facts:
    """What the order reads about a round, by participant index."""

    request: PlanRequest
    ages: dict[frozenset[int], int]  # pair -> rounds since they last met
    quarters: list[int]
    oldest: int

    @classmethod
    def of(cls, request: PlanRequest) -> Facts:
        index = {p.id: i for i, p in enumerate(request.participants)}
        past = sorted((r for r in request.history if r.date < request.date), key=lambda r: r.date)
        ages: dict[frozenset[int], int] = {}
        seats = [0.0] * len(index)
        for ago, past_round in enumerate(reversed(past), start=1):
            for group in past_round.groups:
                members = sorted({index[m] for m in group if m in index})
                if ago <= 10 and len(group) > request.group_size:
                    for m in members:
                        seats[m] += 0.8 ** (ago - 1)
                for a, b in itertools.combinations(members, 2):
                    ages.setdefault(frozenset((a, b)), ago)
        return cls(request, ages, [round(4 * min(s, 2.0)) for s in seats], len(past))

    def pair_terms(self, a: int, b: int) -> tuple[int, int, int, int]:
        """(age or 0, cross, hybrid, wishes-and-topics units) of one pair."""
        p, q = self.request.participants[a], self.request.participants[b]
        meet = p.site is not None and p.site == q.site and "virtual" not in (p.mode, q.mode)
        wishes = meet * ((p.mode == "in_person") + (q.mode == "in_person"))
        topics = min(len(set(p.topics) & set(q.topics)), 3)
        return (
            self.ages.get(frozenset((a, b)), 0),
            p.department != q.department,
            (p.site is None) != (q.site is None),
            5 * wishes + 2 * topics,
        )

    def group_score(self, group: tuple[int, ...]) -> tuple[int, ...]:
        """One group's share of a grouping's score (scores of groups add up)."""
        target = self.request.group_size
        size = len(group)
        by_age = [0] * (self.oldest + 1)
        cross = hybrid = units = 0
        for a, b in itertools.combinations(group, 2):
            age, c, h, u = self.pair_terms(a, b)
            by_age[age] += 1
            cross, hybrid, units = cross + c, hybrid + h, units + u
        fair = sum(self.quarters[m] for m in group) if size <= target else 0
        return (
            size,
            -max(0, target - size),
            -max(0, size - target - 1),
            -max(0, size - target),
            *(-count for count in by_age[1:]),
            cross,
            hybrid,
            units,
            fair,
        )

    def score(self, groups: list[tuple[int, ...]]) -> tuple[int, ...]:
        """The order's tuple for a grouping (see the module docstring)."""
        total = self.empty()
        for group in groups:
            total = _add(total, self.group_score(group))
        return total

    def empty(self) -> tuple[int, ...]:
        """The score of placing nobody."""
        return (0,) * (8 + self.oldest)

    def parts(self, score: tuple[int, ...]) -> Parts:
        """A score cut into its tiers."""
        r = 4 + self.oldest
        return Parts(score[:4], score[4:r], *score[r:])


class Parts(NamedTuple):
    """A score by tier: shape, recency (minus the pairs that met 1, 2, ... rounds ago),
    cross-department pairs, hybrid pairs, wishes-and-topics units, fairness."""

    shape: tuple[int, ...]
    recency: tuple[int, ...]
    cross: int
    hybrid: int
    units: int
    fair: int


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(map(operator.add, a, b))


def valid_groups(request: PlanRequest, largest: int | None = None) -> set[tuple[int, ...]]:
    """Every set of two or more participants who may meet (up to ``largest`` of them),
    as sorted index tuples.

    Grown by size: a group can only be valid when all its one-smaller subgroups are.
    """
    people = request.participants
    found: set[tuple[int, ...]] = set()
    layer = [
        (a, b)
        for a, b in itertools.combinations(range(len(people)), 2)
        if valid_group([people[a], people[b]], request.date, request.duration_minutes)
    ]
    while layer:
        found.update(layer)
        if largest is not None and len(layer[0]) >= largest:
            break
        grown = set()
        for group in layer:
            for extra in range(group[-1] + 1, len(people)):
                bigger = (*group, extra)
                smaller = (tuple(x for x in bigger if x != drop) for drop in bigger)
                if all(s in found for s in smaller) and valid_group(
                    [people[m] for m in bigger], request.date, request.duration_minutes
                ):
                    grown.add(bigger)
        layer = sorted(grown)
    return found


def scores(
    request: PlanRequest, sizes: tuple[int, ...] | None = None
) -> tuple[Facts, list[tuple[int, ...]]]:
    """The score of every partition of the participants into valid groups and people
    left alone; ``sizes``: only groups of these sizes and everyone placed, to keep
    bigger rounds affordable."""
    facts, found = scored_groupings(request, sizes)
    return facts, [score for score, _ in found]


def scored_groupings(
    request: PlanRequest, sizes: tuple[int, ...] | None = None
) -> tuple[Facts, list[tuple[tuple[int, ...], list[tuple[int, ...]]]]]:
    """Every partition as ``(score, groups)``, each group's score added as it grows.

    With ``sizes``, only groups of those sizes and nobody left alone.
    """
    facts = Facts.of(request)
    valid = sorted(valid_groups(request, max(sizes) if sizes else None))
    if sizes:
        valid = [g for g in valid if len(g) in sizes]
    by_first: dict[int, list[tuple[tuple[int, ...], tuple[int, ...]]]] = {}
    for group in valid:
        by_first.setdefault(group[0], []).append((group, facts.group_score(group)))
    found: list[tuple[tuple[int, ...], list[tuple[int, ...]]]] = []
    chosen: list[tuple[int, ...]] = []

    def extend(rest: frozenset[int], total: tuple[int, ...]) -> None:
        if not rest:
            found.append((total, list(chosen)))
            return
        first = min(rest)
        if not sizes:
            extend(rest - {first}, total)  # first stays alone
        for group, score in by_first.get(first, ()):
            if rest.issuperset(group):
                chosen.append(group)
                extend(rest.difference(group), _add(total, score))
                chosen.pop()

    extend(frozenset(range(len(request.participants))), facts.empty())
    return facts, found


def plan_groups(request: PlanRequest, plan: Plan) -> list[tuple[int, ...]]:
    """The plan's groups as sorted index tuples."""
    index = {p.id: i for i, p in enumerate(request.participants)}
    return [tuple(sorted(index[m] for m in g.members)) for g in plan.groups]
