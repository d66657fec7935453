"""Properties of every plan: the hard rules, determinism, sizes, edge cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pairing.matching
import pairing.planner
from pairing import plan_json
from pairing.check import violations
from tests.pairing.strategies import most_placeable, plan_of, requests

ROOT = Path(__file__).resolve().parents[2]


def _without_seconds(text: str) -> dict:
    data = json.loads(text)
    data["stats"].pop("seconds")
    return data


@given(requests(max_people=10, sizes=(2, 3, 4)))
def test_small_plans_keep_every_hard_rule(obj):
    request, plan = plan_of(obj)
    assert violations(request, plan) == []


@given(requests(min_people=11, max_people=40, sizes=(2, 3, 4, 5)))
@settings(max_examples=25)
def test_larger_plans_keep_every_hard_rule(obj):
    request, plan = plan_of(obj)
    assert violations(request, plan) == []


@given(requests(max_people=10, sizes=(2, 3)), st.sampled_from(["blossom", "lp"]))
def test_heuristic_path_keeps_every_hard_rule(obj, solver):
    """The paths bigger rounds take (candidates, matching, leftovers), on small inputs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pairing.planner, "EXHAUSTIVE_UP_TO", 0)
        patch.setattr(pairing.matching, "BLOSSOM_UP_TO", 10**9 if solver == "blossom" else 0)
        request, plan = plan_of(obj)
    assert violations(request, plan) == []


@given(requests(max_people=8, sizes=(2, 3)))
@settings(max_examples=30)
def test_everyone_who_can_be_placed_is_placed(obj):
    request, plan = plan_of(obj)
    placed = sum(len(g.members) for g in plan.groups)
    assert placed == most_placeable(request)


@given(requests(max_people=30, sizes=(2, 3)))
@settings(max_examples=15)
def test_same_request_and_seed_give_the_same_plan(obj):
    text = json.dumps(obj)
    first, second = plan_json(text), plan_json(text)
    assert _without_seconds(first) == _without_seconds(second)
    assert json.dumps(_without_seconds(first)) == json.dumps(_without_seconds(second))


@given(requests(min_people=2, max_people=10, sizes=(2, 3, 4, 5, 6, 7, 8)))
@settings(max_examples=30)
def test_groups_are_the_target_size_or_one_more_when_possible(obj):
    request, plan = plan_of(obj)
    target = request.group_size
    sizes = [len(g.members) for g in plan.groups]
    assert all(size >= 2 for size in sizes)
    total = len(request.participants)
    if total < target:
        assert all(size <= total for size in sizes)
    placed = sum(sizes)
    assert placed + len(plan.unmatched) == total


@pytest.mark.parametrize("size", range(2, 9))
@pytest.mark.parametrize("count", [7, 13, 24])
def test_everyone_free_together_fills_groups_of_each_size(size, count):
    crowd = [{"id": f"p{i}", "department": f"d{i % 4}"} for i in range(count)]
    request, plan = plan_of({"date": "2025-03-04", "group_size": size, "participants": crowd})
    assert violations(request, plan) == []
    assert not plan.unmatched
    sizes = sorted(len(g.members) for g in plan.groups)
    if count >= size:
        assert min(sizes) >= size
        if any(k * size <= count <= k * (size + 1) for k in range(1, count + 1)):
            assert max(sizes) <= size + 1
    assert sum(sizes) == count


@pytest.mark.parametrize("count", [3, 5, 11, 101])
def test_odd_counts_put_the_extra_person_in_a_trio(count):
    crowd = [{"id": f"p{i}", "department": f"d{i % 3}"} for i in range(count)]
    request, plan = plan_of({"date": "2025-03-04", "participants": crowd})
    assert violations(request, plan) == []
    assert not plan.unmatched
    assert plan.stats["by_size"] == ({2: count // 2 - 1, 3: 1} if count > 3 else {3: 1})


def test_people_with_no_overlap_are_unmatched_with_a_reason():
    crowd = [
        {"id": "early", "department": "A", "work_hours": ["06:00", "08:00"]},
        {"id": "late", "department": "B", "work_hours": ["18:00", "20:00"]},
        {
            "id": "tokyo",
            "department": "C",
            "timezone": "Asia/Tokyo",
            "work_hours": ["09:00", "10:00"],
        },
    ]
    request, plan = plan_of({"date": "2025-03-04", "participants": crowd})
    assert plan.groups == ()
    assert [u.id for u in plan.unmatched] == ["early", "late", "tokyo"]
    assert all("free for the same 15 minutes" in u.reason for u in plan.unmatched)
    assert violations(request, plan) == []


def test_empty_request_gives_an_empty_plan():
    _, plan = plan_of({"date": "2025-03-04", "participants": []})
    assert plan.groups == () and plan.unmatched == ()
    assert plan.stats["participants"] == 0 and plan.stats["by_size"] == {}


def test_one_person_is_unmatched_because_nobody_else_takes_part():
    _, plan = plan_of({"date": "2025-03-04", "participants": [{"id": "solo", "department": "A"}]})
    assert plan.groups == ()
    assert plan.unmatched[0].id == "solo"
    assert plan.unmatched[0].reason == "no one else is taking part this round"


def test_someone_busy_all_day_is_unmatched_with_a_reason():
    crowd = [
        {"id": "a", "department": "A"},
        {"id": "b", "department": "B"},
        {
            "id": "busy",
            "department": "C",
            "busy": [["2025-03-04T08:00:00Z", "2025-03-04T18:00:00Z"]],
        },
    ]
    _, plan = plan_of({"date": "2025-03-04", "participants": crowd})
    assert [g.members for g in plan.groups] == [("a", "b")]
    assert plan.unmatched[0].reason.startswith("no free 15 minutes inside your working hours")


def test_scalable_path_on_a_mid_sized_round(monkeypatch):
    """Blocks, LP matching and the cross-block pass, shrunk so a test can afford them."""
    monkeypatch.setattr(pairing.planner, "BLOCK", 60)
    obj = {
        "date": "2025-03-04",
        "seed": 3,
        "participants": [
            {
                "id": f"p{i}",
                "department": f"d{i % 7}",
                "site": [None, "Stockholm", "New York"][i % 3],
                "timezone": ["Europe/Stockholm", "America/New_York", "Asia/Kolkata"][i % 3],
                "work_hours": [f"{7 + i % 4:02d}:00", f"{15 + i % 4:02d}:00"],
                "manager": f"p{i // 5}",
            }
            for i in range(301)
        ],
    }
    request, plan = plan_of(obj)
    assert violations(request, plan) == []
    assert not plan.unmatched
    assert plan.stats["cross_department"] >= 0.9 * plan.stats["groups"]


def test_plans_do_not_depend_on_the_process_hash_seed():
    """Set and dict order of strings changes per process; the plan must not."""
    crowd = [
        {
            "id": f"person-{i}",
            "department": ["Sales", "Research", "Legal", "Design"][i % 4],
            "site": [None, "Stockholm", "Berlin"][i % 3],
            "avoid": [f"person-{(i * 7) % 60}"],
            "topics": ["data", "chess", "running", "books"][: i % 4],
        }
        for i in range(60)
    ]
    text = json.dumps({"date": "2025-03-04", "seed": 5, "participants": crowd})
    outputs = []
    for hash_seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-m", "pairing"],
            input=text,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=True,
        )
        outputs.append(_without_seconds(done.stdout))
    assert outputs[0] == outputs[1]


def test_a_fragmented_calendar_is_checked_exactly(monkeypatch):
    """More free pieces than the vector arrays keep: the exact lists still decide."""
    monkeypatch.setattr(pairing.planner, "EXHAUSTIVE_UP_TO", 0)
    busy = [
        [f"2025-03-04T{h:02d}:{m:02d}:00Z", f"2025-03-04T{h:02d}:{m + 10:02d}:00Z"]
        for h in range(9, 17)
        for m in (0, 30)
    ]
    crowd = [{"id": "fragmented", "department": "A", "busy": busy}] + [
        {"id": f"late{i}", "department": "B", "work_hours": ["16:40", "17:00"]} for i in range(3)
    ]
    request, plan = plan_of({"date": "2025-03-04", "participants": crowd})
    assert violations(request, plan) == []
    assert not plan.unmatched
