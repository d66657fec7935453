"""The candidate graph as a networkx graph: people as nodes, allowed pairs as edges.

The planner keeps its graph in numpy arrays (a networkx edge costs ~390 bytes, which
is 150 MB at 50,000 people), but this is the same graph for inspection, tests and
benchmarks: ``candidate_graph(request)`` gives the sparse stratified graph the planner
matches on, ``candidate_graph(request, full=True)`` every pair the hard rules allow
(quadratic: for small rounds and for measuring the exact optimum). Edge ``weight`` is
the planner's own pair weight (:mod:`pairing.weights`), a Python int, so networkx's
matching computes with integers only and stays exact.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from pairing.candidates import candidate_edges
from pairing.matching import whole
from pairing.model import PlanRequest
from pairing.roster import Roster
from pairing.weights import pair_weights


def full_edges(roster: Roster) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair allowed by the hard rules, with weights, as arrays ``(u, v, w)``."""
    us, vs, ws = [], [], []
    for i in range(roster.n - 1):
        v = np.arange(i + 1, roster.n)
        w = pair_weights(roster, np.full(len(v), i), v)
        ok = w > -np.inf
        us.append(np.full(int(ok.sum()), i))
        vs.append(v[ok])
        ws.append(w[ok])
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(us), np.concatenate(vs), np.concatenate(ws)


def candidate_graph(request: PlanRequest, full: bool = False) -> nx.Graph:
    """People (by id, with department and site) joined by weighted candidate edges."""
    roster = Roster(request)
    if full:
        u, v, w = full_edges(roster)
    else:
        u, v, w = candidate_edges(roster, np.arange(roster.n))
    graph = nx.Graph()
    for person in request.participants:
        graph.add_node(person.id, department=person.department, site=person.site)
    ids = roster.ids
    graph.add_weighted_edges_from(
        (ids[a], ids[b], c) for a, b, c in zip(u.tolist(), v.tolist(), whole(w), strict=True)
    )
    return graph
