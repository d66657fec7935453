"""Maximum-weight matching on the sparse candidate graph.

The fractional matching is solved as an assignment on the graph's bipartite double
cover (every person appears once as a row and once as a column; staying alone is the
diagonal with weight 0), with ``scipy.sparse.csgraph.min_weight_full_bipartite_matching``.
The assignment is a permutation whose cycles are either pairs (kept), or longer cycles
of half-edges, rounded by taking the best alternate edges. A short augmenting pass then
places anyone left over, and a swap pass improves pairs locally. Small graphs skip the
LP (importing scipy costs more than solving) and start from a greedy matching.
"""

from __future__ import annotations

import numpy as np

LP_FROM = 600  # people; below this, greedy + augmenting + swaps is as good and faster to start


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


def _weight_lookup(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> dict[int, float]:
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    return dict(zip((lo * n + hi).tolist(), w.tolist()))


def lp_matching(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Round the optimal fractional matching; returns ``mate`` (-1 when alone)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    mate = np.full(n, -1, np.int64)
    if len(u) == 0:
        return mate
    # Whole thousandths: with raw floats (near-ties everywhere) LAPJVsp runs 20-40x slower.
    units = np.round(w * 1000.0)
    top = float(units.max()) + 1.0
    rows = np.concatenate([u, v, np.arange(n)])
    cols = np.concatenate([v, u, np.arange(n)])
    cost = np.concatenate([top - units, top - units, np.full(n, top)])
    graph = csr_matrix((cost, (rows, cols)), shape=(n, n))
    _, successor = min_weight_full_bipartite_matching(graph)
    weight = _weight_lookup(n, u, v, w)
    seen = [False] * n
    succ = successor.tolist()
    for start in range(n):
        if seen[start]:
            continue
        cycle = [start]
        seen[start] = True
        nxt = succ[start]
        while nxt != start:
            cycle.append(nxt)
            seen[nxt] = True
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
        edges.append(weight.get(min(a, b) * n + max(a, b), 0.0))
    take = length // 2
    best, best_first = -1.0, 0
    for first in range(length if length % 2 else 2):
        total = sum(edges[(first + 2 * t) % length] for t in range(take))
        if total > best:
            best, best_first = total, first
    for t in range(take):
        i = (best_first + 2 * t) % length
        a, b = cycle[i], cycle[(i + 1) % length]
        mate[a], mate[b] = b, a


def greedy_matching(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Heaviest edges first; returns ``mate`` (-1 when alone)."""
    mate = [-1] * n
    for i in np.argsort(-w, kind="stable").tolist():
        a, b = int(u[i]), int(v[i])
        if mate[a] < 0 and mate[b] < 0:
            mate[a], mate[b] = b, a
    return np.array(mate, np.int64)


def augment(adjacency: Adjacency, mate: np.ndarray, people: list[int] | None = None) -> None:
    """Place unmatched people: directly with a free neighbour, else along a path of length 3.

    For a free ``x`` with a matched neighbour ``y`` (partner ``z``) and a free neighbour
    ``t`` of ``z``, the pairs ``x-y`` and ``z-t`` replace ``y-z``: one more pair placed.
    """
    todo = [i for i in (range(adjacency.n) if people is None else people) if mate[i] < 0]
    for x in todo:
        if mate[x] >= 0:
            continue
        near, weights = adjacency.neighbours(x)
        free = [y for y in near if mate[y] < 0]
        if free:
            mate[x], mate[free[0]] = free[0], x
            continue
        best = None
        for y, wxy in zip(near, weights):
            z = int(mate[y])
            far, far_w = adjacency.neighbours(z)
            wyz = _edge(adjacency, y, z)
            for t, wzt in zip(far, far_w):
                if mate[t] < 0 and t != x:
                    gain = wxy + wzt - wyz
                    if best is None or gain > best[0]:
                        best = (gain, y, z, t)
                    break  # neighbours are sorted best first
        if best is not None:
            _, y, z, t = best
            mate[x], mate[y], mate[z], mate[t] = y, x, t, z


def _edge(adjacency: Adjacency, a: int, b: int) -> float:
    lo, hi = adjacency.indptr[a], adjacency.indptr[a + 1]
    hits = np.flatnonzero(adjacency.indices[lo:hi] == b)
    return float(adjacency.weights[lo + hits[0]]) if len(hits) else 0.0


def improve(adjacency: Adjacency, mate: np.ndarray, rounds: int = 2) -> None:
    """Swap partners between two pairs whenever that raises the total weight.

    For pairs ``a-b`` and ``c-d`` with candidate edges ``a-c`` and ``b-d``, the swap is
    taken when ``w(a,c) + w(b,d) > w(a,b) + w(c,d)``. Stops when a round changes nothing.
    """
    n = adjacency.n
    heads = np.repeat(np.arange(n), np.diff(adjacency.indptr))
    lookup = dict(zip((heads * n + adjacency.indices).tolist(), adjacency.weights.tolist()))
    for _ in range(rounds):
        changed = False
        for a in range(n):
            b = int(mate[a])
            if b < 0:
                continue
            wab = lookup.get(a * n + b, 0.0)
            near, weights = adjacency.neighbours(a)
            for c, wac in zip(near, weights):
                d = int(mate[c])
                if c == b or d < 0:
                    continue
                wbd = lookup.get(b * n + d)
                if wbd is None:
                    continue
                wcd = lookup.get(c * n + d, 0.0)
                if wac + wbd > wab + wcd + 1e-9:
                    mate[a], mate[c], mate[b], mate[d] = c, a, d, b
                    changed = True
                    break
        if not changed:
            break


def solve(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A near-maximum-weight matching of the candidate graph; ``mate[i]`` or -1."""
    adjacency = Adjacency(n, u, v, w)
    if n >= LP_FROM:
        mate = lp_matching(n, u, v, w)
        augment(adjacency, mate)
    else:
        mate = greedy_matching(n, u, v, w)
        augment(adjacency, mate)
        improve(adjacency, mate)
    return mate
