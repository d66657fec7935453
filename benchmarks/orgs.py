"""A seeded synthetic organisation for benchmarks: ``make_org(n, seed) -> dict`` (a request).

Departments of very uneven size (20, sized like 1/rank), 3-6 offices across Europe,
the Americas and Asia, 30-50% remote (working in their office's time zone), 8-hour
days starting 07:00-10:00 local, 0-3 meetings each, a manager for almost everyone,
a few avoid lists, 3 of 30 interests, and mode wishes. History is added separately by
:func:`with_history`, which lets the planner itself produce the earlier rounds.
"""

from __future__ import annotations

import datetime
import random

DEPARTMENTS = [
    "Engineering",
    "Sales",
    "Support",
    "Operations",
    "Marketing",
    "Research",
    "Finance",
    "Legal",
    "Design",
    "Product",
    "People",
    "Data",
    "Security",
    "Facilities",
    "Procurement",
    "Quality",
    "Communications",
    "Strategy",
    "Partnerships",
    "Training",
]
OFFICES = [
    ("Stockholm", "Europe/Stockholm"),
    ("New York", "America/New_York"),
    ("Bangalore", "Asia/Kolkata"),
    ("London", "Europe/London"),
    ("San Francisco", "America/Los_Angeles"),
    ("Singapore", "Asia/Singapore"),
]
TOPICS = [
    "data",
    "design",
    "running",
    "books",
    "films",
    "cooking",
    "chess",
    "music",
    "climbing",
    "travel",
    "gardening",
    "cycling",
    "photography",
    "board games",
    "podcasts",
    "history",
    "languages",
    "yoga",
    "football",
    "coffee",
    "tea",
    "knitting",
    "astronomy",
    "birding",
    "jazz",
    "hiking",
    "theatre",
    "poetry",
    "robots",
    "sailing",
]


def make_org(
    n: int,
    seed: int = 1,
    date: datetime.date = datetime.date(2025, 3, 4),
    offices: int | None = None,
    dominant: float | None = None,
    meetings: tuple[int, int] = (0, 3),
) -> dict:
    """A request for ``n`` people on ``date`` (no history), reproducible from ``seed``.

    ``offices``: how many (default: 3-6 drawn from the seed); ``dominant``: the exact
    share of the largest department (default: sized like the others, 1/rank); ``meetings``:
    the range of calendar meetings per person. The same seed on another date gives the
    same people with the same day's calendar.
    """
    rng = random.Random(seed)
    drawn = rng.randint(3, 6)
    offices_used = OFFICES[: offices or drawn]
    office_weights = [rng.uniform(0.5, 2.0) for _ in offices_used]
    remote_share = rng.uniform(0.3, 0.5)
    dept_weights = [1 / (d + 1) for d in range(len(DEPARTMENTS))]
    fixed: list[str] = []
    if dominant is not None:  # exactly that share in the first department, shuffled in
        big = round(dominant * n)
        fixed = [DEPARTMENTS[0]] * big + rng.choices(DEPARTMENTS[1:], dept_weights[1:], k=n - big)
        rng.shuffle(fixed)
    people = []
    by_dept: dict[str, list[str]] = {}
    for i in range(n):
        pid = f"p{i:05d}"
        department = fixed[i] if fixed else rng.choices(DEPARTMENTS, dept_weights)[0]
        office, zone = rng.choices(offices_used, office_weights)[0]
        remote = rng.random() < remote_share
        start_minutes = rng.choice([420, 450, 480, 510, 540, 570, 600])
        begin = f"{start_minutes // 60:02d}:{start_minutes % 60:02d}"
        end = f"{start_minutes // 60 + 8:02d}:{start_minutes % 60:02d}"
        busy = []
        local = datetime.datetime.combine(date, datetime.time(0))
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(zone)
        for _ in range(rng.randint(*meetings)):
            at = start_minutes + rng.randrange(0, 8 * 60 - 30, 15)
            length = rng.choice([30, 30, 45, 60])
            first = (local + datetime.timedelta(minutes=at)).replace(tzinfo=tz)
            busy.append(
                [first.isoformat(), (first + datetime.timedelta(minutes=length)).isoformat()]
            )
        person = {
            "id": pid,
            "department": department,
            "site": None if remote else office,
            "timezone": zone,
            "work_hours": [begin, end],
            "busy": busy,
            "mode": rng.choices(["either", "in_person", "virtual"], [7, 2, 1])[0],
            "topics": rng.sample(TOPICS, 3),
        }
        colleagues = by_dept.setdefault(department, [])
        if colleagues:
            person["manager"] = colleagues[
                min(len(colleagues) - 1, int(rng.random() ** 3 * len(colleagues)))
            ]
        colleagues.append(pid)
        people.append(person)
    for person in rng.sample(people, max(1, n // 100)):
        person["avoid"] = [rng.choice(people)["id"] for _ in range(rng.randint(1, 2))]
    return {"date": date.isoformat(), "seed": seed, "participants": people}


def with_history(request: dict, rounds: int = 10) -> dict:
    """The request with ``rounds`` earlier weekly rounds, each planned by Fika itself."""
    from pairing import parse_request, plan_round

    day = datetime.date.fromisoformat(request["date"])
    history: list[dict] = []
    for back in range(rounds, 0, -1):
        earlier = dict(
            request, date=(day - datetime.timedelta(weeks=back)).isoformat(), history=history
        )
        earlier.pop("preferred_start", None)
        plan = plan_round(parse_request(earlier))
        history = history + [
            {"date": earlier["date"], "groups": [list(g.members) for g in plan.groups]}
        ]
    return dict(request, history=history)
