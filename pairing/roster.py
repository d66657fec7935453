"""The request as indexed arrays: what the planner works on internally.

People become integers 0..n-1 in input order. Departments, sites, modes, topics,
free time, conflicts (managers and avoid lists) and history become numpy arrays and
dictionaries so the candidate search can score thousands of pairs at once.
"""

from __future__ import annotations

from itertools import chain, repeat

import numpy as np

from pairing.ladder import Ladder, seat_quarters
from pairing.model import Mode, PlanRequest
from pairing.timeline import Interval, free_intervals, work_window

EITHER, IN_PERSON, VIRTUAL = 0, 1, 2
_MODE_CODE = {Mode.EITHER: EITHER, Mode.IN_PERSON: IN_PERSON, Mode.VIRTUAL: VIRTUAL}
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
        dept, site, mode, masks, frees = [], [], [], [], []
        date, duration = request.date, self.duration
        for p in people:  # one pass: at 50,000 people every pass costs
            dept.append(departments.setdefault(p.department, len(departments)))
            site.append(-1 if p.site is None else sites.setdefault(p.site, len(sites)))
            mode.append(_MODE_CODE[p.mode])
            mask = 0
            for t in p.topics:
                mask |= 1 << topics.setdefault(t, len(topics))
            masks.append(mask)
            if p.busy:
                frees.append(free_intervals(p, date, duration))
            else:
                a, b = work_window(date, p.timezone, p.work_hours[0], p.work_hours[1])
                frees.append([(a, b)] if -(-a // 5) * 5 + duration <= b else [])
        self.dept = np.array(dept, np.int32)
        self.site = np.array(site, np.int32)
        self.mode = np.array(mode, np.int8)
        self.dept_names = list(departments)
        self.site_names = list(sites)
        self.remote = self.site < 0
        self.topic_names = list(topics)
        words = max(1, -(-len(topics) // 64))
        self.topics = np.zeros((n, words), np.uint64)
        for word in range(words):
            chunk = ((m >> (64 * word)) & 0xFFFFFFFFFFFFFFFF for m in masks)
            self.topics[:, word] = np.fromiter(chunk, np.uint64, n)
        self.topic_masks = masks

        self.free: list[list[Interval]] = frees
        counts = np.fromiter(map(len, frees), np.int64, n)
        self.available = counts > 0
        # People whose free time is cut into more pieces than the arrays keep.
        self.wide = counts > MAX_SLOTS
        kept = frees
        if self.wide.any():  # the longest pieces; exact checks use the full list
            kept = [
                f
                if len(f) <= MAX_SLOTS
                else sorted(sorted(f, key=lambda ab: ab[0] - ab[1])[:MAX_SLOTS])
                for f in frees
            ]
        lengths = np.minimum(counts, MAX_SLOTS)
        total = int(lengths.sum())
        # Every end in one flat run of ints: no tuple becomes an array row of its own.
        ends = np.fromiter(chain.from_iterable(chain.from_iterable(kept)), np.int64, 2 * total)
        ends = ends.reshape(-1, 2)
        start = np.cumsum(lengths) - lengths
        row = np.repeat(np.arange(n), lengths)
        column = np.arange(total) - np.repeat(start, lengths)
        width = max(1, int(lengths.max(initial=0)))
        self.fs = np.full((n, width), FAR, np.int32)
        self.fe = np.full((n, width), -FAR, np.int32)
        self.fs[row, column], self.fe[row, column] = ends[:, 0], ends[:, 1]
        self.slots = lengths  # pieces kept in fs/fe (the rest is padding)
        self.first = np.zeros(n, np.int64)
        self.last = np.zeros(n, np.int64)
        has = np.flatnonzero(self.available)
        self.first[has] = ends[start[has], 0]
        self.last[has] = ends[start[has] + lengths[has] - 1, 1]
        for i in np.flatnonzero(self.wide).tolist():  # kept pieces may miss either end
            self.first[i], self.last[i] = frees[i][0][0], frees[i][-1][1]

        self.conflicts: set[int] = set()
        where = self.index.get
        for i, p in enumerate(people):
            if p.manager is None and not p.avoid:
                continue
            for other in (*p.avoid, p.manager):
                j = where(other) if other is not None else None
                if j is not None and j != i:
                    self.conflicts.add(i * n + j if i < j else j * n + i)

        self.conflict_keys = np.array(sorted(self.conflicts), np.int64)
        self.conflict_filter = conflict_filter(self.conflict_keys)
        # Extra seats taken in the last 10 rounds, the latest counting most (1, 0.8, 0.64...).
        self.extra_seats = np.zeros(n, np.float64)
        past = sorted(
            (r for r in request.history if r.date < request.date),
            key=lambda r: r.date,
            reverse=True,
        )
        keys, ages = _meetings(past, self.index, n, self.group_size, self.extra_seats)
        self.history: dict[int, int] = dict(zip(keys.tolist(), ages.tolist(), strict=True))
        self.past_partner, self.past_ago = _partner_table(keys, ages, n)
        self.rounds_seen = len(past)
        self.quarters = seat_quarters(self.extra_seats)
        self.ladder = Ladder(n, self.group_size, self.cooldown, len(past))

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


def _meetings(
    past: list, index: dict[str, int], n: int, size: int, extra_seats: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pair keys and how many rounds ago each pair last met, for ``past`` (latest
    first); adds each group's extra seats (last 10 rounds) to ``extra_seats`` on the way.

    The pairs come in the order a walk over every group would first meet them, each
    with its first (latest) meeting. Rounds of pairs (250,000
    groups at 50,000 people) are read in bulk: their ids looked up at once, their keys
    computed by numpy; rounds with bigger groups likewise (:func:`_group_pairs`).
    """
    keys, ages = [], []
    where = index.get
    for ago, past_round in enumerate(past, start=1):
        groups = past_round.groups
        if all(len(group) == 2 for group in groups):
            flat = list(chain.from_iterable(groups))
            ends = np.fromiter(map(where, flat, repeat(-1)), np.int64, len(flat)).reshape(-1, 2)
            a, b = ends[:, 0], ends[:, 1]
            ok = (a >= 0) & (b >= 0) & (a != b)
            lo, hi = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
            keys.append(lo * n + hi)
            ages.append(np.full(len(lo), ago, np.int64))
            continue
        found, seated = _group_pairs(groups, where, n, size)
        keys.append(found)
        ages.append(np.full(len(found), ago, np.int64))
        if ago <= 10:
            np.add.at(extra_seats, seated, 0.8 ** (ago - 1))
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key, age = np.concatenate(keys), np.concatenate(ages)
    _, first = np.unique(key, return_index=True)
    first.sort()  # the order a walk would have met them in
    return key[first], age[first]


def _group_pairs(groups: list, where, n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pair keys of one round of groups, in the order a walk meets them (group by
    group, each group's known members sorted, pairs in order), and the members of
    the groups bigger than ``size`` (an extra seat), group by group.

    The walk it replaces looked each id up, made a set of each group's members and
    formed their pairs in Python: at 50,000 people in groups of three or four, half
    a second a plan. Here the ids are looked up at once, each group is one row of a
    padded array (unknown ids and repeats pushed to its end), and the pairs are the
    same columns of every row.
    """
    sizes = np.fromiter(map(len, groups), np.int64, len(groups))
    flat = list(chain.from_iterable(groups))
    found = np.fromiter(map(where, flat, repeat(-1)), np.int64, len(flat))
    width = int(sizes.max(initial=0))
    empty = np.zeros(0, np.int64)
    if width == 0:
        return empty, empty
    table = np.full((len(groups), width), n, np.int64)  # n: no one (sorts last)
    row = np.repeat(np.arange(len(groups)), sizes)
    column = np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    table[row, column] = np.where(found >= 0, found, n)
    table.sort(axis=1)
    repeated = np.zeros(table.shape, bool)
    repeated[:, 1:] = table[:, 1:] == table[:, :-1]
    table[repeated] = n
    table.sort(axis=1)
    first, second = np.triu_indices(width, 1)
    keys = table[:, first] * n + table[:, second]
    keys = keys[table[:, second] < n]  # row by row, pairs in order: the walk's order
    bigger = table[sizes > size]
    return keys, bigger[bigger < n]


def _partner_table(keys: np.ndarray, ago: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per person, the people met before (padded with -1) and how many rounds ago.

    A row lookup (``table[u] == v``) is several times faster than searching a sorted
    array of all pairs when the candidate search asks about millions of pairs.
    """
    first, second = keys // max(n, 1), keys % max(n, 1)
    heads = np.concatenate([first, second])
    tails = np.concatenate([second, first])
    ago = np.concatenate([ago, ago])
    order = np.argsort(heads, kind="stable")
    heads, tails, ago = heads[order], tails[order], ago[order]
    counts = np.bincount(heads, minlength=n)
    width = int(counts.max(initial=0))
    partner = np.full((n, max(width, 1)), -1, np.int64)
    rounds = np.zeros((n, max(width, 1)), np.int64)
    if len(heads):
        slot = np.arange(len(heads)) - np.repeat(np.cumsum(counts) - counts, counts)
        partner[heads, slot] = tails
        rounds[heads, slot] = ago
    return partner, rounds


CONFLICT_FILTER_BITS = 22  # 4 MB of flags: ~1% false hits at 50,000 conflicting pairs


def conflict_hash(keys: np.ndarray, bits: int) -> np.ndarray:
    """Fibonacci hashing of pair keys (int64) to ``bits`` bits."""
    mixed = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # wraps at 64 bits
    return (mixed >> np.uint64(64 - bits)).astype(np.int64)


def conflict_filter(keys: np.ndarray) -> np.ndarray:
    """Flags by :func:`conflict_hash`: False means the pair is surely not in ``keys``.

    The candidate search asks about millions of pairs; a flag lookup per pair, with the
    exact search in the sorted keys only for the ~1% flagged, is several times faster
    than searching them all (:func:`pairing.weights.conflicting`).
    """
    bits = min(CONFLICT_FILTER_BITS, 6 + int(len(keys)).bit_length())  # 1-2% full at most
    flags = np.zeros(1 << bits, bool)
    flags[conflict_hash(keys, bits)] = True
    return flags
