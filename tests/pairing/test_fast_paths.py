"""The planner's fast paths give what the paths they shortcut give.

``_plain_participant`` (parsing without field paths), the conflict hash filter in
front of the sorted conflict keys, the orjson encoding of a plan, the slots of all
pairs at once (:mod:`pairing.slots`), and the candidate search against its old self.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pairing import RequestError, parse_request, plan_json, plan_round, plan_to_dict
from pairing.candidates import candidate_edges
from pairing.request import _participant, _plain_participant
from pairing.roster import Roster, conflict_filter, conflict_hash
from pairing.slots import pair_slots
from pairing.timeline import choose_start, common_free, slot_count
from pairing.weights import conflicting
from tests.pairing import old_candidates
from tests.pairing.strategies import people, requests

FIELDS = [
    "id",
    "department",
    "site",
    "timezone",
    "work_hours",
    "busy",
    "mode",
    "manager",
    "avoid",
    "topics",
    "share_topics",
]
ODD_VALUES = [
    None,
    True,
    0,
    2.5,
    "",
    "x",
    "UTC",
    "Mars/Olympus",
    "localtime",
    "09:00",
    "in_person",
    "virtual",
    "hologram",
    "2025-03-04T09:00:00Z",
    {"id": "a"},
    [],
    [3],
    [None],
    ["chess", "chess"],
    ["17:00", "09:00"],
    ["09:00", "09:00"],
    ["09:00"],
    ["09:00", "17:00", "18:00"],
    ["09:00", "17:00"],
    ["24:00", "17:00"],
    ["9:5", "17:00"],
    [["2025-03-04T10:00:00Z", "2025-03-04T09:00:00Z"]],
    [["2025-03-04T09:00:00Z", "2025-03-04T10:00:00Z"], "x"],
    [["2025-03-04T09:00:00Z", "2025-03-04T10:00:00+01:00"]],
    [["2025-03-04T09:00:00", "2025-03-04T10:00:00Z"]],
    [["2025-03-04T09:00:00Z", 7]],
    [["2025-03-04T09:00:00Z"]],
]
ODD = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.integers(-2, 2),
    st.text(max_size=3),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
)


_MISSING = object()


def _full(obj: object) -> object:
    """What the field-by-field path gives: a participant, or the error it raises."""
    try:
        return _participant(obj, "participants[0]")
    except RequestError as err:
        return err


@given(people(6), st.data())
def test_the_plain_path_gives_what_the_full_path_gives(crowd, data):
    for person in crowd:
        assert _plain_participant(person) == _full(person)  # valid people take the fast path
        for field in FIELDS:  # every field missing, or any of the odd values
            for value in [_MISSING, *ODD_VALUES]:
                odd = {k: v for k, v in person.items() if k != field}
                if value is not _MISSING:
                    odd[field] = value
                fast, full = _plain_participant(odd), _full(odd)
                assert fast is None or fast == full, (field, value)
                assert not isinstance(full, RequestError) or fast is None, (field, value)
        odd = dict(person)
        for field in data.draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2)):
            if data.draw(st.booleans()):
                odd[field] = data.draw(ODD)
            else:
                odd.pop(field, None)
        fast, full = _plain_participant(odd), _full(odd)
        assert fast is None or fast == full
        if isinstance(full, RequestError):
            assert fast is None


def test_subclasses_of_the_json_types_take_the_full_path(person):
    class Name(str):
        pass

    plain = person("a", topics=["chess"])
    odd = dict(plain, id=Name("a"))
    assert _plain_participant(odd) is None
    assert _participant(odd, "p") == _plain_participant(plain)


def test_the_conflict_filter_never_clears_a_conflict():
    rng = np.random.default_rng(7)
    n = 50_000
    keys = np.unique(rng.integers(0, n * n, 60_000))
    flags = conflict_filter(keys)
    assert flags[conflict_hash(keys, flags.size.bit_length() - 1)].all()
    others = rng.integers(0, n * n, 200_000)
    cleared = ~flags[conflict_hash(others, flags.size.bit_length() - 1)]
    assert cleared.mean() > 0.9  # the point of it: most pairs need no search
    assert not np.isin(others[cleared], keys).any()


@given(requests(min_people=2, max_people=12))
def test_conflicting_is_membership_in_the_conflicts(obj):
    roster = Roster(parse_request(json.loads(json.dumps(obj))))
    u, v = np.triu_indices(roster.n, 1)
    u, v = np.concatenate([u, v]), np.concatenate([v, u])
    expected = [roster.key(a, b) in roster.conflicts for a, b in zip(u, v, strict=True)]
    assert conflicting(roster, u, v).tolist() == expected


@given(requests(min_people=0, max_people=12, sizes=(2, 3, 4)))
def test_plan_json_reads_back_as_the_standard_librarys_encoding(obj):
    text = json.dumps(obj)
    expected = json.loads(
        json.dumps(plan_to_dict(plan_round(parse_request(obj))), ensure_ascii=False)
    )
    got = json.loads(plan_json(text))
    got["stats"].pop("seconds")
    expected["stats"].pop("seconds")
    assert got == expected


@given(requests(min_people=2, max_people=12), st.floats(-600, 2400, allow_nan=False))
def test_pair_slots_are_the_one_group_at_a_time_slots(obj, preferred):
    roster = Roster(parse_request(json.loads(json.dumps(obj))))
    u, v = np.triu_indices(roster.n, 1)
    whole = ~(roster.wide[u] | roster.wide[v])
    u, v = u[whole], v[whole]
    middle = (
        np.maximum(roster.first[u], roster.first[v]) + np.minimum(roster.last[u], roster.last[v])
    ) / 2
    for target in (middle, np.full(len(u), preferred)):
        start, count = pair_slots(roster, u, v, target)
        for k, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
            shared = common_free([roster.free[a], roster.free[b]], roster.duration)
            assert count[k] == slot_count(shared, roster.duration)
            if shared:
                assert start[k] == choose_start(shared, roster.duration, float(target[k]))
            else:
                assert start[k] == -1


@given(requests(min_people=2, max_people=40, max_rounds=4))
def test_candidate_edges_are_those_of_the_old_search(obj):
    roster = Roster(parse_request(json.loads(json.dumps(obj))))
    rows = np.arange(roster.n)
    for sample in (None, 4):  # everyone scored, and random draws
        new = candidate_edges(roster, rows, sample=sample)
        old = old_candidates.candidate_edges(roster, rows, sample=sample)
        for a, b in zip(new, old, strict=True):
            assert a.dtype == b.dtype and a.tolist() == b.tolist()


def test_candidate_edges_of_a_benchmark_organisation_are_those_of_the_old_search():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        from orgs import make_org, with_history
    finally:
        sys.path.pop(0)
    roster = Roster(parse_request(with_history(make_org(1200, seed=3), rounds=2)))
    for rows, pool in ((np.arange(0, 1200, 2), None), (np.arange(40), np.arange(1200))):
        new = candidate_edges(roster, rows, pool, sample=48)
        old = old_candidates.candidate_edges(roster, rows, pool, sample=48)
        for a, b in zip(new, old, strict=True):
            assert a.tolist() == b.tolist()
