"""The preference order as integer scales: one :class:`Ladder` per round.

A pair's weight is a sum of tiers, each a small whole number times its scale. The
scales are chosen so that, summed over any ``spread`` pairs, everything below a tier
adds up to less than one unit of it: a plan never gives up a higher preference for any
amount of lower ones, as long as the plans differ in at most ``spread`` pairs. When
``spread`` exceeds the pairs any plan of the round can hold, the order is exact for
whole plans. Integers keep it exact: the tiers cannot blur into each other through
rounding, in a sum of 28 pairs (a group of eight) or in a solver.

Big rounds get the largest spread whose weights stay below 2**50, so that they are
exact in float64 (and so in scipy's LP) even summed by eight; between two
neighbouring meeting ages the spread may then shrink to 1, which still makes a more
recent meeting cost more than an older one plus everything a pair can add below it.
Rounds of up to ``EXACT_UP_TO`` people always get the exact order: their weights may
outgrow 64 bits and are then Python ints (numpy ``object`` arrays) - affordable at
that size, and it is where the exact solvers run.
"""

from __future__ import annotations

import numpy as np

NOISE_LEVELS = 16  # seeded tie-break values per pair: 0..15
WISH = 5  # wishes-and-topics units per in-person wish met (0.25 : 0.1 against a topic)
TOPIC = 2  # per shared topic, up to TOPIC_CAP
TOPIC_CAP = 3
WISHES_TOPICS_MAX = 2 * WISH + TOPIC_CAP * TOPIC  # 16
SEAT_CAP = 2.0  # recent extra seats counted per person, at most
QUARTERS_MAX = 2 * int(4 * SEAT_CAP)  # fairness units per pair: quarter seats of both, 0..16
SPREAD_FLOOR = 29  # a group of eight holds 28 pairs; the order must survive their sum
EXACT_UP_TO = 150  # people; up to this many the order is exact for whole plans
EXHAUSTIVE_PAIRS = 45  # the pairs of ten people, the most an exhaustive search puts together
EXACT_BITS = 50  # weights below 2**50 stay exact in float64, also summed by eight
AGE_LEVELS = 1024  # distinct meeting ages ranked; any older meeting counts as this old


def most_pairs(people: int, group_size: int) -> int:
    """The most pairs a plan of the round can hold: groups of the target size or one
    more, or, up to ten people (searched exhaustively, odd shapes too), all at once."""
    return max(1, people * group_size // 2, min(people * (people - 1) // 2, EXHAUSTIVE_PAIRS))


def seat_quarters(extra_seats: np.ndarray) -> np.ndarray:
    """Each person's recent extra seats in quarter seats, capped: the fairness units."""
    return np.rint(4 * np.minimum(extra_seats, SEAT_CAP)).astype(np.int64)


class Ladder:
    """The scale of every tier for one round (see :mod:`pairing.weights` for the table).

    ``people``: how many take part; ``group_size``: the target size (bounds the
    pairs a plan can hold); ``cooldown``: the repeat window; ``oldest``: the most
    rounds ago any pair in the history met (0 when there is no history).
    """

    def __init__(self, people: int, group_size: int, cooldown: int, oldest: int) -> None:
        self.cooldown = cooldown
        self.levels = min(oldest, AGE_LEVELS)
        whole = most_pairs(people, group_size) + 1
        self.exact = self._fits(whole, whole) or people <= EXACT_UP_TO
        if self.exact:
            spread = step = whole
        else:
            step = _largest(1, whole, lambda s: self._fits(SPREAD_FLOOR, s))
            spread = _largest(SPREAD_FLOOR, whole, lambda s: self._fits(s, step))
        self.spread, self.age_spread = spread, step
        self._build(spread, step)
        self.wide = self.base >= 1 << EXACT_BITS
        older = self.penalty[self.levels] if self.levels else 0
        self.penalty += [older] * (oldest - self.levels)  # ages past AGE_LEVELS share one
        self.penalty_table = np.array(self.penalty, object if self.wide else np.float64)

    def _fits(self, spread: int, step: int) -> bool:
        self._build(spread, step)
        return self.base < 1 << EXACT_BITS

    def _build(self, spread: int, step: int) -> None:
        """Scales bottom-up; ``below`` is the most the tiers built so far add for a pair.

        The tie-break is no preference: one fairness unit outweighs it for one pair
        only, which saves a factor ``spread`` for the tiers that matter.
        """
        below = NOISE_LEVELS - 1
        self.fairness = below + 1
        below += QUARTERS_MAX * self.fairness
        self.wishes_topics = spread * below + 1
        below += WISHES_TOPICS_MAX * self.wishes_topics
        self.hybrid = spread * below + 1
        below += self.hybrid
        self.department = spread * below + 1
        below += self.department
        self.preferences = below  # the most all preference tiers add for one pair
        # Meeting penalties, indexed by rounds ago (0: never met). The oldest costs more
        # than ``spread`` pairs' preferences; each more recent age more than ``step``
        # older ones plus their preferences, and the cooldown border is a full tier.
        penalty = [0] * (self.levels + 2)
        for ago in range(self.levels, 0, -1):
            factor = spread if ago in (self.levels, self.cooldown) else step
            penalty[ago] = factor * (penalty[ago + 1] + below) + 1
        self.penalty = penalty[: self.levels + 1]
        self.base = spread * (penalty[1] + below) + 1

    def units(self, values: np.ndarray) -> np.ndarray:
        """Whole-number arrays as this ladder's weights: float64 (exact below 2**50, and
        room for -inf) or, when the ladder is wide, Python ints."""
        return values.astype(np.int64).astype(object) if self.wide else values.astype(np.float64)


def _largest(low: int, high: int, ok) -> int:
    """The largest value in ``[low, high]`` for which ``ok`` holds (``low`` if none)."""
    if not ok(low):
        return low
    while low < high:
        middle = (low + high + 1) // 2
        if ok(middle):
            low = middle
        else:
            high = middle - 1
    return low
