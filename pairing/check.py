"""Check a plan against the hard rules, independently of how it was made.

Used by the tests and the benchmark (and by anyone who wants to audit a plan or a
baseline): ``violations(request, plan)`` lists every broken hard rule in words.
It recomputes everything from the request with plain datetimes, sharing no code with
the planner's own free-time arithmetic.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from pairing.model import Mode, Participant, Plan, PlanRequest

_UTC = datetime.UTC


def _window(
    person: Participant, date: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    zone = ZoneInfo(person.timezone)
    start = datetime.datetime.combine(date, person.work_hours[0], tzinfo=zone)
    end = datetime.datetime.combine(date, person.work_hours[1], tzinfo=zone)
    return start.astimezone(_UTC), end.astimezone(_UTC)


def is_free(
    person: Participant, date: datetime.date, start: datetime.datetime, end: datetime.datetime
) -> bool:
    """Whether ``start``-``end`` lies in the person's working hours and outside busy times."""
    first, last = _window(person, date)
    if start < first or end > last:
        return False
    return all(not (b_start < end and start < b_end) for b_start, b_end in person.busy)


def conflict(a: Participant, b: Participant) -> bool:
    """Hard rule 3: a manager line or an avoid list between the two."""
    return a.manager == b.id or b.manager == a.id or b.id in a.avoid or a.id in b.avoid


def shared_slot(people: list[Participant], date: datetime.date, minutes: int) -> bool:
    """Whether the people share ``minutes`` free, starting on a 5-minute boundary."""
    windows = [_window(p, date) for p in people]
    first = max(w[0] for w in windows)
    last = min(w[1] for w in windows)
    start = first.replace(second=0, microsecond=0)
    start += datetime.timedelta(minutes=-start.minute % 5)
    if start < first:
        start += datetime.timedelta(minutes=5)
    step, length = datetime.timedelta(minutes=5), datetime.timedelta(minutes=minutes)
    while start + length <= last:
        if all(is_free(p, date, start, start + length) for p in people):
            return True
        start += step
    return False


def valid_group(people: list[Participant], date: datetime.date, minutes: int) -> bool:
    """Hard rules 2 and 3 for a would-be group."""
    if len(people) < 2:
        return False
    for i, a in enumerate(people):
        for b in people[i + 1 :]:
            if conflict(a, b):
                return False
    return shared_slot(people, date, minutes)


def violations(request: PlanRequest, plan: Plan, check_rule_five: bool = True) -> list[str]:
    """Every hard rule the plan breaks, one sentence each; empty when the plan is sound."""
    found = []
    people = {p.id: p for p in request.participants}
    seen: dict[str, int] = {}
    for group in plan.groups:
        for member in group.members:
            seen[member] = seen.get(member, 0) + 1
    for item in plan.unmatched:
        seen[item.id] = seen.get(item.id, 0) + 1
    for pid in people:
        if seen.get(pid, 0) != 1:
            found.append(f"rule 1: {pid} appears {seen.get(pid, 0)} times")
    for pid in seen:
        if pid not in people:
            found.append(f"rule 1: unknown id {pid}")
    length = datetime.timedelta(minutes=request.duration_minutes)
    for number, group in enumerate(plan.groups):
        members = [people[m] for m in group.members if m in people]
        where = f"group {number} {list(group.members)}"
        if len(members) < 2:
            found.append(f"{where}: fewer than two members")
        start = group.start.astimezone(_UTC)
        if start.minute % 5 or start.second or start.microsecond:
            found.append(f"rule 2: {where} starts off a 5-minute boundary")
        if group.end - group.start != length:
            found.append(f"rule 2: {where} is not {request.duration_minutes} minutes long")
        for person in members:
            if not is_free(person, request.date, group.start, group.end):
                found.append(f"rule 2: {person.id} in {where} is not free then")
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if conflict(a, b):
                    found.append(f"rule 3: {a.id} and {b.id} in {where}")
        if group.mode == Mode.IN_PERSON:
            sites = {p.site for p in members}
            if len(sites) != 1 or None in sites or any(p.mode == Mode.VIRTUAL for p in members):
                found.append(f"rule 4: {where} is in person without a shared office")
            elif group.site != members[0].site:
                found.append(f"rule 4: {where} names the wrong office")
        elif group.mode != Mode.VIRTUAL:
            found.append(f"{where}: unknown mode {group.mode!r}")
    if check_rule_five:
        alone = [people[u.id] for u in plan.unmatched if u.id in people]
        for i, person in enumerate(alone):
            for other in alone[i + 1 :]:
                if valid_group([person, other], request.date, request.duration_minutes):
                    found.append(
                        f"rule 5: {person.id} and {other.id} are both unmatched but could meet"
                    )
            for group in plan.groups:
                members = [people[m] for m in group.members] + [person]
                if valid_group(members, request.date, request.duration_minutes):
                    found.append(
                        f"rule 5: {person.id} is unmatched but could join {list(group.members)}"
                    )
                    break
    return found
