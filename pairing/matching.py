"""Maximum-weight matching on the sparse candidate graph.

The fractional matching is solved as an assignment on the graph's bipartite double
cover (every person appears once as a row and once as a column; staying alone is the
diagonal with weight 0), with ``scipy.sparse.csgraph.min_weight_full_bipartite_matching``.
The assignment is a permutation whose cycles are either pairs (kept), or longer cycles
of half-edges, rounded by taking the best alternate edges. A short augmenting pass then
places anyone left over, and :func:`mend` later lifts pairs left on a lower tier than
they need be. Rounds of up to 150 people get networkx's exact blossom algorithm on the
candidate graph instead. (A greedy matching used to serve rounds under 1,200, where
importing scipy costs more than solving; with the preference order as strict tiers it
gave up departments for hybrid mix on whole plans, which the LP does not.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BLOSSOM_UP_TO = 150  # people; up to this many, networkx's exact blossom on the candidate graph


class Adjacency:
    """Compressed neighbour lists of an undirected weighted graph on 0..n-1."""

    def __init__(self, n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> None:
        heads = np.concatenate([u, v])
        tails = np.concatenate([v, u])
        weights = np.concatenate([w, w])
        order = np.lexsort((-weights, heads))
        self.indptr = np.searchsorted(heads[order], np.arange(n + 1))
        self.indices = tails[order]
        self.weights = weights[order]
        self.n = n

    def neighbours(self, i: int) -> tuple[list[int], list[float]]:
        """Neighbours of ``i``, best first, with their weights."""
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.indices[a:b].tolist(), self.weights[a:b].tolist()


class LazyAdjacency(Adjacency):
    """:class:`Adjacency` whose neighbour lists are ranked best first only when asked.

    Augmenting paths and :func:`mend` look at a few hundred people of a graph of a
    million edge ends; sorting every list by weight up front cost more than both. The
    lists are grouped by person with a stable sort, then each one asked for is ranked
    with a stable sort of its own: the same order as :class:`Adjacency` (best first,
    ties in input order).
    """

    def __init__(self, n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> None:
        heads = np.concatenate([u, v])
        order = np.argsort(heads, kind="stable")
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(heads, minlength=n))])
        self.indices = np.concatenate([v, u])[order]
        self.weights = np.concatenate([w, w])[order]
        self.n = n

    def ranked(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Neighbours of ``i`` and their weights, best first (ties in input order)."""
        a, b = self.indptr[i], self.indptr[i + 1]
        weights = self.weights[a:b]
        order = np.argsort(-weights, kind="stable")
        return self.indices[a:b][order], weights[order]

    def neighbours(self, i: int) -> tuple[list[int], list[float]]:
        """Neighbours of ``i``, best first, with their weights."""
        indices, weights = self.ranked(i)
        return indices.tolist(), weights.tolist()


def whole(w: np.ndarray) -> list[int]:
    """Weights (float64 holding whole numbers, or Python ints) as a list of ints."""
    return w.tolist() if w.dtype == object else w.astype(np.int64).tolist()


def _weight_lookup(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> dict[int, int]:
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    return dict(zip((lo * n + hi).tolist(), whole(w), strict=True))


def lp_matching(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Round the optimal fractional matching; returns ``mate`` (-1 when alone)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    mate = np.full(n, -1, np.int64)
    if len(u) == 0:
        return mate
    # The weights are whole numbers (pairing.ladder): with raw floats (near-ties
    # everywhere) LAPJVsp runs 20-40x slower. Below 2**50 they are exact in float64;
    # a wide ladder (small rounds only) is rounded here, which blurs only the tie-break.
    units = np.asarray(w, np.float64)
    top = float(units.max())
    top += max(1.0, abs(top) * 2.0**-40)  # every cost positive, also past 2**53
    rows = np.concatenate([u, v, np.arange(n)])
    cols = np.concatenate([v, u, np.arange(n)])
    cost = np.concatenate([top - units, top - units, np.full(n, top)])
    graph = csr_matrix((cost, (rows, cols)), shape=(n, n))
    _, successor = min_weight_full_bipartite_matching(graph)
    # Most of the assignment is pairs (two-cycles) and people alone (fixed points): both
    # are read off in bulk. Only the few longer cycles of half-edges are walked in Python,
    # each from its smallest member, and need the weights of their edges.
    node = np.arange(n)
    pair = (successor != node) & (successor[successor] == node)
    mate[pair] = successor[pair]
    longer = (successor != node) & ~pair
    if longer.any():
        inside = longer[u] & longer[v]
        weight = _weight_lookup(n, u[inside], v[inside], w[inside])
        succ = successor.tolist()
        seen = set()
        for start in np.flatnonzero(longer).tolist():
            if start in seen:
                continue
            cycle = [start]
            seen.add(start)
            nxt = succ[start]
            while nxt != start:
                cycle.append(nxt)
                seen.add(nxt)
                nxt = succ[nxt]
            _round_cycle(cycle, weight, n, mate)
    return mate


def _round_cycle(cycle: list[int], weight: dict[int, float], n: int, mate: np.ndarray) -> None:
    """Keep the best set of alternate edges of one cycle of the assignment."""
    length = len(cycle)
    if length == 1:
        return
    if length == 2:
        a, b = cycle
        mate[a], mate[b] = b, a
        return
    edges = []
    for i in range(length):
        a, b = cycle[i], cycle[(i + 1) % length]
        edges.append(weight.get(min(a, b) * n + max(a, b), 0))
    take = length // 2
    best, best_first = -1, 0
    for first in range(length if length % 2 else 2):
        total = sum(edges[(first + 2 * t) % length] for t in range(take))
        if total > best:
            best, best_first = total, first
    for t in range(take):
        i = (best_first + 2 * t) % length
        a, b = cycle[i], cycle[(i + 1) % length]
        mate[a], mate[b] = b, a


def exact_matching(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Maximum-weight maximum-cardinality matching of the candidate graph (networkx)."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    # Python ints: networkx then computes in integers only, exactly at any width.
    graph.add_weighted_edges_from(zip(u.tolist(), v.tolist(), whole(w), strict=True))
    mate = np.full(n, -1, np.int64)
    for a, b in sorted(
        tuple(sorted(pair)) for pair in nx.max_weight_matching(graph, maxcardinality=True)
    ):
        mate[a], mate[b] = b, a
    return mate


def augment(
    adjacency: Adjacency, mate: np.ndarray, people: list[int] | None = None, depth: int = 9
) -> None:
    """Place unmatched people along alternating paths (one more pair per path found).

    From a free ``x``: ``x - y1 = z1 - y2 = z2 ... - t`` with ``t`` free, where ``=`` are
    current pairs; flipping the path keeps everyone matched and adds ``x`` and ``t``.
    Depth-first, best neighbours first, at most ``depth`` edges; odd cycles (blossoms)
    are not contracted, so a rare path can be missed, and the callers' leftover pass
    still offers such a person a seat in an existing group.
    """
    n = adjacency.n
    near = _LazyNeighbours(adjacency)
    partner = mate.tolist()
    todo = [i for i in (range(n) if people is None else people) if partner[i] < 0]
    for x in todo:
        if partner[x] >= 0 or not near[x]:
            continue
        path = _alternating_path(x, near, partner, depth)
        if path is None:
            continue
        for a in range(0, len(path), 2):
            p, q = path[a], path[a + 1]
            partner[p], partner[q] = q, p
    mate[:] = partner


class _LazyNeighbours(dict):
    """Neighbour lists as Python lists, made on first use (most nodes are never asked)."""

    def __init__(self, adjacency: Adjacency) -> None:
        super().__init__()
        self.adjacency = adjacency
        self.indptr, self.indices = adjacency.indptr, adjacency.indices

    def __missing__(self, i: int) -> list[int]:
        if isinstance(self.adjacency, LazyAdjacency):
            value = self.adjacency.ranked(i)[0].tolist()
        else:
            value = self.indices[self.indptr[i] : self.indptr[i + 1]].tolist()
        self[i] = value
        return value


def _alternating_path(
    x: int, near: _LazyNeighbours, partner: list[int], depth: int
) -> list[int] | None:
    """``[x, y1, z1, y2, ..., t]`` ending at a free ``t``, or None (iterative DFS)."""
    for y in near[x]:
        if partner[y] < 0 and y != x:
            return [x, y]
    seen = {x}
    stack = [iter(near[x])]
    path = [x]
    while stack:
        y = next(stack[-1], None)
        if y is None:
            stack.pop()
            if len(path) > 1:
                del path[-2:]
            continue
        z = partner[y]
        if z < 0 or y in seen or z in seen:
            continue
        seen.add(y)
        seen.add(z)
        for t in near[z]:
            if partner[t] < 0 and t not in seen:
                return path + [y, z, t]
        if len(path) + 3 <= depth:
            path += [y, z]
            stack.append(iter(near[z]))
    return None


def mend(
    adjacency: Adjacency,
    mate: np.ndarray,
    weak: list[int],
    weigh: Callable[[int, int], int | None],
) -> None:
    """Swap partners out of the ``weak`` pairs (one end of each given) where that raises
    the total weight: ``a-b`` and ``c-d``, with ``c`` a candidate of ``a`` or of ``b``,
    become ``a-c`` and ``b-d``. The LP's rounding and the augmenting paths can leave a
    pair on a lower tier than the candidate graph allows (two people of one department,
    say), and ``b-d`` is seldom a candidate edge, so ``weigh`` prices it (None: a hard
    rule forbids it) wherever it is.
    """
    near = _LazyNeighbours(adjacency)
    partner = mate.tolist()
    for a in weak:
        b = partner[a]
        if b < 0:
            continue
        now = weigh(a, b)
        best = None
        for x, y in ((a, b), (b, a)):
            for c in near[x]:
                d = partner[c]
                if d < 0 or c == y:
                    continue
                gained = weigh(x, c)
                kept = weigh(y, d) if gained is not None else None
                if kept is None:
                    continue
                gain = gained + kept - now - weigh(c, d)
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, x, y, c, d)
        if best is not None:
            _, x, y, c, d = best
            partner[x], partner[c], partner[y], partner[d] = c, x, d, y
    mate[:] = partner


def solve(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray, round_size: int = 0) -> np.ndarray:
    """A near-maximum-weight matching of the candidate graph; ``mate[i]`` or -1.

    ``round_size`` (default ``n``) is the size of the whole round: blocks of a big
    round use the LP even when they are small themselves.
    """
    if max(n, round_size) <= BLOSSOM_UP_TO:
        return exact_matching(n, u, v, w)
    mate = lp_matching(n, u, v, w)
    if _anyone_to_place(n, u, v, mate):
        augment(LazyAdjacency(n, u, v, w), mate)
    return mate


def _anyone_to_place(n: int, u: np.ndarray, v: np.ndarray, mate: np.ndarray) -> bool:
    """Whether someone alone has a candidate edge (else :func:`augment` has nothing to do)."""
    alone = mate < 0
    return bool((alone[u] | alone[v]).any())
