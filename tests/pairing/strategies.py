"""Hypothesis strategies and helpers for the pairing tests.

Requests are generated as JSON-shaped dicts (what ``fika plan`` reads) and parsed
with ``parse_request``, so every property also exercises the validation edge.
"""

from __future__ import annotations

import datetime
import json

from hypothesis import strategies as st

from pairing import PlanRequest, parse_request, plan_round
from pairing.check import valid_group

DAY = datetime.date(2025, 3, 4)
ZONES = ["UTC", "Europe/Stockholm", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]
SITES = [None, None, "Stockholm", "Berlin"]
DEPARTMENTS = ["Sales", "Research", "Legal"]
TOPICS = ["data", "chess", "running"]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def people(draw: st.DrawFn, count: int, overlap: bool = False) -> list[dict]:
    """``count`` participants with overlapping-or-not hours, busy times, conflicts.

    With ``overlap`` most share a working day (two nearby zones, long hours), so that
    many groupings are possible and the preferences, not the hard rules, decide.
    """
    ids = [f"p{i}" for i in range(count)]
    out = []
    for pid in ids:
        if overlap:
            zone = draw(st.sampled_from(ZONES[:2]))
            start = draw(st.integers(6 * 4, 10 * 4)) * 15
            end = start + draw(st.integers(6 * 4, 9 * 4)) * 15
        else:
            zone = draw(st.sampled_from(ZONES))
            start = draw(st.integers(0, 20 * 4)) * 15
            end = min(start + draw(st.integers(1, 10 * 4)) * 15, 23 * 60 + 59)
        person = {
            "id": pid,
            "department": draw(st.sampled_from(DEPARTMENTS)),
            "site": draw(st.sampled_from(SITES)),
            "timezone": zone,
            "work_hours": [_clock(start), _clock(end)],
            "mode": draw(st.sampled_from(["either", "either", "in_person", "virtual"])),
            "topics": draw(st.lists(st.sampled_from(TOPICS), max_size=2, unique=True)),
        }
        busy = []
        for _ in range(draw(st.integers(0, 2))):
            at = draw(st.integers(0, 47)) * 30 + draw(st.sampled_from([0, 7, 10]))
            length = draw(st.sampled_from([10, 30, 60, 120]))
            first = datetime.datetime.combine(DAY, datetime.time(0), tzinfo=datetime.UTC)
            first += datetime.timedelta(minutes=at - 300)
            busy.append(
                [first.isoformat(), (first + datetime.timedelta(minutes=length)).isoformat()]
            )
        if busy:
            person["busy"] = busy
        if draw(st.integers(0, 3)) == 0 if overlap else draw(st.booleans()):
            person["manager"] = draw(st.sampled_from(ids + ["boss-outside"]))
        if draw(st.integers(0, 8 if overlap else 4)) == 0:
            person["avoid"] = draw(st.lists(st.sampled_from(ids), max_size=2))
        out.append(person)
    return out


@st.composite
def requests(
    draw: st.DrawFn,
    min_people: int = 0,
    max_people: int = 10,
    sizes: tuple = (2, 3),
    history_groups: tuple = (2,),
    max_rounds: int = 3,
    overlap: bool = False,
) -> dict:
    """A JSON-shaped request, optionally with history of earlier rounds (groups of the
    sizes in ``history_groups``); ``overlap``: see :func:`people`."""
    count = draw(st.integers(min_people, max_people))
    crowd = draw(people(count, overlap))
    ids = [p["id"] for p in crowd]
    history = []
    for back in range(draw(st.integers(0, max_rounds))):
        shuffled = draw(st.permutations(ids))
        step = draw(st.sampled_from(history_groups))
        groups = [list(shuffled[i : i + step]) for i in range(0, len(shuffled) - 1, step)]
        history.append(
            {"date": (DAY - datetime.timedelta(weeks=back + 1)).isoformat(), "groups": groups}
        )
    return {
        "date": DAY.isoformat(),
        "seed": draw(st.integers(0, 2**31)),
        "group_size": draw(st.sampled_from(sizes)),
        "duration_minutes": draw(st.sampled_from([15, 15, 30])),
        "cooldown_rounds": draw(st.sampled_from([0, 2, 10])),
        "participants": crowd,
        "history": history,
    }


def plan_of(obj: dict):
    """Parse and plan a JSON-shaped request; returns (request, plan)."""
    request = parse_request(json.loads(json.dumps(obj)))
    return request, plan_round(request)


def most_placeable(request: PlanRequest) -> int:
    """Brute force: the most people any partition into valid groups can place."""
    crowd = list(request.participants)
    best = 0

    def extend(rest: list, placed: int) -> None:
        nonlocal best
        best = max(best, placed)
        if placed + len(rest) <= best or len(rest) < 2:
            return
        first, others = rest[0], rest[1:]
        extend(others, placed)  # first stays alone
        count = len(others)
        for mask in range(1, 1 << count):
            group = [first] + [others[i] for i in range(count) if mask >> i & 1]
            if valid_group(group, request.date, request.duration_minutes):
                left = [others[i] for i in range(count) if not mask >> i & 1]
                extend(left, placed + len(group))

    extend(crowd, 0)
    return best
