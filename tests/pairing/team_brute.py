"""Every partition of a small learning-team request, scored from the request alone.

The oracle for the team tests. It shares nothing with :mod:`pairing.teams` but the
request types: a team is valid when :mod:`pairing.check` finds no manager line or avoid
list in it and every member is free for the meeting (at the programme's time, or at a
shared time that day); the pair terms come from :mod:`tests.pairing.brute`. A
partition's score is a tuple compared left to right (bigger is better):

- people placed; fewer seats below the team size, fewer seats more than one above it,
  fewer seats above it; the smallest sum of squared sizes (the shape);
- teams with someone who can share the topic; teams spanning departments;
- recency (fewer pairs who met 1, 2, ... rounds ago), cross-department pairs, hybrid
  pairs, wishes-and-topics units.
"""

from __future__ import annotations

import datetime
import itertools

from pairing import Participant, PlanRequest, TeamPlan, TeamRequest
from pairing.check import conflict, is_free, shared_slot
from tests.pairing.brute import Facts


def can_share(person: Participant, topic: str) -> bool:
    return topic.strip().casefold() in {t.strip().casefold() for t in person.share_topics}


def valid_team(request: TeamRequest, people: list[Participant]) -> bool:
    """The hard rules for a would-be team of 3 to 8."""
    if not 3 <= len(people) <= 8:
        return False
    if any(conflict(a, b) for a, b in itertools.combinations(people, 2)):
        return False
    date = request.start.date()
    if request.same_time:
        end = request.start + datetime.timedelta(minutes=request.duration_minutes)
        return all(is_free(p, date, request.start, end) for p in people)
    return shared_slot(people, date, request.duration_minutes)


class TeamOracle:
    """Scores of every partition of ``request.participants`` into valid teams."""

    def __init__(self, request: TeamRequest) -> None:
        self.request = request
        self.people = list(request.participants)
        self.facts = Facts.of(
            PlanRequest(
                request.start.date(),
                request.participants,
                request.history,
                group_size=request.team_size,
                cooldown_rounds=request.cooldown_rounds,
            )
        )
        self.valid = self._valid_teams()

    def _valid_teams(self) -> list[tuple[int, ...]]:
        found: list[tuple[int, ...]] = []
        for size in range(3, min(8, len(self.people)) + 1):
            for group in itertools.combinations(range(len(self.people)), size):
                if valid_team(self.request, [self.people[i] for i in group]):
                    found.append(group)
        return found

    def team_score(self, team: tuple[int, ...]) -> tuple[int, ...]:
        target = self.request.team_size
        size = len(team)
        members = [self.people[i] for i in team]
        by_age = [0] * (self.facts.oldest + 1)
        cross = hybrid = units = 0
        for a, b in itertools.combinations(team, 2):
            age, c, h, u = self.facts.pair_terms(a, b)
            by_age[age] += 1
            cross, hybrid, units = cross + c, hybrid + h, units + u
        return (
            size,
            -max(0, target - size),
            -max(0, size - target - 1),
            -max(0, size - target),
            -size * size,
            any(can_share(p, self.request.topic) for p in members),
            len({p.department for p in members}) > 1,
            *(-count for count in by_age[1:]),
            cross,
            hybrid,
            units,
        )

    def empty(self) -> tuple[int, ...]:
        return (0,) * (7 + self.facts.oldest + 3)

    def score(self, teams: list[tuple[int, ...]]) -> tuple[int, ...]:
        total = self.empty()
        for team in teams:
            total = tuple(x + y for x, y in zip(total, self.team_score(team), strict=True))
        return total

    def every_score(self) -> list[tuple[int, ...]]:
        """The score of every partition into valid teams and people left out."""
        by_first: dict[int, list[tuple[tuple[int, ...], tuple[int, ...]]]] = {}
        for team in self.valid:
            by_first.setdefault(team[0], []).append((team, self.team_score(team)))
        found: list[tuple[int, ...]] = []

        def extend(rest: frozenset[int], total: tuple[int, ...]) -> None:
            if not rest:
                found.append(total)
                return
            first = min(rest)
            extend(rest - {first}, total)
            for team, score in by_first.get(first, ()):
                if rest.issuperset(team):
                    added = tuple(x + y for x, y in zip(total, score, strict=True))
                    extend(rest.difference(team), added)

        extend(frozenset(range(len(self.people))), self.empty())
        return found

    def plan_score(self, plan: TeamPlan) -> tuple[int, ...]:
        index = {p.id: i for i, p in enumerate(self.people)}
        return self.score([tuple(sorted(index[m] for m in t.members)) for t in plan.teams])
