"""How much a pair is worth: the preferences of the issue as numbers.

For a single pair, each of the first tiers outweighs everything after it: meeting
anyone at all (``BASE`` 12, more than any penalty) > not a repeat within the cooldown
> never met over met long ago > different departments (1.5, more than the 1.11 all
later terms can add). After that the weights blend: on-site with remote (0.6) or,
at one office, 0.25 per in-person wish; 0.1 per shared topic (up to 3); 0.05 per
recent extra seat (rotation); seeded noise up to 0.01 breaks ties.

=====================================  ==========================
never met                              0
met ``r`` rounds ago, ``r`` > cooldown   -(4 + 1.5 * 0.85 ** (r - cooldown - 1))
met ``r`` rounds ago, ``r`` <= cooldown  -(9 + (cooldown - r + 1) / cooldown)
=====================================  ==========================
"""

from __future__ import annotations

import numpy as np

from pairing.roster import IN_PERSON, VIRTUAL, Roster
from pairing.timeline import common_free

BASE = 12.0
DEPARTMENT = 1.5
HYBRID = 0.6
IN_PERSON_WISH = 0.25
TOPIC = 0.1
TOPIC_CAP = 3
FAIRNESS = 0.05
FAIRNESS_CAP = 2.0
NOISE = 0.01

MASK64 = (1 << 64) - 1
_M1, _M2, _GOLD = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15
_TWO53 = float(1 << 53)


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
    """A symmetric pseudo-random number in [0, 1) for the pair ``lo < hi``, fixed by
    the seed; Python ints or uint64 arrays (``seed`` already reduced to 64 bits)."""
    x = splitmix64((splitmix64((seed * _GOLD + lo) & MASK64) + hi * _GOLD) & MASK64)
    return (x >> 11) / _TWO53


def noise(seed: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """:func:`tie_break` for each pair of the index arrays ``u`` and ``v``."""
    lo = np.minimum(u, v).astype(np.uint64)
    hi = np.maximum(u, v).astype(np.uint64)
    return tie_break(np.array([seed & MASK64], np.uint64), lo, hi)


def history_penalty(rounds_ago, cooldown: int):
    """What a past meeting ``rounds_ago`` rounds back costs (see the module table), for
    an int or an array of them: both branches are computed and one is kept, so the
    same arithmetic serves the vector and the one-pair paths."""
    inside = rounds_ago <= cooldown
    recent = 9.0 + (cooldown - rounds_ago + 1) / max(cooldown, 1)
    older = 4.0 + 1.5 * 0.85 ** (rounds_ago - cooldown - 1)
    return inside * recent + (1 - inside) * older


def preference_weights(
    roster: Roster, u: np.ndarray, v: np.ndarray, with_noise: bool = True
) -> np.ndarray:
    """Pair weights without history, for broadcastable index arrays ``u`` and ``v``.

    Departments, hybrid mix, in-person wishes, shared topics, extra-seat fairness and
    seeded noise (optional: the candidate search adds it to its short list only).
    History and hard rules are applied separately because they are sparse and the
    candidate search applies them only to the best few pairs.
    """
    r = roster
    weight = BASE + DEPARTMENT * (r.dept[u] != r.dept[v])
    remote_u, remote_v = r.remote[u], r.remote[v]
    weight = weight + HYBRID * (remote_u != remote_v)
    same_site = (r.site[u] == r.site[v]) & ~remote_u
    meet = same_site & (r.mode[u] != VIRTUAL) & (r.mode[v] != VIRTUAL)
    wishes = (r.mode[u] == IN_PERSON).astype(np.int8) + (r.mode[v] == IN_PERSON)
    weight = weight + IN_PERSON_WISH * (meet * wishes)
    shared = np.bitwise_count(r.topics[u] & r.topics[v]).sum(axis=-1)
    weight = weight + TOPIC * np.minimum(shared, TOPIC_CAP)
    seats = np.minimum(r.extra_seats[u], FAIRNESS_CAP) + np.minimum(r.extra_seats[v], FAIRNESS_CAP)
    weight = weight + FAIRNESS * seats
    return weight + NOISE * noise(r.seed, u, v) if with_noise else weight


def history_penalties(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The history penalty for each pair of the 1-d index arrays ``u`` and ``v``."""
    out = np.zeros(len(u))
    if not roster.history or len(u) == 0:
        return out
    same = roster.past_partner[u] == np.asarray(v)[:, None]
    hit = same.any(axis=1)
    ago = roster.past_ago[u[hit]][same[hit]]
    out[hit] = history_penalty(ago, roster.cooldown)
    return out


def conflicting(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """True where the pair breaks the manager or avoid rule (1-d index arrays)."""
    if not roster.conflicts:
        return np.zeros(len(u), bool)
    keys = np.minimum(u, v).astype(np.int64) * roster.n + np.maximum(u, v)
    sorted_keys = roster.conflict_keys
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def time_compatible(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """True where the pair shares a usable, aligned meeting slot (1-d index arrays)."""
    fs_u, fe_u, fs_v, fe_v = roster.fs[u], roster.fe[u], roster.fs[v], roster.fe[v]
    duration = roster.duration
    ok = np.zeros(len(u), bool)
    for a in range(fs_u.shape[1]):
        for b in range(fs_v.shape[1]):
            start = np.maximum(fs_u[:, a], fs_v[:, b])
            end = np.minimum(fe_u[:, a], fe_v[:, b])
            ok |= -(-start // 5) * 5 + duration <= end
    if roster.wide.any():  # the arrays keep only the longest pieces: recheck exactly
        for k in np.flatnonzero(roster.wide[u] | roster.wide[v]).tolist():
            ok[k] = bool(common_free([roster.free[u[k]], roster.free[v[k]]], duration))
    return ok


def pair_weights(roster: Roster, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Full weights for 1-d index arrays; ``-inf`` where the pair breaks a hard rule."""
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    weight = preference_weights(roster, u, v) - history_penalties(roster, u, v)
    bad = (u == v) | conflicting(roster, u, v) | ~time_compatible(roster, u, v)
    weight[bad] = -np.inf
    return weight


def pair_weight(roster: Roster, i: int, j: int) -> float | None:
    """The weight of one pair, or None when the pair breaks a hard rule."""
    value = float(pair_weights(roster, np.array([i]), np.array([j]))[0])
    return None if value == -np.inf else value


class ScalarWeights:
    """The same weights as :func:`pair_weights`, one pair at a time in plain Python.

    Group formation asks about pairs outside the candidate graph one by one, where a
    numpy call per pair would cost twenty times more.
    """

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.dept = roster.dept.tolist()
        self.site = roster.site.tolist()
        self.mode = roster.mode.tolist()
        self.extra = [min(x, FAIRNESS_CAP) for x in roster.extra_seats.tolist()]
        self.topics = roster.topic_masks
        self.seed = roster.seed & MASK64
        self.cache: dict[int, float | None] = {}

    def __call__(self, i: int, j: int) -> float | None:
        """Weight of the pair ``{i, j}``, or None when it breaks a hard rule."""
        value = self.loose(i, j)
        if value is None or not self.roster.compatible(i, j):
            return None
        return value

    def loose(self, i: int, j: int) -> float | None:
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

    def _value(self, i: int, j: int, key: int) -> float:
        r = self.roster
        site_i, site_j, mode_i, mode_j = self.site[i], self.site[j], self.mode[i], self.mode[j]
        value = BASE + DEPARTMENT * (self.dept[i] != self.dept[j])
        value += HYBRID * ((site_i < 0) != (site_j < 0))
        if site_i == site_j and site_i >= 0 and mode_i != VIRTUAL and mode_j != VIRTUAL:
            value += IN_PERSON_WISH * ((mode_i == IN_PERSON) + (mode_j == IN_PERSON))
        value += TOPIC * min((self.topics[i] & self.topics[j]).bit_count(), TOPIC_CAP)
        value += FAIRNESS * (self.extra[i] + self.extra[j])
        lo, hi = (i, j) if i < j else (j, i)
        value += NOISE * tie_break(self.seed, lo, hi)
        ago = r.history.get(key)
        if ago is not None:
            value -= history_penalty(ago, r.cooldown)
        return value
