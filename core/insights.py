"""The numbers behind the insights page: pure functions over plain rows, no database, no Flask.

A *break* happened when it was not cancelled and nobody in it said they did not meet (no answer
counts as met: most people never answer). Every number is computed from the breaks and rounds it
is given, so tests can check it against small rounds worked out by hand.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations


@dataclass(frozen=True)
class Seat:
    """One person in one break: their department, where they were (None: at home), the answer."""

    person_id: int
    department: str
    site: str | None
    met: bool | None = None


@dataclass(frozen=True)
class Break:
    """One group's coffee break."""

    group_id: int
    day: date
    seats: tuple[Seat, ...]
    cancelled: bool = False

    @property
    def happened(self) -> bool:
        """Not cancelled, and nobody said it did not take place."""
        return not self.cancelled and not any(s.met is False for s in self.seats)


@dataclass(frozen=True)
class RoundRow:
    """One round: its breaks and the people it could not place (id, reason)."""

    day: date
    breaks: tuple[Break, ...]
    unmatched: tuple[tuple[int | str, str], ...] = ()


@dataclass(frozen=True)
class RoundPoint:
    """Participation and the 'met' rate of one round, for the line chart."""

    day: date
    people: int
    met_rate: float | None  # share of answered seats that met; None when nobody answered


@dataclass
class Insights:
    """Everything the page and the CSV show for a period and programme."""

    departments: list[str]
    matrix: dict[tuple[str, str], int]
    points: list[RoundPoint]
    breaks: int
    cross_department: int
    hybrid_share: float | None
    repeat_rate: float | None
    departments_met: float | None
    left_out: int
    left_out_people: list[tuple[date, int | str, str]] = field(default_factory=list)


def department_matrix(breaks: Iterable[Break]) -> tuple[list[str], dict[tuple[str, str], int]]:
    """Departments (sorted) and, per ordered pair, how many breaks that happened joined them.

    The matrix is symmetric; a break counts once per pair of different departments in it, and
    once on the diagonal for a department with two or more people in it.
    """
    breaks = list(breaks)
    departments = sorted({s.department for b in breaks for s in b.seats})
    matrix = {(a, b): 0 for a in departments for b in departments}
    for brk in breaks:
        if not brk.happened:
            continue
        present = sorted({s.department for s in brk.seats})
        for a, b in combinations(present, 2):
            matrix[a, b] += 1
            matrix[b, a] += 1
        for dept in present:
            if sum(1 for s in brk.seats if s.department == dept) >= 2:
                matrix[dept, dept] += 1
    return departments, matrix


def round_points(rounds: Iterable[RoundRow]) -> list[RoundPoint]:
    """Per round, by date: people placed in breaks not cancelled, and the met rate."""
    points = []
    for rnd in sorted(rounds, key=lambda r: r.day):
        seats = [s for b in rnd.breaks if not b.cancelled for s in b.seats]
        answered = [s for s in seats if s.met is not None]
        rate = sum(1 for s in answered if s.met) / len(answered) if answered else None
        points.append(RoundPoint(rnd.day, len(seats), rate))
    return points


def is_cross_department(brk: Break) -> bool:
    """At least two departments in the break."""
    return len({s.department for s in brk.seats}) >= 2


def is_hybrid(brk: Break) -> bool:
    """Someone at an office and someone at home in the same break."""
    sites = [s.site for s in brk.seats]
    return any(site is None for site in sites) and any(site is not None for site in sites)


def hybrid_share(breaks: Iterable[Break]) -> float | None:
    """Share of breaks that happened joining office and home (None: no breaks)."""
    done = [b for b in breaks if b.happened]
    return sum(1 for b in done if is_hybrid(b)) / len(done) if done else None


def repeat_rate(breaks: Iterable[Break], earlier: Iterable[Break] = ()) -> float | None:
    """Share of breaks that happened in which two people met again.

    ``earlier`` are breaks before the period: a pair who met there and meet again in the period
    counts as a repeat. Within a day, breaks are taken in group order.
    """
    seen: set[frozenset[int]] = set()
    for brk in sorted(earlier, key=lambda b: (b.day, b.group_id)):
        if brk.happened:
            seen.update(_pairs(brk))
    done = [b for b in sorted(breaks, key=lambda b: (b.day, b.group_id)) if b.happened]
    repeats = 0
    for brk in done:
        pairs = _pairs(brk)
        if pairs & seen:
            repeats += 1
        seen.update(pairs)
    return repeats / len(done) if done else None


def _pairs(brk: Break) -> set[frozenset[int]]:
    return {frozenset(p) for p in combinations({s.person_id for s in brk.seats}, 2)}


def departments_met(breaks: Iterable[Break]) -> float | None:
    """On average, how many departments other than their own each person met (None: nobody)."""
    met: dict[int, set[str]] = defaultdict(set)
    own: dict[int, str] = {}
    for brk in breaks:
        if not brk.happened:
            continue
        for seat in brk.seats:
            own[seat.person_id] = seat.department
            met[seat.person_id].update(s.department for s in brk.seats)
    if not own:
        return None
    return sum(len(met[p] - {own[p]}) for p in own) / len(own)


def compute(rounds: Iterable[RoundRow], earlier: Iterable[Break] = ()) -> Insights:
    """All the numbers for the rounds of a period (``earlier``: breaks before it, for repeats)."""
    rounds = sorted(rounds, key=lambda r: r.day)
    breaks = [b for r in rounds for b in r.breaks]
    departments, matrix = department_matrix(breaks)
    done = [b for b in breaks if b.happened]
    left = [(r.day, pid, reason) for r in rounds for pid, reason in r.unmatched]
    return Insights(
        departments=departments,
        matrix=matrix,
        points=round_points(rounds),
        breaks=len(done),
        cross_department=sum(1 for b in done if is_cross_department(b)),
        hybrid_share=hybrid_share(breaks),
        repeat_rate=repeat_rate(breaks, earlier),
        departments_met=departments_met(breaks),
        left_out=len(left),
        left_out_people=left,
    )


def _number(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def to_csv(insights: Insights, period: str, programme: str) -> str:
    """The numbers as CSV: the summary, one row per round, then the department matrix."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "name", "value"])
    for name, value in (
        ("programme", programme),
        ("period", period),
        ("breaks", insights.breaks),
        ("cross_department_breaks", insights.cross_department),
        ("hybrid_share", _number(insights.hybrid_share)),
        ("repeat_rate", _number(insights.repeat_rate)),
        ("average_departments_met", _number(insights.departments_met)),
        ("people_left_out", insights.left_out),
    ):
        writer.writerow(["summary", name, value])
    writer.writerow([])
    writer.writerow(["round", "people", "met_rate"])
    for point in insights.points:
        writer.writerow([point.day.isoformat(), point.people, _number(point.met_rate)])
    writer.writerow([])
    writer.writerow(["department", *insights.departments])
    for a in insights.departments:
        writer.writerow([a, *(insights.matrix[a, b] for b in insights.departments)])
    return out.getvalue()


def room_subscribers(offices: Iterable[str | None]) -> list[tuple[str, int]]:
    """Subscribers of a drop-in room per home office, "remote" for those without one.

    Offices by count (largest first, then name), remote last: the question is whether the office
    joins digitally next to the people at home.
    """
    counts: dict[str, int] = defaultdict(int)
    remote = 0
    for office in offices:
        if office:
            counts[office] += 1
        else:
            remote += 1
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [*rows, ("remote", remote)]
