"""Learning teams (:func:`pairing.form_teams`): time and quality at 40, 2,000 and 20,000 people.

    python benchmarks/teams_bench.py [--seed 1] [--only 40,2000,20000] [--repeat 3]

Organisations come from :mod:`benchmarks.orgs` (uneven departments, offices in several
time zones, calendars, managers, avoid lists); 15% can share the topic and 75% want to
learn it. The 40-person case is the issue's: one office, five departments, 6 sharers
and 30 learners, at most one meeting each. Each size is
planned twice: every team at the programme's time (10:00 Stockholm, ``same_time``) and
each team at the time nearest it that its members share (``flexible``). Team size 5,
60 minutes.

``2000:0.7`` is 2,000 people with 70% of them in one department, where spanning
departments is hard. Figures: ``s`` (median wall seconds of ``--repeat`` runs; one run
at 20,000), ``free`` (people free for a meeting: at 10:00 Stockholm, or at all that day),
``placed`` (share of them who got a team), ``teams``, ``sharer %`` (teams with a
sharer) next to ``best %`` (the most possible: sharers placed / teams), ``x-dept %``
(teams spanning departments), ``broken`` (hard rules broken, checked with
:mod:`pairing.check`). ``random`` is a baseline on the same people: the same team sizes
filled by a seeded shuffle, ignoring every rule (its ``broken`` counts people not free
at the programme's time, manager lines and avoid lists).
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.orgs import make_org  # noqa: E402
from pairing import Participant, TeamRequest, form_teams, parse_request  # noqa: E402
from pairing.check import conflict, is_free  # noqa: E402

TOPIC = "data"
DAY = datetime.date(2025, 3, 4)
START = datetime.datetime.combine(DAY, datetime.time(10), tzinfo=ZoneInfo("Europe/Stockholm"))


def organisation(size: int, seed: int, dominant: float | None = None) -> tuple[Participant, ...]:
    """``size`` people with learn and share topics; the 40 of the issue in one office;
    ``dominant``: that share of everyone in one department."""
    small = size <= 40
    request = make_org(
        size,
        seed,
        DAY,
        offices=1 if small else None,
        dominant=dominant,
        meetings=(0, 1) if small else (0, 3),
    )
    rng = random.Random(seed)
    departments = ["Engineering", "Sales", "Support", "Finance", "People"]
    for i, person in enumerate(request["participants"]):
        roll = i / size if small else rng.random()  # the 6 sharers and 30 learners
        person["share_topics"] = [TOPIC] if roll < 0.15 else []
        person["topics"] = [TOPIC] if 0.15 <= roll < 0.9 else person["topics"]
        if small:
            person["department"] = departments[i % 5 if i % 3 else 0]
    return parse_request(request).participants


def broken(request: TeamRequest, plan) -> int:
    """Hard rules the plan breaks: people not free then, manager lines, avoid lists."""
    people = {p.id: p for p in request.participants}
    count = 0
    for team in plan.teams:
        members = [people[m] for m in team.members]
        count += sum(not is_free(p, DAY, team.start, team.end) for p in members)
        count += sum(conflict(a, b) for i, a in enumerate(members) for b in members[i + 1 :])
        count += not 3 <= len(members) <= 8
    return count


def random_baseline(request: TeamRequest, plan, seed: int) -> tuple[float, float, int]:
    """Sharer %, x-dept % and rules broken when the placed people are shuffled into
    teams of the plan's sizes."""
    people = {p.id: p for p in request.participants}
    placed = [m for t in plan.teams for m in t.members]
    random.Random(seed).shuffle(placed)
    teams, at = [], 0
    for size in sorted((len(t.members) for t in plan.teams), reverse=True):
        teams.append([people[m] for m in placed[at : at + size]])
        at += size
    sharer = sum(any(TOPIC in p.share_topics for p in t) for t in teams)
    cross = sum(len({p.department for p in t}) > 1 for t in teams)
    bad = 0
    for team in teams:
        end = START + datetime.timedelta(minutes=request.duration_minutes)
        bad += sum(not is_free(p, DAY, START, end) for p in team)
        bad += sum(conflict(a, b) for i, a in enumerate(team) for b in team[i + 1 :])
    total = max(1, len(teams))
    return 100 * sharer / total, 100 * cross / total, bad


def run(size: int, seed: int, repeat: int, dominant: float | None = None) -> None:
    crowd = organisation(size, seed, dominant)
    for same_time in (True, False):
        request = TeamRequest(
            TOPIC, crowd, START, team_size=5, duration_minutes=60, same_time=same_time, seed=seed
        )
        times, plan = [], None
        for _ in range(repeat):
            started = time.perf_counter()
            plan = form_teams(request)
            times.append(time.perf_counter() - started)
        teams = max(1, len(plan.teams))
        placed = sum(len(t.members) for t in plan.teams)
        waiting = placed + sum(
            not u.reason.startswith(("not free", "no free")) for u in plan.unplaced
        )
        sharers = sum(len(t.sharers) > 0 for t in plan.teams)
        sharers_placed = sum(len(t.sharers) for t in plan.teams)
        r_sharer, r_cross, r_bad = random_baseline(request, plan, seed)
        mode = "same_time" if same_time else "flexible"
        label = f"{size}" if dominant is None else f"{size}:{dominant:g}"
        print(
            f"{label:>8} {mode:<9} {statistics.median(times):7.3f} {waiting:6d} "
            f"{100 * placed / max(1, waiting):6.1f} {len(plan.teams):5d} "
            f"{100 * sharers / teams:8.1f} {min(100.0, 100 * sharers_placed / teams):6.1f} "
            f"{100 * plan.stats['cross_department'] / teams:8.1f} {broken(request, plan):6d}"
            f"   {r_sharer:8.1f} {r_cross:8.1f} {r_bad:6d}"
            f"   sizes {plan.stats['by_size']}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="40,2000,20000,2000:0.7")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(" " * 40 + "-" * 17 + " fika " + "-" * 17 + "   " + "-" * 7 + " random " + "-" * 7)
    print(
        "  people mode            s   free placed teams sharer%  best% x-dept% broken"
        "    sharer%  x-dept% broken"
    )
    for case in args.only.split(","):
        size, _, dominant = case.partition(":")
        share = float(dominant) if dominant else None
        run(int(size), args.seed, args.repeat if int(size) < 20000 else 1, share)


if __name__ == "__main__":
    main()
