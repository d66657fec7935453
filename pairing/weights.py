"""How much a pair is worth: the preference order as one exact integer per pair.

A plan is better than another when it is better on the first tier where they differ,
whatever the tiers below add up to. Each tier is a small whole number per pair, times
its scale in the round's :class:`~pairing.ladder.Ladder`; the weight is their sum, so
a solver that maximises total weight keeps the order (exactly for whole plans in rounds
of up to 150 people, and for any exchange of up to ``ladder.spread`` pairs, at least
29, beyond that). In groups every pair counts.

===  ===================================  ====================================  ==============
     tier                                 per pair                              scale
===  ===================================  ====================================  ==============
 0   a pair at all: people placed         1                                     ``base``
 1   a meeting within the cooldown,       1 at the age ``r`` rounds ago,        ``-penalty[r]``
     the more recent the costlier         ``r <= cooldown``
 2   met before, long ago: never met      1 at the age ``r > cooldown``         ``-penalty[r]``
     first, then whoever met longest ago
 3   different departments               0 or 1                                ``department``
 4   hybrid: one on-site, one remote      0 or 1                                ``hybrid``
 5   mode wishes and topics               5 per in-person wish met at one       ``wishes_topics``
                                          office (both on site, neither asked
                                          for video) + 2 per shared topic, up
                                          to 3: 0..16
 6   extra-seat fairness                  quarter seats of both people's        ``fairness``
                                          recent extra seats, each capped at
                                          2: 0..16 (paired people are not the
                                          ones left for an extra seat)
 -   seeded tie-break (no preference)     0..15                                 1
===  ===================================  ====================================  ==============

``penalty[r]`` grows with recency: each age costs more than ``ladder.age_spread`` (at
least 1) meetings one round older plus everything lower they can add, and the oldest
meeting, like the last age inside the cooldown, more than ``ladder.spread`` of them.
"""

from __future__ import annotations

import numpy as np

from pairing.ladder import NOISE_LEVELS, TOPIC, TOPIC_CAP, WISH, Ladder
from pairing.roster import IN_PERSON, VIRTUAL, Roster, conflict_hash
from pairing.timeline import common_free

MASK64 = (1 << 64) - 1
_M1, _M2, _GOLD = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15
_NOISE_SHIFT = 60  # the top 4 bits of the mix: 0..15, the ladder's NOISE_LEVELS


def splitmix64(x):
    """The splitmix64 finaliser, for a Python int or a numpy uint64 array.

    Arrays wrap at 64 bits by themselves; Python ints do not, hence the masks (no-ops
    on arrays). One definition for the vector and the one-pair paths keeps their
    tie-breaks identical.
    """
    x = x ^ (x >> 30)
    x = (x * _M1) & MASK64
    x = x ^ (x >> 27)
    x = (x * _M2) & MASK64
    return x ^ (x >> 31)


def tie_break(seed, lo, hi):
    """A symmetric pseudo-random whole number in 0..15 for the pair ``lo < hi``, fixed by
    the seed; Python ints or uint64 arrays (``seed`` already reduced to 64 bits)."""
    x = splitmix64((splitmix64((seed * _GOLD + lo) & MASK64) + hi * _GOLD) & MASK64)
    return x >> _NOISE_SHIFT


def noise(seed: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """:func:`tie_break` for each pair of the index arrays ``u`` and ``v``."""
    lo = np.minimum(u, v).astype(np.uint64)
    hi = np.maximum(u, v).astype(np.uint64)
    return tie_break(np.array([seed & MASK64], np.uint64), lo, hi).astype(np.int64)


def in_person_wishes(site_u, site_v, mode_u, mode_v):
    """In-person wishes a pair can meet: both at one office, neither asking for video
    (hard rule 4), counting who asked for in person. Ints or arrays."""
    meet = (site_u == site_v) & (site_u >= 0) & (mode_u != VIRTUAL) & (mode_v != VIRTUAL)
    return meet * (1 * (mode_u == IN_PERSON) + (mode_v == IN_PERSON))


def preference_units(ladder: Ladder, cross, hybrid, wishes, shared, quarters):
    """Tiers 3-6 of the module table as one integer, for ints or arrays.

    ``cross``: different departments; ``hybrid``: one remote; ``wishes``: from
    :func:`in_person_wishes`; ``shared``: topics in common; ``quarters``: both
    people's fairness units (:func:`pairing.ladder.seat_quarters`).
    """
    topics = shared - (shared > TOPIC_CAP) * (shared - TOPIC_CAP)
    return (
        cross * ladder.department
        + hybrid * ladder.hybrid
        + (WISH * wishes + TOPIC * topics) * ladder.wishes_topics
        + quarters * ladder.fairness
    )


def combine(ladder: Ladder, penalty, preferences, tie):
    """The weight from its parts: the base, minus the meeting's penalty, plus the
    preference units and the tie-break."""
    return ladder.base - penalty + preferences + tie


def preference_weights(
    roster: Roster, u: np.ndarray, v: np.ndarray, with_noise: bool = True
) -> np.ndarray:
    """Tiers 3-6 (and the tie-break, unless ``with_noise`` is off) as float64, for
    broadcastable index arrays ``u`` and ``v``: how candidates are ranked.

    Whole numbers below 2**50, so exact. History, the base and hard rules are applied
    separately because the candidate search applies them only to the best few pairs.
    """
    r = roster
    site_u, site_v = r.site[u], r.site[v]
    wishes = in_person_wishes(site_u, site_v, r.mode[u], r.mode[v])
    shared = np.bitwise_count(r.topics[u] & r.topics[v]).sum(axis=-1, dtype=np.int64)
    units = preference_units(
        r.ladder,
        r.dept[u] != r.dept[v],
        (site_u < 0) != (site_v < 0),
        wishes,
        shared,
        r.quarters[u] + r.quarters[v],
    )
    if with_noise:
        units = units + noise(r.seed, u, v)
    return units.astype(np.float64)


def history_penalties(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``ladder.penalty`` of each pair of the 1-d index arrays ``u`` and ``v`` (0 when
    they never met), as the ladder's arrays (float64, or Python ints when wide)."""
    ladder = roster.ladder
    out = ladder.units(np.zeros(len(u), np.int64))
    if not roster.history or len(u) == 0:
        return out
    same = roster.past_partner[u] == np.asarray(v)[:, None]
    hit = same.any(axis=1)
    ago = roster.past_ago[u[hit]][same[hit]]
    out[hit] = ladder.penalty_table[ago]
    return out


def full_weights(
    roster: Roster, u: np.ndarray, v: np.ndarray, preferences: np.ndarray
) -> np.ndarray:
    """Whole weights for 1-d index arrays, given their :func:`preference_weights`
    without noise: the base, the history penalty and the tie-break added."""
    ladder = roster.ladder
    return combine(
        ladder,
        history_penalties(roster, u, v),
        ladder.units(preferences),
        ladder.units(noise(roster.seed, u, v)),
    )


def conflicting(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """True where the pair breaks the manager or avoid rule (1-d index arrays).

    Pairs the roster's hash filter clears are not searched for
    (:func:`pairing.roster.conflict_filter`); the rest are, exactly.
    """
    if not roster.conflicts:
        return np.zeros(len(u), bool)
    keys = np.minimum(u, v).astype(np.int64) * roster.n + np.maximum(u, v)
    flags = roster.conflict_filter
    maybe = np.flatnonzero(flags[conflict_hash(keys, flags.size.bit_length() - 1)])
    sorted_keys = roster.conflict_keys
    at = np.minimum(np.searchsorted(sorted_keys, keys[maybe]), len(sorted_keys) - 1)
    out = np.zeros(len(keys), bool)
    out[maybe] = sorted_keys[at] == keys[maybe]
    return out


def time_compatible(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """True where the pair shares a usable, aligned meeting slot (1-d index arrays)."""
    duration = roster.duration
    ok = np.zeros(len(u), bool)
    # Slot pairs are tried in turn on the pairs not yet known to fit, and only while a
    # pair has slots left (``roster.slots``): most pairs fit on their first pieces, so the
    # width x width sweep over every pair shrinks to a few passes over a few rows.
    slots = roster.slots
    todo = np.arange(len(u))
    for a in range(roster.fs.shape[1]):
        todo = todo[slots[u[todo]] > a]
        for b in range(roster.fs.shape[1]):
            rows = todo[slots[v[todo]] > b]
            if len(rows) == 0:
                break
            pu, pv = u[rows], v[rows]
            start = np.maximum(roster.fs[pu, a], roster.fs[pv, b])
            end = np.minimum(roster.fe[pu, a], roster.fe[pv, b])
            fit = -(-start // 5) * 5 + duration <= end
            ok[rows[fit]] = True
            todo = todo[~ok[todo]]
        if len(todo) == 0:
            break
    if roster.wide.any():  # the arrays keep only the longest pieces: recheck exactly
        for k in np.flatnonzero(roster.wide[u] | roster.wide[v]).tolist():
            ok[k] = bool(common_free([roster.free[u[k]], roster.free[v[k]]], duration))
    return ok


def pair_weights(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Full weights for 1-d index arrays; ``-inf`` where the pair breaks a hard rule."""
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    weight = full_weights(roster, u, v, preference_weights(roster, u, v, with_noise=False))
    bad = (u == v) | conflicting(roster, u, v) | ~time_compatible(roster, u, v)
    weight[bad] = -np.inf
    return weight


def pair_weight(roster: Roster, i: int, j: int) -> int | None:
    """The weight of one pair, or None when the pair breaks a hard rule."""
    value = pair_weights(roster, np.array([i]), np.array([j]))[0]
    return None if value == -np.inf else int(value)


class ScalarWeights:
    """The same weights as :func:`pair_weights`, one pair at a time in plain Python.

    Group formation asks about pairs outside the candidate graph one by one, where a
    numpy call per pair would cost twenty times more. Values are Python ints, so sums
    over a group stay exact however wide the ladder.
    """

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.ladder = roster.ladder
        self.penalty = roster.ladder.penalty
        self.dept = roster.dept.tolist()
        self.site = roster.site.tolist()
        self.mode = roster.mode.tolist()
        self.quarters = roster.quarters.tolist()
        self.topics = roster.topic_masks
        self.seed = roster.seed & MASK64
        # The tie-break's first mix depends on the lower index only: mixed once per person.
        lows = np.arange(roster.n, dtype=np.uint64)
        self.mixed = splitmix64(np.uint64(self.seed * _GOLD & MASK64) + lows).tolist()
        self.cache: dict[int, int | None] = {}
        # More than all pair weights of any grouping of the round add up to: one unit of
        # a grouping's shape (people placed, sizes) outweighs them.
        self.grouping_scale = (roster.n * roster.n + 1) * (
            self.ladder.base + self.ladder.preferences + NOISE_LEVELS
        )

    def remember(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> None:
        """Take the weights of pairs already weighed in bulk (candidate edges: ``u < v``,
        no hard rule broken, :func:`pair_weights` values), so :meth:`loose` answers them
        from the cache: growing groups asks about most of them one by one, and a pair
        weighed in Python costs as much as a hundred weighed by numpy."""
        keys = (np.asarray(u, np.int64) * self.roster.n + np.asarray(v, np.int64)).tolist()
        w = np.asarray(w)
        values = w.tolist() if w.dtype == object else w.astype(np.int64).tolist()
        self.cache.update(zip(keys, values, strict=True))

    def __call__(self, i: int, j: int) -> int | None:
        """Weight of the pair ``{i, j}``, or None when it breaks a hard rule."""
        value = self.loose(i, j)
        if value is None or not self.roster.compatible(i, j):
            return None
        return value

    def loose(self, i: int, j: int) -> int | None:
        """The weight without the free-time check: None only for the same person, a
        manager line or an avoid list. Group code checks the group's common slot once
        instead of every pair's."""
        if i == j:
            return None
        n = self.roster.n
        key = i * n + j if i < j else j * n + i
        cache = self.cache
        if key in cache:
            return cache[key]
        value = None
        if key not in self.roster.conflicts:
            value = self._value(i, j, key)
        cache[key] = value
        return value

    def _value(self, i: int, j: int, key: int) -> int:
        """The weight of a pair that breaks no hard rule: the module table's tiers.

        :func:`preference_units`, :func:`in_person_wishes`, :func:`tie_break` and
        :func:`combine` written out for one pair of Python ints (group growth asks
        about hundreds of thousands of pairs); ``tests/pairing/test_weights.py`` holds
        them equal to the vector path.
        """
        if i > j:
            i, j = j, i
        ladder = self.ladder
        site_i, site_j = self.site[i], self.site[j]
        mode_i, mode_j = self.mode[i], self.mode[j]
        units = 0
        if site_i == site_j and site_i >= 0 and mode_i != VIRTUAL and mode_j != VIRTUAL:
            units = WISH * ((mode_i == IN_PERSON) + (mode_j == IN_PERSON))
        shared = (self.topics[i] & self.topics[j]).bit_count()
        units += TOPIC * (shared if shared < TOPIC_CAP else TOPIC_CAP)
        preferences = units * ladder.wishes_topics
        if self.dept[i] != self.dept[j]:
            preferences += ladder.department
        if (site_i < 0) != (site_j < 0):
            preferences += ladder.hybrid
        preferences += (self.quarters[i] + self.quarters[j]) * ladder.fairness
        x = (self.mixed[i] + j * _GOLD) & MASK64
        x ^= x >> 30
        x = (x * _M1) & MASK64
        x ^= x >> 27
        x = (x * _M2) & MASK64
        x ^= x >> 31
        ago = self.roster.history.get(key)
        penalty = 0 if ago is None else self.penalty[ago]
        return ladder.base - penalty + preferences + (x >> _NOISE_SHIFT)
