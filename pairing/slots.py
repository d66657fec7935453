"""Meeting slots of many pairs at once, from the roster's free-time arrays.

:func:`pairing.describe.build_plan` places each group at the aligned start nearest
its target and counts the starts it could have had
(:func:`pairing.timeline.common_free`, :func:`~pairing.timeline.choose_start`,
:func:`~pairing.timeline.slot_count`). A round of pairs has 25,000 groups at 50,000
people, and those three calls per group were a fifth of the plan's time; here they
are computed for all pairs at once, with the same arithmetic, so the starts and counts
are the same (``tests/pairing/test_fast_paths.py`` holds them equal).
"""

from __future__ import annotations

import numpy as np

from pairing.roster import Roster
from pairing.timeline import STEP


def pair_slots(
    roster: Roster, a: np.ndarray, b: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each pair ``(a[k], b[k])``: the start :func:`~pairing.timeline.choose_start`
    picks for ``target[k]`` in the pair's common free time, and
    :func:`~pairing.timeline.slot_count` of that time; start -1 and count 0 where
    there is no slot.

    Only for people whose free time the arrays hold whole (not ``roster.wide``). The
    intersections of two people's pieces are disjoint, so every pair of pieces is one
    candidate interval; the nearest start wins, the earlier one on ties, as there.
    """
    duration = roster.duration
    count = len(a)
    start = np.maximum(roster.fs[a][:, :, None], roster.fs[b][:, None, :]).reshape(count, -1)
    end = np.minimum(roster.fe[a][:, :, None], roster.fe[b][:, None, :]).reshape(count, -1)
    start, end = start.astype(np.int64), end.astype(np.int64)
    first = -(-start // STEP) * STEP
    last = (end - duration) // STEP * STEP
    usable = (start < end) & (first + duration <= end)  # padding has start > end
    slots = np.where(usable, (end - duration - first) // STEP + 1, 0).sum(axis=1)
    wanted = np.asarray(target, np.float64) - duration / 2
    near = np.floor_divide(wanted, STEP) * STEP
    tried = np.concatenate([near[:, None], near[:, None] + STEP], axis=1)[:, None, :]
    tried = np.minimum(np.maximum(tried, first[:, :, None]), last[:, :, None]).reshape(count, -1)
    distance = np.where(np.repeat(usable, 2, axis=1), np.abs(tried - wanted[:, None]), np.inf)
    # The nearest start, and the earliest of the nearest: the order of choose_start's keys.
    pick = np.lexsort((tried, distance), axis=1)[:, 0]
    chosen = tried[np.arange(count), pick].astype(np.int64)
    chosen[slots == 0] = -1
    return chosen, slots
