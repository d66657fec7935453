"""Turn chosen groups into a :class:`Plan`: slot, mode, site, reasons, stats.

Reasons are short sentences a participant would understand, built from the same
facts the weights used: history, departments, presence, shared topics and time.
"""

from __future__ import annotations

import datetime
from itertools import chain

import numpy as np

from pairing.model import Group, Mode, Plan, Unmatched
from pairing.roster import VIRTUAL, Roster
from pairing.slots import pair_slots
from pairing.timeline import choose_start, common_free, day_origin, slot_count
from pairing.weights import conflicting, time_compatible

_COUNT = {
    2: "both",
    3: "all three",
    4: "all four",
    5: "all five",
    6: "all six",
    7: "all seven",
    8: "all eight",
}


def _together(size: int) -> str:
    return _COUNT.get(size, f"all {size}")


def listing(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _office(name: str) -> str:
    return name if name.lower().endswith("office") else f"{name} office"


def _rounds(count: int) -> str:
    return "1 round" if count == 1 else f"{count} rounds"


class _Facts:
    """Plain-Python copies of the roster columns the descriptions read per group."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.site = roster.site.tolist()
        self.dept = roster.dept.tolist()
        self.virtual = (roster.mode == VIRTUAL).tolist()
        self.first = roster.first.tolist()
        self.last = roster.last.tolist()
        self.topics = roster.topic_masks
        self.phrases: dict[tuple, str] = {}  # department and place phrases repeat a lot

    def in_person(self, members: list[int]) -> bool:
        """Hard rule 4: everyone at the same office and nobody asked for virtual."""
        site = self.site[members[0]]
        return site >= 0 and all(self.site[m] == site and not self.virtual[m] for m in members)


def in_person(roster: Roster, members: list[int]) -> bool:
    """Hard rule 4: everyone at the same office and nobody asked for virtual."""
    return _Facts(roster).in_person(members)


def latest_meeting(roster: Roster, members: list[int]) -> tuple[int, int, int] | None:
    """``(rounds ago, a, b)`` for the pair of ``members`` who met most recently, or None."""
    latest = None
    if roster.history:
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                ago = roster.met(members[a], members[b])
                if ago is not None and (latest is None or ago < latest[0]):
                    latest = (ago, members[a], members[b])
    return latest


_ASK = object()


def _history_reason(roster: Roster, members: list[int], latest: object = _ASK) -> str:
    """Who met whom last; ``latest`` is :func:`latest_meeting`, when already known."""
    if latest is _ASK:
        latest = latest_meeting(roster, members)
    if latest is None:
        return "first time you meet"
    ago, a, b = latest
    who = "you" if len(members) == 2 else f"{roster.ids[a]} and {roster.ids[b]}"
    if ago <= roster.cooldown:
        return f"{who} met {_rounds(ago)} ago; nobody new was free at the same time"
    return f"{who} last met {_rounds(ago)} ago"


def _unique(values: list[int]) -> tuple[int, ...]:
    if len(values) == 2:
        return (values[0],) if values[0] == values[1] else (values[0], values[1])
    return tuple(dict.fromkeys(values))


def _department_phrase(roster: Roster, departments: tuple[int, ...]) -> str | None:
    names = [roster.dept_names[d] for d in departments]
    if len(names) == 1:
        return None
    return f"{names[0]} meets {names[1]}" if len(names) == 2 else listing(names)


def _place_phrase(roster: Roster, places: tuple[int, ...], meet: bool) -> str:
    if meet:
        return f"in person at the {_office(roster.site_names[places[0]])}"
    offices = [_office(roster.site_names[s]) for s in places if s >= 0]
    if not offices:
        return "all remote, by video"
    if -1 in places:
        return " + ".join(offices + ["remote"])
    return " + ".join(offices) + ", by video"


def _reasons(
    facts: _Facts, members: list[int], meet: bool, slots: int, latest: tuple | None
) -> tuple[str, ...]:
    """What the group is told; ``latest`` is :func:`latest_meeting` of its members."""
    roster = facts.roster
    reasons = [_history_reason(roster, members, latest)]
    departments = _unique([facts.dept[m] for m in members])
    if len(departments) > 1:
        phrase = facts.phrases.get(departments)
        if phrase is None:
            phrase = facts.phrases[departments] = _department_phrase(roster, departments)
        reasons.append(phrase)
    places = (_unique([facts.site[m] for m in members]), meet)
    phrase = facts.phrases.get(places)
    if phrase is None:
        phrase = facts.phrases[places] = _place_phrase(roster, places[0], meet)
    reasons.append(phrase)
    shared = facts.topics[members[0]]
    for m in members[1:]:
        shared &= facts.topics[m]
    if shared:
        key = ("topics", shared, len(members))  # a round has a few hundred such phrases
        phrase = facts.phrases.get(key)
        if phrase is None:
            names = roster.topic_names
            picked = [names[b] for b in range(shared.bit_length()) if shared >> b & 1][:2]
            phrase = f"{_together(len(members))} curious about {listing(picked)}"
            facts.phrases[key] = phrase
        reasons.append(phrase)
    if slots == 1:
        together = _together(len(members))
        reasons.append(f"the only {roster.duration} minutes that suit {together} of you")
    return tuple(reasons)


def _unmatched_reason(roster: Roster, person: int) -> str:
    day = roster.request.date.isoformat()
    if not roster.available[person]:
        return f"no free {roster.duration} minutes inside your working hours on {day}"
    others = np.flatnonzero(roster.available)
    others = others[others != person]
    if roster.n == 1:
        return "no one else is taking part this round"
    if len(others) == 0:
        return f"no one else has {roster.duration} free minutes on {day}"
    mine = np.full(len(others), person)
    others = others[time_compatible(roster, mine, others)]
    if len(others) == 0:
        return f"no one else is free for the same {roster.duration} minutes as you on {day}"
    if conflicting(roster, np.full(len(others), person), others).all():
        return "everyone free at the same time is your manager, reports to you, or is avoided"
    return "everyone free at the same time is in a group that cannot take one more person"


def _pair_slots(
    roster: Roster, ordered: list[list[int]], preferred: float | None
) -> list[tuple[int, int]]:
    """``(start, slot count)`` of each group in ``ordered`` by :func:`pairing.slots.pair_slots`
    where it can tell (pairs of people whose free time the arrays hold whole and who
    have a slot), else ``(-1, 0)``: those groups are placed one at a time."""
    out = [(-1, 0)] * len(ordered)
    at = [k for k, g in enumerate(ordered) if len(g) == 2]
    if not at:
        return out
    a = np.array([ordered[k][0] for k in at], np.int64)
    b = np.array([ordered[k][1] for k in at], np.int64)
    keep = ~(roster.wide[a] | roster.wide[b])
    at = np.array(at)[keep]
    a, b = a[keep], b[keep]
    if preferred is None:
        target = (
            np.maximum(roster.first[a], roster.first[b])
            + np.minimum(roster.last[a], roster.last[b])
        ) / 2
    else:
        target = np.full(len(a), preferred)
    start, slots = pair_slots(roster, a, b, target)
    for k, s, c in zip(at.tolist(), start.tolist(), slots.tolist(), strict=True):
        if s >= 0:
            out[k] = (s, c)
    return out


def build_plan(roster: Roster, chosen: list[list[int]], seconds: float) -> Plan:
    """The plan for the chosen groups: slots nearest the preferred time, reasons, stats."""
    request = roster.request
    origin = day_origin(request.date)
    preferred = None
    if request.preferred_start is not None:
        preferred = (request.preferred_start - origin).total_seconds() / 60 + roster.duration / 2
    groups = []
    placed = np.zeros(roster.n, bool)
    by_size: dict[int, int] = {}
    repeats = cross = hybrid = meeting = 0
    facts = _Facts(roster)
    step = datetime.timedelta(minutes=1)
    length = roster.duration * step
    history, n, cooldown = roster.history, roster.n, roster.cooldown
    ordered = sorted((sorted(g) for g in chosen), key=lambda g: g[0])
    known = _pair_slots(roster, ordered, preferred)
    ids, moments = roster.ids, {}
    for index, members in enumerate(ordered):
        if len(members) == 2:  # nearly every group of a round of pairs: one lookup
            ago = history.get(members[0] * n + members[1]) if history else None
            latest = None if ago is None else (ago, members[0], members[1])
            repeats += ago is not None and ago <= cooldown
        else:  # latest_meeting and the repeats in one pass (members are sorted)
            latest = None
            if history:
                for a in range(len(members)):
                    first = members[a]
                    for second in members[a + 1 :]:
                        ago = history.get(first * n + second)
                        if ago is not None:
                            repeats += ago <= cooldown
                            if latest is None or ago < latest[0]:
                                latest = (ago, first, second)
        meet = facts.in_person(members)
        start, slots = known[index]
        if start < 0:  # not a pair that pair_slots could place: one group at a time
            shared = common_free([roster.free[m] for m in members], roster.duration)
            target = preferred
            if target is None:
                first = max(facts.first[m] for m in members)
                last = min(facts.last[m] for m in members)
                target = (first + last) / 2
            start = choose_start(shared, roster.duration, target)
            slots = slot_count(shared, roster.duration)
        times = moments.get(start)
        if times is None:  # a round has a few hundred distinct starts
            begin = origin + start * step
            times = moments[start] = (begin, begin + length)
        site = facts.site[members[0]]
        groups.append(
            Group(
                members=tuple([ids[m] for m in members]),
                mode=Mode.IN_PERSON if meet else Mode.VIRTUAL,
                site=roster.site_names[site] if meet else None,
                start=times[0],
                end=times[1],
                reasons=_reasons(facts, members, meet, slots, latest),
            )
        )
        by_size[len(members)] = by_size.get(len(members), 0) + 1
        cross += len({facts.dept[m] for m in members}) > 1
        meeting += meet
        remote = sum([facts.site[m] < 0 for m in members])
        hybrid += (not meet) and 0 < remote < len(members)
    placed[list(chain.from_iterable(ordered))] = True
    alone = np.flatnonzero(~placed).tolist()
    unmatched = tuple(Unmatched(roster.ids[i], _unmatched_reason(roster, i)) for i in alone)
    stats = {
        "participants": roster.n,
        "groups": len(groups),
        "by_size": dict(sorted(by_size.items())),
        "unmatched": len(unmatched),
        "repeats": int(repeats),
        "cross_department": int(cross),
        "hybrid": int(hybrid),
        Mode.IN_PERSON: int(meeting),
        "seconds": round(seconds, 3),
    }
    return Plan(tuple(groups), unmatched, stats)
