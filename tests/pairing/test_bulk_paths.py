"""The planner's bulk paths give exactly what the plain walks they replaced gave.

At 50,000 people the request is read by orjson, the history and the free-time arrays
are built with numpy, the LP's assignment is read off in bulk and neighbour lists are
ranked on demand. Each of these is held equal here to a straightforward version
written out in the test (the code it replaced), on generated inputs.
"""

from __future__ import annotations

import datetime
import json
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pairing import parse_request, plan_json
from pairing.matching import Adjacency, LazyAdjacency, _round_cycle, lp_matching
from pairing.model import Participant, RequestError
from pairing.request import _busy, _checked_busy, read_request
from pairing.roster import FAR, MAX_SLOTS, Roster
from pairing.timeline import free_intervals
from tests.pairing.strategies import DAY, requests


def _walked_history(request, roster: Roster) -> dict[int, int]:
    """The history dictionary as a walk over every group fills it (latest meeting kept)."""
    n, where, history = roster.n, roster.index.get, {}
    past = sorted(
        (r for r in request.history if r.date < request.date), key=lambda r: r.date, reverse=True
    )
    for ago, past_round in enumerate(past, start=1):
        for group in past_round.groups:
            members = sorted({i for i in map(where, group) if i is not None})
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    history.setdefault(members[x] * n + members[y], ago)
    return history


@given(requests(max_people=12, history_groups=(2, 3, 4), max_rounds=4))
def test_history_in_bulk_is_the_walked_history_in_the_same_order(obj):
    request = parse_request(obj)
    roster = Roster(request)
    walked = _walked_history(request, roster)
    assert list(roster.history.items()) == list(walked.items())
    for key, ago in walked.items():  # the partner table answers every pair alike
        a, b = divmod(key, roster.n)
        for x, y in ((a, b), (b, a)):
            row = roster.past_partner[x] == y
            assert row.sum() == 1 and roster.past_ago[x][row][0] == ago


@given(requests(max_people=12), st.lists(st.text("pq0123456789", max_size=3), max_size=6))
def test_unknown_and_repeated_ids_in_history_pairs_are_skipped_like_before(obj, names):
    ids = [p["id"] for p in obj["participants"]] + names
    pairs = [[ids[i % len(ids)], ids[(3 * i + 1) % len(ids)]] for i in range(len(ids))]
    obj["history"] = [{"date": "2025-02-25", "groups": pairs}] if ids else []
    request = parse_request(obj)
    roster = Roster(request)
    assert list(roster.history.items()) == list(_walked_history(request, roster).items())


@given(requests(max_people=12))
def test_free_time_arrays_hold_the_longest_pieces_padded(obj):
    roster = Roster(parse_request(obj))
    for i, free in enumerate(roster.free):
        kept = (
            free
            if len(free) <= MAX_SLOTS
            else sorted(sorted(free, key=lambda ab: ab[0] - ab[1])[:MAX_SLOTS])
        )
        width = roster.fs.shape[1]
        assert roster.fs[i].tolist() == [a for a, _ in kept] + [FAR] * (width - len(kept))
        assert roster.fe[i].tolist() == [b for _, b in kept] + [-FAR] * (width - len(kept))
        assert roster.available[i] == bool(free)
        assert roster.first[i] == (free[0][0] if free else 0)
        assert roster.last[i] == (free[-1][1] if free else 0)


def test_busy_times_that_differ_only_by_fold_are_an_hour_apart():
    """PEP 495: two times of one zone differing only by ``fold`` compare equal, so the
    remembered timestamps must tell them apart."""
    zone = ZoneInfo("Europe/Stockholm")
    day = datetime.date(2025, 10, 26)  # clocks go back at 03:00, 02:00-03:00 twice
    early = datetime.datetime(2025, 10, 26, 2, 30, tzinfo=zone)
    late = early.replace(fold=1)
    assert early == late
    person = Participant(
        "a", "Sales", timezone="UTC", work_hours=(datetime.time(0), datetime.time(3))
    )
    busy = (early, early + datetime.timedelta(minutes=20))
    first = free_intervals(Participant(**{**person.__dict__, "busy": (busy,)}), day, 15)
    later = (late, late.replace(minute=50))
    second = free_intervals(Participant(**{**person.__dict__, "busy": (later,)}), day, 15)
    assert first == [(0, 30), (50, 180)]
    assert second == [(0, 90), (110, 180)]


def _walked_rounding(n, u, v, w, successor) -> np.ndarray:
    """The assignment rounded cycle by cycle from each cycle's smallest member."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    weight = dict(zip((lo * n + hi).tolist(), w.astype(np.int64).tolist(), strict=True))
    mate, seen = np.full(n, -1, np.int64), [False] * n
    for start in range(n):
        if seen[start]:
            continue
        cycle, nxt = [start], successor[start]
        seen[start] = True
        while nxt != start:
            cycle.append(nxt)
            seen[nxt] = True
            nxt = successor[nxt]
        _round_cycle(cycle, weight, n, mate)
    return mate


@st.composite
def graphs(draw, max_n: int = 14):
    """A random weighted graph with few distinct weights (ties, and odd LP cycles)."""
    n = draw(st.integers(2, max_n))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            max_size=3 * n,
            unique_by=lambda p: (min(p), max(p)),
        )
    )
    u = np.array([min(p) for p in pairs], np.int64)
    v = np.array([max(p) for p in pairs], np.int64)
    w = np.array(draw(st.lists(st.sampled_from([4, 5, 6]), min_size=len(u), max_size=len(u))))
    return n, u, v, w.astype(np.float64)


@given(graphs())
def test_lp_rounding_in_bulk_is_the_cycle_walk(graph):
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    n, u, v, w = graph
    mate = lp_matching(n, u, v, w)
    if len(u) == 0:
        assert (mate == -1).all()
        return
    top = float(w.max()) + 1
    rows = np.concatenate([u, v, np.arange(n)])
    cols = np.concatenate([v, u, np.arange(n)])
    cost = np.concatenate([top - w, top - w, np.full(n, top)])
    _, successor = min_weight_full_bipartite_matching(csr_matrix((cost, (rows, cols)), (n, n)))
    assert mate.tolist() == _walked_rounding(n, u, v, w, successor.tolist()).tolist()
    partners = mate[mate >= 0]
    assert (mate[partners] == np.flatnonzero(mate >= 0)).all()  # a matching


@given(graphs(max_n=20))
def test_lazily_ranked_neighbours_are_the_sorted_ones(graph):
    n, u, v, w = graph
    eager, lazy = Adjacency(n, u, v, w), LazyAdjacency(n, u, v, w)
    for i in range(n):
        assert lazy.neighbours(i) == eager.neighbours(i)


@given(requests(max_people=8))
def test_orjson_reading_gives_the_standard_librarys_request(obj):
    text = json.dumps(obj)
    assert read_request(text) == parse_request(json.loads(text))


def test_what_orjson_reads_otherwise_is_read_by_the_standard_library():
    big = "123456789012345678901234567890"  # past 64 bits: orjson reads a float
    base = {"date": DAY.isoformat(), "participants": [], "seed": 0}
    huge = json.dumps(base).replace('"seed": 0', f'"seed": {big}')
    assert read_request(huge).seed == int(big)
    lone = json.dumps({**base, "participants": [{"id": "\ud800", "department": "x"}]})
    assert "\\ud800" in lone  # an escaped lone surrogate: orjson refuses it
    assert read_request(lone).participants[0].id == "\ud800"
    person = {"id": "a", "department": "x", "site": 0}
    site = json.dumps({**base, "participants": [person]}).replace('"site": 0', f'"site": {big}')
    try:
        plan_json(site)
    except ValueError as err:
        assert str(err) == (
            f"participants[0].site: expected an office name or null, got {big} (participant 'a')"
        )
    else:
        raise AssertionError("a number is not a site")


_INSTANTS = ["2025-03-04T10:00:00+01:00", "2025-03-04T09:30:00Z", "2025-03-04T11:00", "x", 7]


@given(
    st.one_of(
        st.lists(
            st.one_of(
                st.lists(st.sampled_from(_INSTANTS), min_size=1, max_size=3),
                st.sampled_from([None, "span"]),
            ),
            max_size=3,
        ),
        st.sampled_from([None, "busy", {}]),
    )
)
def test_busy_spans_read_from_the_cache_are_the_checked_ones(value):
    def outcome(read):
        try:
            return read(value, "participants[0].busy", "a")
        except RequestError as err:
            return str(err)

    assert outcome(_busy) == outcome(_checked_busy)


def _walked_seats(request, roster: Roster) -> list[float]:
    """Extra seats as the walk over every group added them up (the last 10 rounds)."""
    where, seats = roster.index.get, [0.0] * roster.n
    past = sorted(
        (r for r in request.history if r.date < request.date), key=lambda r: r.date, reverse=True
    )
    for ago, past_round in enumerate(past, start=1):
        if all(len(group) == 2 for group in past_round.groups):
            continue
        for group in past_round.groups:
            members = sorted({i for i in map(where, group) if i is not None})
            if ago <= 10 and len(group) > request.group_size:
                for m in members:
                    seats[m] += 0.8 ** (ago - 1)
    return seats


@given(
    requests(max_people=12, sizes=(2, 3), history_groups=(2, 3, 4, 5), max_rounds=12),
    st.lists(st.text("pq0123456789", max_size=3), max_size=6),
)
def test_group_history_in_bulk_is_the_walk_with_unknown_and_repeated_ids(obj, names):
    ids = [p["id"] for p in obj["participants"]] + names
    for r, past in enumerate(obj.get("history", [])):  # unknown and repeated ids in groups
        for g, group in enumerate(past["groups"]):
            if ids and (r + g) % 2:
                group.append(ids[(r * 7 + g) % len(ids)])
    request = parse_request(obj)
    roster = Roster(request)
    assert list(roster.history.items()) == list(_walked_history(request, roster).items())
    assert roster.extra_seats.tolist() == _walked_seats(request, roster)
