"""The sparse candidate graph: for each person, a few good partners they could meet.

Scoring every pair is quadratic (890 million pairs at 50,000 people), so people are
bucketed by the span of their free time and by whether they are on-site or remote.
Each person scores a sample of the people in compatible buckets (all of them when the
bucket is small) and keeps the ``k/2`` best of the other presence and the ``k/2``
best of their own: keeping only the overall best would link nearly everyone on-site
to someone remote and starve the surplus side (see MATCHING-NOTES.md).
Hard rules and history are checked exactly on the short list only.
"""

from __future__ import annotations

import numpy as np

from pairing.roster import Roster
from pairing.weights import conflicting, full_weights, preference_weights, time_compatible

RANDOM_EXTRA = 2  # partners per presence drawn at random from the valid sample
CANDIDATES = 10  # partners kept per person: half of each presence
EVALUATION_BUDGET = 1_000_000  # pairs scored in the whole search (both presences); sets the sample
MIN_SAMPLE = 48
CHUNK = 400_000  # pairs scored at once (memory)
MAX_CLASSES = 256  # more distinct free spans than this are coarsened to half hours


def _spans(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct ``(first, last)`` pairs in lexicographic order, and each one's index:
    ``np.unique(..., axis=1)`` on one int64 key per pair, several times faster."""
    low, high = int(last.min()), int(last.max())
    key = first.astype(np.int64) * (high - low + 1) + (last - low)
    keys, inverse = np.unique(key, return_inverse=True)
    return inverse.ravel(), keys // (high - low + 1), keys % (high - low + 1) + low


def _classes(roster: Roster, people: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bucket people by the span of their free time; returns (class of each, first, last)."""
    first, last = roster.first[people], roster.last[people]
    inverse, span_first, span_last = _spans(first, last)
    if len(span_first) > MAX_CLASSES:
        inverse, span_first, span_last = _spans(first // 30 * 30, -(-last // 30) * 30)
    return inverse, span_first, span_last


def _best(
    roster: Roster,
    u: np.ndarray,
    pool: np.ndarray,
    offset: np.ndarray,
    size: np.ndarray,
    keep: int,
    sample: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``keep`` best valid partners of each row ``u[i]`` in its own pool, and
    ``RANDOM_EXTRA`` more drawn at random.

    Row ``i`` draws from ``pool[offset[i] : offset[i] + size[i]]``: all of it when it
    holds at most ``sample`` people, otherwise ``sample`` random draws. Each row is
    ranked on its own: one person appears in one row per presence stratum.
    """
    width = int(min(sample, size.max(initial=0)))
    if width == 0 or len(pool) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    shortlist = min(width, 3 * keep)
    columns = np.arange(width)
    whole = size <= width
    draws = np.floor(rng.random((len(u), width)) * size[:, None]).astype(np.int64)
    draws.sort(axis=1)
    position = np.where(whole[:, None], columns, draws)
    live = position < size[:, None]
    duplicate = np.zeros_like(live)
    duplicate[:, 1:] = (position[:, 1:] == position[:, :-1]) & ~whole[:, None]
    v = pool[np.minimum(offset[:, None] + position, len(pool) - 1)]
    weight = preference_weights(roster, u[:, None], v, with_noise=False)
    weight[~live | duplicate | (v == u[:, None])] = -np.inf
    if shortlist < width:
        top = np.argpartition(-weight, shortlist - 1, axis=1)[:, :shortlist]
    else:
        top = np.broadcast_to(columns, (len(u), width))
    # A few partners by lottery: without them the best-only graph can lack a perfect
    # matching (a big department whose members never list each other).
    lottery = min(width, RANDOM_EXTRA)
    ticket = rng.random((len(u), width))
    ticket[weight == -np.inf] = 2.0
    drawn = np.argpartition(ticket, lottery - 1, axis=1)[:, :lottery]
    picks = np.concatenate([top, drawn], axis=1)
    cv = np.take_along_axis(v, picks, axis=1)
    cw = np.take_along_axis(weight, picks, axis=1)
    # Each row is one person and stratum: its shortlist, then its lottery tickets. The
    # hard rules and full weights are checked on the live picks only, then each part
    # of each row is ranked on its own (stable: ties keep their place).
    alive = np.flatnonzero(cw > -np.inf)
    flat_u = np.repeat(u, picks.shape[1])[alive]
    flat_v = cv.ravel()[alive]
    full = full_weights(roster, flat_u, flat_v, cw.ravel()[alive])
    good = ~conflicting(roster, flat_u, flat_v) & time_compatible(roster, flat_u, flat_v)
    ranked = np.full(cw.size, -np.inf, full.dtype)  # object: a wide ladder's Python ints
    ranked[alive[good]] = full[good]  # -inf: dead, or a hard rule broken
    ranked = ranked.reshape(cw.shape)
    best = np.argsort(-ranked[:, : top.shape[1]], axis=1, kind="stable")[:, :keep]
    tickets = np.broadcast_to(top.shape[1] + np.arange(drawn.shape[1]), drawn.shape)
    ends = np.concatenate([best, tickets], axis=1)
    value = np.take_along_axis(ranked, ends, axis=1).ravel()
    chosen = value > -np.inf
    out_u = np.repeat(u, ends.shape[1])[chosen]
    out_v = np.take_along_axis(cv, ends, axis=1).ravel()[chosen]
    return out_u, out_v, value[chosen]


def candidate_sample(people: int) -> int:
    """How many partners each person scores per presence, for a round of ``people``."""
    return max(MIN_SAMPLE, EVALUATION_BUDGET // (2 * max(people, 1)))


def candidate_edges(
    roster: Roster,
    rows: np.ndarray,
    pool: np.ndarray | None = None,
    k: int = CANDIDATES,
    sample: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected candidate edges ``(u, v, weight)`` with ``u < v``, no duplicates.

    Each person in ``rows`` looks for partners in ``pool`` (default: ``rows``). Every
    returned pair satisfies the hard rules and carries its full weight.
    """
    rows = np.asarray(rows, np.int64)
    pool = rows if pool is None else np.asarray(pool, np.int64)
    rows = rows[roster.available[rows]]
    pool = pool[roster.available[pool]]
    if len(rows) == 0 or len(pool) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    if sample is None:
        sample = candidate_sample(len(rows))
    rng = np.random.default_rng([roster.seed & 0xFFFFFFFF, len(rows), len(pool)])
    klass, first, last = _classes(roster, np.concatenate([rows, pool]))
    row_class, pool_class = klass[: len(rows)], klass[len(rows) :]
    start = np.maximum(first[:, None], first[None, :])
    fits = -(-start // 5) * 5 + roster.duration <= np.minimum(last[:, None], last[None, :])
    # Pool (c, p): everyone whose bucket fits bucket c and whose presence is p.
    remote_pool = roster.remote[pool].astype(np.int64)
    order = np.lexsort((remote_pool, pool_class))
    by_bucket = pool[order]
    bounds = np.searchsorted((pool_class * 2 + remote_pool)[order], np.arange(2 * len(first) + 1))
    pieces, offset, size = (
        [],
        np.zeros(2 * len(first), np.int64),
        np.zeros(2 * len(first), np.int64),
    )
    filled = 0
    for c in np.unique(row_class).tolist():
        partners = np.flatnonzero(fits[c])
        for presence in (0, 1):
            part = [
                by_bucket[bounds[2 * p + presence] : bounds[2 * p + presence + 1]] for p in partners
            ]
            part = np.concatenate(part) if part else np.zeros(0, np.int64)
            offset[2 * c + presence], size[2 * c + presence] = filled, len(part)
            pieces.append(part)
            filled += len(part)
    everyone = np.concatenate(pieces)
    remote_rows = roster.remote[rows].astype(np.int64)
    u = np.concatenate([rows, rows])
    pid = np.concatenate([row_class * 2 + remote_rows, row_class * 2 + 1 - remote_rows])
    width = max(1, min(sample, int(size.max(initial=1))))
    step = max(1, CHUNK // width)
    half = max(1, k // 2)
    found = [
        _best(
            roster,
            u[a : a + step],
            everyone,
            offset[pid[a : a + step]],
            size[pid[a : a + step]],
            half,
            sample,
            rng,
        )
        for a in range(0, len(u), step)
    ]
    u = np.concatenate([f[0] for f in found])
    v = np.concatenate([f[1] for f in found])
    w = np.concatenate([f[2] for f in found])
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keys, first_seen = np.unique(lo * roster.n + hi, return_index=True)
    return lo[first_seen], hi[first_seen], w[first_seen]
