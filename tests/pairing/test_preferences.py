"""Examples that pin the preferences, the reasons and the chosen time."""

from __future__ import annotations

import collections

from pairing.check import violations
from tests.pairing.brute import plan_groups, scored_groupings
from tests.pairing.strategies import plan_of

DAY = "2025-03-04"


def _pairs(plan) -> set[frozenset]:
    return {frozenset(g.members) for g in plan.groups}


def test_a_repeat_is_avoided_when_a_fresh_partner_exists():
    # a-b and c-d cross departments but met last week; the fresh pairs share one.
    crowd = [
        {"id": "a", "department": "Sales"},
        {"id": "b", "department": "Research"},
        {"id": "c", "department": "Sales"},
        {"id": "d", "department": "Research"},
    ]
    history = [
        {"date": "2025-02-25", "groups": [["a", "b"], ["c", "d"]]},
        {"date": "2025-02-18", "groups": [["a", "d"], ["b", "c"]]},
    ]
    _, plan = plan_of({"date": DAY, "participants": crowd, "history": history})
    assert _pairs(plan) == {frozenset("ac"), frozenset("bd")}
    assert plan.stats["repeats"] == 0
    assert all(g.reasons[0] == "first time you meet" for g in plan.groups)


def test_the_least_recent_partner_is_chosen_when_everyone_has_met():
    crowd = [{"id": x, "department": "Sales"} for x in "abcd"]
    history = [
        {"date": "2025-02-25", "groups": [["a", "d"], ["b", "c"]]},
        {"date": "2025-02-18", "groups": [["a", "c"], ["b", "d"]]},
        {"date": "2025-02-11", "groups": [["a", "b"], ["c", "d"]]},
    ]
    _, plan = plan_of({"date": DAY, "participants": crowd, "history": history})
    assert _pairs(plan) == {frozenset("ab"), frozenset("cd")}
    assert plan.stats["repeats"] == 2
    assert plan.groups[0].reasons[0] == "you met 3 rounds ago; nobody new was free at the same time"
    _, relaxed = plan_of(
        {"date": DAY, "participants": crowd, "history": history, "cooldown_rounds": 2}
    )
    assert _pairs(relaxed) == {frozenset("ab"), frozenset("cd")}
    assert relaxed.stats["repeats"] == 0
    assert relaxed.groups[0].reasons[0] == "you last met 3 rounds ago"


def test_a_remote_person_is_paired_with_someone_on_site():
    crowd = [
        {"id": "home1", "department": "Sales", "site": None},
        {"id": "home2", "department": "Sales", "site": None},
        {"id": "office1", "department": "Sales", "site": "Stockholm", "mode": "in_person"},
        {"id": "office2", "department": "Sales", "site": "Stockholm", "mode": "in_person"},
    ]
    _, plan = plan_of({"date": DAY, "participants": crowd})
    for group in plan.groups:
        assert {m.startswith("home") for m in group.members} == {True, False}
        assert group.mode == "virtual" and group.site is None
        assert "Stockholm office + remote" in group.reasons
    assert plan.stats["hybrid"] == 2


def test_departments_mix_when_they_can():
    crowd = [{"id": f"{d}{i}", "department": d} for d in ("Sales", "Legal") for i in range(3)]
    _, plan = plan_of({"date": DAY, "participants": crowd})
    assert plan.stats["cross_department"] == 3
    assert all(len({m[:-1] for m in g.members}) == 2 for g in plan.groups)


def test_colleagues_at_one_office_meet_in_person_unless_one_wants_video():
    crowd = [
        {"id": "a", "department": "Sales", "site": "Stockholm", "mode": "in_person"},
        {"id": "b", "department": "Research", "site": "Stockholm"},
    ]
    _, plan = plan_of({"date": DAY, "participants": crowd})
    assert plan.groups[0].mode == "in_person" and plan.groups[0].site == "Stockholm"
    assert "in person at the Stockholm office" in plan.groups[0].reasons
    crowd[1]["mode"] = "virtual"
    _, plan = plan_of({"date": DAY, "participants": crowd})
    assert plan.groups[0].mode == "virtual" and plan.groups[0].site is None
    assert "Stockholm office, by video" in plan.groups[0].reasons


def test_reasons_read_like_sentences():
    crowd = [
        {
            "id": "ana",
            "department": "Sales",
            "site": "Stockholm",
            "timezone": "Europe/Stockholm",
            "work_hours": ["09:00", "17:00"],
            "topics": ["data", "chess"],
        },
        {
            "id": "bo",
            "department": "Research",
            "timezone": "Europe/London",
            "work_hours": ["07:00", "08:15"],
            "topics": ["chess", "data"],
        },
        {
            "id": "cy",
            "department": "Legal",
            "timezone": "UTC",
            "work_hours": ["07:00", "12:00"],
            "topics": ["data"],
        },
    ]
    request, plan = plan_of({"date": DAY, "participants": crowd, "group_size": 3})
    assert violations(request, plan) == []
    (group,) = plan.groups
    assert group.reasons == (
        "first time you meet",
        "Sales, Research and Legal",
        "Stockholm office + remote",
        "all three curious about data",
        "the only 15 minutes that suit all three of you",
    )
    assert group.start.isoformat() == "2025-03-04T08:00:00+00:00"


def test_pairs_share_topics_in_the_reasons():
    crowd = [
        {"id": "a", "department": "Sales", "topics": ["data"]},
        {"id": "b", "department": "Research", "topics": ["chess", "data"]},
    ]
    _, plan = plan_of({"date": DAY, "participants": crowd})
    assert plan.groups[0].reasons == (
        "first time you meet",
        "Sales meets Research",
        "all remote, by video",
        "both curious about data",
    )


def test_the_slot_nearest_the_preferred_start_is_chosen():
    crowd = [
        {
            "id": "a",
            "department": "Sales",
            "busy": [["2025-03-04T10:00:00Z", "2025-03-04T10:20:00Z"]],
        },
        {"id": "b", "department": "Research"},
    ]
    _, plan = plan_of(
        {"date": DAY, "participants": crowd, "preferred_start": "2025-03-04T11:00:00+01:00"}
    )
    assert (
        plan.groups[0].start.isoformat() == "2025-03-04T09:45:00+00:00"
    )  # 15 min off, 10:20 is 20
    _, plan = plan_of(
        {"date": DAY, "participants": crowd, "preferred_start": "2025-03-04T14:03:00Z"}
    )
    assert plan.groups[0].start.isoformat() == "2025-03-04T14:05:00+00:00"


def test_no_one_meets_their_manager_or_someone_they_avoid():
    crowd = [
        {"id": "boss", "department": "Sales"},
        {"id": "report", "department": "Research", "manager": "boss"},
        {"id": "x", "department": "Legal", "avoid": ["report"]},
        {"id": "y", "department": "Legal"},
    ]
    request, plan = plan_of({"date": DAY, "participants": crowd})
    assert _pairs(plan) == {frozenset(["boss", "x"]), frozenset(["report", "y"])}
    assert violations(request, plan) == []


def test_the_extra_seat_rotates_over_rounds():
    """Fairness is the last preference: among the groupings with the best recency the
    trio goes to those with the fewest recent extra seats, and nobody sits in it three
    rounds running while a grouping that good avoids it. (Recency comes first: in round
    8 here the one trio that keeps every pair more than five rounds apart holds someone
    for a fourth time, so a fixed cap on seats per person would break the order.)"""
    # One department, nobody remote: recency and fairness are the only preferences.
    crowd = [{"id": f"p{i:02d}", "department": "Sales"} for i in range(11)]
    history: list[dict] = []
    extra = collections.Counter()
    recent: list[set[str]] = []
    for week in range(8):
        day = f"2025-03-{4 + week:02d}"
        request, plan = plan_of(
            {"date": day, "participants": crowd, "history": history, "cooldown_rounds": 3}
        )
        trio = {m for g in plan.groups if len(g.members) == 3 for m in g.members}
        assert len(trio) == 3 and plan.stats["by_size"] == {2: 4, 3: 1}
        facts, every = scored_groupings(request, sizes=(2, 3))
        mine = facts.parts(facts.score(plan_groups(request, plan)))
        shaped = [(facts.parts(s), groups) for s, groups in every]
        shaped = [(p, groups) for p, groups in shaped if p.shape == mine.shape]
        top = max(p.recency for p, _ in shaped)
        best = [(p, groups) for p, groups in shaped if p.recency == top]
        assert mine.recency == top
        assert mine.fair == max(p.fair for p, _ in best)
        if len(recent) >= 2 and trio & recent[-1] & recent[-2]:
            # only when every grouping with the best recency seats one of them again
            ids = [p.id for p in request.participants]
            for _, groups in best:
                (seat,) = [{ids[m] for m in g} for g in groups if len(g) == 3]
                assert seat & recent[-1] & recent[-2]
        recent.append(trio)
        extra.update(trio)
        history.append({"date": day, "groups": [list(g.members) for g in plan.groups]})
    # 24 extra seats over 11 people: nobody is left out of the rotation for long.
    assert min(extra.get(p["id"], 0) for p in crowd) >= 1
