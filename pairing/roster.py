"""The request as indexed arrays: what the planner works on internally.

People become integers 0..n-1 in input order. Departments, sites, modes, topics,
free time, conflicts (managers and avoid lists) and history become numpy arrays and
dictionaries so the candidate search can score thousands of pairs at once.
"""

from __future__ import annotations

import numpy as np

from pairing.model import PlanRequest
from pairing.timeline import Interval, free_intervals

EITHER, IN_PERSON, VIRTUAL = 0, 1, 2
_MODE_CODE = {"either": EITHER, "in_person": IN_PERSON, "virtual": VIRTUAL}
MAX_SLOTS = 6  # free intervals kept per person in the vector arrays; the exact lists keep all
FAR = 10**7


class Roster:
    """Indexed view of a :class:`PlanRequest` (internal; built once per plan)."""

    def __init__(self, request: PlanRequest) -> None:
        people = request.participants
        self.request = request
        self.n = n = len(people)
        self.duration = request.duration_minutes
        self.group_size = request.group_size
        self.cooldown = request.cooldown_rounds
        self.seed = request.seed
        self.ids = [p.id for p in people]
        self.index = {pid: i for i, pid in enumerate(self.ids)}

        departments: dict[str, int] = {}
        sites: dict[str, int] = {}
        topics: dict[str, int] = {}
        self.dept = np.fromiter((departments.setdefault(p.department, len(departments)) for p in people), np.int32, n)
        self.site = np.fromiter(
            (-1 if p.site is None else sites.setdefault(p.site, len(sites)) for p in people), np.int32, n
        )
        self.mode = np.fromiter((_MODE_CODE[p.mode] for p in people), np.int8, n)
        self.dept_names = list(departments)
        self.site_names = list(sites)
        self.remote = self.site < 0

        masks = []
        for p in people:
            mask = 0
            for t in p.topics:
                mask |= 1 << topics.setdefault(t, len(topics))
            masks.append(mask)
        self.topic_names = list(topics)
        words = max(1, -(-len(topics) // 64))
        self.topics = np.zeros((n, words), np.uint64)
        for word in range(words):
            chunk = ((m >> (64 * word)) & 0xFFFFFFFFFFFFFFFF for m in masks)
            self.topics[:, word] = np.fromiter(chunk, np.uint64, n)
        self.topic_masks = masks

        self.free: list[list[Interval]] = [free_intervals(p, request.date, self.duration) for p in people]
        width = max([1] + [min(len(f), MAX_SLOTS) for f in self.free])
        self.fs = np.full((n, width), FAR, np.int32)
        self.fe = np.full((n, width), -FAR, np.int32)
        for i, free in enumerate(self.free):
            if len(free) > MAX_SLOTS:  # keep the longest; exact checks use the full list
                free = sorted(sorted(free, key=lambda ab: ab[0] - ab[1])[:MAX_SLOTS])
            for k, (a, b) in enumerate(free):
                self.fs[i, k] = a
                self.fe[i, k] = b
        self.available = np.array([bool(f) for f in self.free], bool) if n else np.zeros(0, bool)
        self.first = np.array([f[0][0] if f else 0 for f in self.free], np.int64) if n else np.zeros(0, np.int64)
        self.last = np.array([f[-1][1] if f else 0 for f in self.free], np.int64) if n else np.zeros(0, np.int64)

        self.conflicts: set[int] = set()
        for i, p in enumerate(people):
            others = set(p.avoid)
            if p.manager is not None:
                others.add(p.manager)
            for other in others:
                j = self.index.get(other)
                if j is not None and j != i:
                    self.conflicts.add(self.key(i, j))

        self.conflict_keys = np.array(sorted(self.conflicts), np.int64)
        self.history: dict[int, int] = {}
        self.extra_seats = np.zeros(n, np.int32)
        past = sorted((r for r in request.history if r.date < request.date), key=lambda r: r.date, reverse=True)
        fairness_window = max(self.cooldown, 3)
        for ago, past_round in enumerate(past, start=1):
            for group in past_round.groups:
                members = sorted({self.index[m] for m in group if m in self.index})
                if ago <= fairness_window and len(group) > self.group_size:
                    self.extra_seats[members] += 1
                for a in range(len(members)):
                    for b in range(a + 1, len(members)):
                        self.history.setdefault(members[a] * n + members[b], ago)
        self.rounds_seen = len(past)

    def key(self, i: int, j: int) -> int:
        """One integer for the unordered pair {i, j}."""
        return i * self.n + j if i < j else j * self.n + i

    def met(self, i: int, j: int) -> int | None:
        """How many rounds ago i and j last met (1 = the latest round), or None."""
        return self.history.get(self.key(i, j))

    def compatible(self, i: int, j: int) -> bool:
        """The hard rules for a pair: free time together, no manager line, no avoid."""
        from pairing.timeline import common_free

        if i == j or self.key(i, j) in self.conflicts:
            return False
        return bool(common_free([self.free[i], self.free[j]], self.duration))
