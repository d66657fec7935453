"""One weight per pair: the vector path, the one-pair path and the reasons agree.

The planner scores pairs in numpy (the candidate search) and one at a time in plain
Python (groups, leftovers, the extra seat); :mod:`pairing.describe` tells people why
they were matched. All three must read the same facts the same way. The facts are
recomputed here from the request itself, not from the planner's indexed roster.
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pairing import parse_request
from pairing.candidates import candidate_edges
from pairing.describe import build_plan
from pairing.roster import Roster
from pairing.weights import (
    BASE,
    DEPARTMENT,
    FAIRNESS,
    FAIRNESS_CAP,
    HYBRID,
    IN_PERSON_WISH,
    NOISE,
    TOPIC,
    TOPIC_CAP,
    ScalarWeights,
    history_penalty,
    pair_weight,
    pair_weights,
)
from tests.pairing.strategies import requests


def _last_met(request, a: str, b: str) -> int | None:
    """Rounds since ``a`` and ``b`` were last in one group (1 = the latest round)."""
    past = sorted((r for r in request.history if r.date < request.date), key=lambda r: r.date)
    for ago, past_round in enumerate(reversed(past), start=1):
        if any(a in group and b in group for group in past_round.groups):
            return ago
    return None


def _extra_seats(request, person: str) -> float:
    """Recent seats in groups above the target size, the latest counting most."""
    past = sorted((r for r in request.history if r.date < request.date), key=lambda r: r.date)
    seats = 0.0
    for ago, past_round in enumerate(reversed(past), start=1):
        for group in past_round.groups:
            if ago <= 10 and len(group) > request.group_size and person in group:
                seats += 0.8 ** (ago - 1)
    return min(seats, FAIRNESS_CAP)


def _reasons_of(roster: Roster, i: int, j: int) -> tuple[str, ...]:
    (group,) = build_plan(roster, [[i, j]], 0.0).groups
    return group.reasons


@given(requests(min_people=2, max_people=10, history_groups=(2, 3), max_rounds=12), st.data())
def test_vector_scalar_and_reasons_agree_for_every_pair(obj, data):
    request = parse_request(json.loads(json.dumps(obj)))
    roster = Roster(request)
    scalar = ScalarWeights(roster)
    n = roster.n
    u, v = np.triu_indices(n, 1)
    vector = pair_weights(roster, u, v)
    for k in range(len(u)):
        i, j = int(u[k]), int(v[k])
        one = scalar(i, j)
        if one is None:
            assert vector[k] == -np.inf and pair_weight(roster, i, j) is None
            continue
        assert vector[k] == one == scalar(j, i) == pair_weight(roster, j, i)
    # The candidate graph carries the same numbers as the one-pair path.
    cu, cv, cw = candidate_edges(roster, np.arange(n))
    for a, b, w in zip(cu.tolist(), cv.tolist(), cw.tolist(), strict=True):
        assert w == scalar(a, b)
    # The reasons name the facts the weight was built from.
    i, j = data.draw(st.sampled_from(list(zip(u.tolist(), v.tolist(), strict=True))))
    if scalar(i, j) is None:
        return
    a, b = request.participants[i], request.participants[j]
    reasons = _reasons_of(roster, i, j)
    ago = _last_met(request, a.id, b.id)
    if ago is None:
        assert reasons[0] == "first time you meet"
    elif ago <= request.cooldown_rounds:
        assert reasons[0].startswith(f"you met {ago} round")
    else:
        assert reasons[0].startswith(f"you last met {ago} round")
    assert (f"{a.department} meets {b.department}" in reasons) == (a.department != b.department)
    hybrid = (a.site is None) != (b.site is None)
    assert any(r.endswith(" + remote") for r in reasons) == hybrid
    meet = a.site is not None and a.site == b.site and "virtual" not in (a.mode, b.mode)
    assert any(r.startswith("in person at the ") for r in reasons) == meet
    shared = set(a.topics) & set(b.topics)
    assert any(" curious about " in r for r in reasons) == bool(shared)
    # And the weight is the module table applied to those same facts.
    wishes = meet * ((a.mode == "in_person") + (b.mode == "in_person"))
    expected = (
        BASE
        + DEPARTMENT * (a.department != b.department)
        + HYBRID * hybrid
        + IN_PERSON_WISH * wishes
        + TOPIC * min(len(shared), TOPIC_CAP)
        + FAIRNESS * (_extra_seats(request, a.id) + _extra_seats(request, b.id))
        - (0.0 if ago is None else history_penalty(ago, request.cooldown_rounds))
    )
    assert expected - 1e-9 <= scalar(i, j) < expected + NOISE + 1e-9
