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
from pairing.ladder import (
    EXACT_BITS,
    EXACT_UP_TO,
    NOISE_LEVELS,
    QUARTERS_MAX,
    SEAT_CAP,
    SPREAD_FLOOR,
    TOPIC,
    TOPIC_CAP,
    WISH,
    WISHES_TOPICS_MAX,
    Ladder,
)
from pairing.roster import Roster
from pairing.weights import ScalarWeights, pair_weight, pair_weights
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
    return min(seats, SEAT_CAP)


def _tier_of(position: int, reason: str) -> int:
    """Which tier of the order a reason speaks for (the slot comes last)."""
    if position == 0:
        return 0  # history always leads
    if " meets " in reason:
        return 1
    if " curious about " in reason:
        return 3
    return 4 if reason.startswith("the only ") else 2  # else where: presence and mode


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
    remembered = ScalarWeights(roster)
    remembered.remember(cu, cv, cw)
    for a, b, w in zip(cu.tolist(), cv.tolist(), cw.tolist(), strict=True):
        assert w == scalar(a, b) == remembered.loose(b, a)
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
    # In the order of the tiers: history, departments, presence, topics (then the slot).
    tiers = [_tier_of(k, r) for k, r in enumerate(reasons)]
    assert tiers == sorted(tiers) and tiers.count(2) == 1
    # And the weight is the module table applied to those same facts.
    ladder = roster.ladder
    quarters = round(4 * _extra_seats(request, a.id)) + round(4 * _extra_seats(request, b.id))
    wishes = meet * ((a.mode == "in_person") + (b.mode == "in_person"))
    expected = (
        ladder.base
        - (0 if ago is None else ladder.penalty[ago])
        + ladder.department * (a.department != b.department)
        + ladder.hybrid * hybrid
        + ladder.wishes_topics * (WISH * wishes + TOPIC * min(len(shared), TOPIC_CAP))
        + ladder.fairness * quarters
    )
    assert 0 <= scalar(i, j) - expected < NOISE_LEVELS


@given(
    st.integers(1, 60_000),
    st.integers(2, 8),
    st.integers(0, 100),
    st.integers(0, 120),
)
def test_every_tier_outweighs_everything_below_it(people, group_size, cooldown, oldest):
    """The ladder's promise, checked on its numbers: over ``spread`` pairs (or
    ``age_spread`` between neighbouring ages) a lower tier never adds up to a higher."""
    ladder = Ladder(people, group_size, cooldown, oldest)
    spread, step = ladder.spread, ladder.age_spread
    assert ladder.wide == (ladder.base >= 1 << EXACT_BITS)
    assert not ladder.wide or people <= EXACT_UP_TO  # Python ints only where they are cheap
    assert ladder.preferences < 1 << EXACT_BITS  # candidates are ranked in float64
    if ladder.exact:
        most = max(people * group_size // 2, min(people * (people - 1) // 2, 45))
        assert spread == step and spread > most
    else:
        assert spread >= SPREAD_FLOOR and step >= 1
    below = NOISE_LEVELS - 1
    assert ladder.fairness > below  # the tie-break never outweighs a fairness unit
    below += QUARTERS_MAX * ladder.fairness
    for unit, most in ((ladder.wishes_topics, WISHES_TOPICS_MAX), (ladder.hybrid, 1)):
        assert unit > spread * below
        below += most * unit
    assert ladder.department > spread * below
    below += ladder.department
    assert below == ladder.preferences
    penalty = ladder.penalty
    assert penalty[0] == 0 and len(penalty) == oldest + 1
    for ago in range(1, oldest + 1):
        older = penalty[ago + 1] if ago < oldest else 0
        if ago >= ladder.levels:
            assert penalty[ago] >= spread * below  # any meeting outweighs the preferences
        elif ago == cooldown:
            assert penalty[ago] > spread * (older + below)
        else:
            assert penalty[ago] > step * (older + below)
    assert ladder.base > spread * (penalty[1] + below) if oldest else ladder.base > spread * below
