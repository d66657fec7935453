"""The candidate search as it was before rows were ranked in place (main at 633f299):
the reference that tests/pairing/test_fast_paths.py holds the current one equal to."""

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


def _classes(roster: Roster, people: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bucket people by the span of their free time; returns (class of each, first, last)."""
    first, last = roster.first[people], roster.last[people]
    spans, inverse = np.unique(np.stack([first, last]), axis=1, return_inverse=True)
    if spans.shape[1] > MAX_CLASSES:
        first = first // 30 * 30
        last = -(-last // 30) * 30
        spans, inverse = np.unique(np.stack([first, last]), axis=1, return_inverse=True)
    return inverse.ravel(), spans[0], spans[1]


def _best(
    roster: Roster,
    u: np.ndarray,
    tag: np.ndarray,
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
    holds at most ``sample`` people, otherwise ``sample`` random draws. Rows with the
    same person but a different ``tag`` (presence stratum) are ranked separately.
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
    kind = np.concatenate([np.zeros(top.shape, np.int64), np.ones(drawn.shape, np.int64)], axis=1)
    cu = np.repeat(u, picks.shape[1])
    ct = np.repeat(tag, picks.shape[1]) * 2 + kind.ravel()
    cv = np.take_along_axis(v, picks, axis=1).ravel()
    cw = np.take_along_axis(weight, picks, axis=1).ravel()
    alive = cw > -np.inf
    cu, ct, cv, cw = cu[alive], ct[alive], cv[alive], cw[alive]
    cw = full_weights(roster, cu, cv, cw)
    good = ~conflicting(roster, cu, cv) & time_compatible(roster, cu, cv)
    cu, ct, cv, cw = cu[good], ct[good], cv[good], cw[good]
    group = cu * 4 + ct
    order = np.lexsort((-cw, group))  # by person, stratum and kind, best first
    group, cu, cv, cw = group[order], cu[order], cv[order], cw[order]
    position = np.arange(len(group))
    fresh = np.ones(len(group), bool)
    fresh[1:] = group[1:] != group[:-1]
    rank = position - np.maximum.accumulate(np.where(fresh, position, 0))
    chosen = rank < np.where(group % 2 == 1, RANDOM_EXTRA, keep)
    return cu[chosen], cv[chosen], cw[chosen]


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
    tag = np.repeat(np.array([0, 1]), len(rows))
    pid = np.concatenate([row_class * 2 + remote_rows, row_class * 2 + 1 - remote_rows])
    width = max(1, min(sample, int(size.max(initial=1))))
    step = max(1, CHUNK // width)
    half = max(1, k // 2)
    found = [
        _best(
            roster,
            u[a : a + step],
            tag[a : a + step],
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
