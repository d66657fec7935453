"""Insights: numbers checked against small rounds worked out by hand; the SVG charts."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from core.insights import Break, RoundRow, Seat, compute, department_matrix, to_csv
from web.admin.charts import heat_map, line_chart

D0, D1, D2 = date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 1)
SVG = "{http://www.w3.org/2000/svg}"


def seat(pid: int, dept: str, site: str | None = None, met: bool | None = None) -> Seat:
    return Seat(pid, dept, site, met)


# Two rounds, hand-computed below:
#   D1  g1 p1(A, office) + p2(B, home)                  happened: cross, hybrid
#       g2 p3(A, office) + p4(A, office)                happened: same department
#       g3 p5(C, home, said no) + p6(B, home, said yes) did not happen
#       p7 unmatched
#   D2  g4 p1(A, office, yes) + p2(B, home, yes)        happened: cross, hybrid, a repeat
#       g5 p3(A, office, yes) + p5(C, home) + p6(B, office)  happened: cross, hybrid
#       g6 p4(A) + p7(C), cancelled
ROUNDS = [
    RoundRow(
        D1,
        (
            Break(1, D1, (seat(1, "A", "S"), seat(2, "B"))),
            Break(2, D1, (seat(3, "A", "S"), seat(4, "A", "S"))),
            Break(3, D1, (seat(5, "C", met=False), seat(6, "B", met=True))),
        ),
        ((7, "no overlap in working hours"),),
    ),
    RoundRow(
        D2,
        (
            Break(4, D2, (seat(1, "A", "S", True), seat(2, "B", None, True))),
            Break(5, D2, (seat(3, "A", "S", True), seat(5, "C"), seat(6, "B", "S"))),
            Break(6, D2, (seat(4, "A", "S"), seat(7, "C")), cancelled=True),
        ),
    ),
]


def test_numbers_match_the_hand_computed_rounds():
    numbers = compute(ROUNDS)
    assert numbers.breaks == 4  # g1, g2, g4, g5
    assert numbers.cross_department == 3  # g1, g4, g5
    assert numbers.hybrid_share == pytest.approx(3 / 4)  # all but g2
    assert numbers.repeat_rate == pytest.approx(1 / 4)  # g4 repeats g1; g3 never happened
    # p1: B; p2: A; p3: C, B; p4: none; p5: A, B; p6: A, C  -> 8 / 6
    assert numbers.departments_met == pytest.approx(8 / 6)
    assert numbers.left_out == 1
    assert numbers.left_out_people == [(D1, 7, "no overlap in working hours")]
    assert numbers.departments == ["A", "B", "C"]
    expected = {("A", "B"): 3, ("A", "C"): 1, ("B", "C"): 1, ("A", "A"): 1}
    for a in "ABC":
        for b in "ABC":
            key = (a, b) if (a, b) in expected else (b, a)
            assert numbers.matrix[a, b] == expected.get(key, 0), (a, b)
    # D1: 6 seats in breaks not cancelled, 2 answers, 1 yes. D2: 5 seats, 3 answers, all yes.
    assert [(p.day, p.people, p.met_rate) for p in numbers.points] == [
        (D1, 6, 0.5),
        (D2, 5, 1.0),
    ]


def test_a_pair_met_before_the_period_counts_as_a_repeat():
    earlier = [Break(0, D0, (seat(3, "A"), seat(5, "C")))]
    assert compute(ROUNDS, earlier).repeat_rate == pytest.approx(2 / 4)  # g4 and g5
    said_no = [Break(0, D0, (seat(3, "A", met=False), seat(5, "C")))]
    assert compute(ROUNDS, said_no).repeat_rate == pytest.approx(1 / 4)


def test_no_rounds_give_no_numbers_rather_than_zero_division():
    numbers = compute([])
    assert numbers.breaks == 0 and numbers.departments == [] and numbers.points == []
    assert numbers.hybrid_share is None and numbers.repeat_rate is None
    assert numbers.departments_met is None and numbers.left_out == 0


def test_heat_map_is_xml_with_one_cell_per_department_pair():
    departments, matrix = department_matrix(b for r in ROUNDS for b in r.breaks)
    svg = str(heat_map(departments, matrix, "Breaks across departments"))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    cells = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cell"]
    pairs = [(c.get("data-row"), c.get("data-col")) for c in cells]
    assert sorted(pairs) == [(a, b) for a in "ABC" for b in "ABC"]
    values = {(c.get("data-row"), c.get("data-col")): int(c.get("data-value")) for c in cells}
    assert values == matrix
    assert root.find(f"{SVG}title").text == "Breaks across departments"


def test_department_names_are_escaped_in_the_svg():
    svg = str(heat_map(["R&D <lab>", 'Sales "EU"'], {}, "x"))
    root = ET.fromstring(svg)  # would raise on an unescaped & or <
    cells = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cell"]
    assert len(cells) == 4 and {c.get("data-row") for c in cells} == {"R&D <lab>", 'Sales "EU"'}
    assert "<script" not in svg and "style=" not in svg


def test_line_chart_parses_and_leaves_gaps_for_missing_values():
    svg = str(
        line_chart([("d1", 0.5), ("d2", None), ("d3", 1.0), ("d4", 0.75)], "Met", percent=True)
    )
    root = ET.fromstring(svg)
    points = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "point"]
    assert len(points) == 3
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2  # d3-d4 only
    assert {p.find(f"{SVG}title").text for p in points} == {"d1: 50%", "d3: 100%", "d4: 75%"}


def test_csv_export_has_the_numbers():
    text = to_csv(compute(ROUNDS), "2026-11-30..2026-12-01", "Daily")
    rows = list(csv.reader(io.StringIO(text)))
    summary = {r[1]: r[2] for r in rows if r and r[0] == "summary"}
    assert summary["breaks"] == "4" and summary["hybrid_share"] == "0.750"
    assert summary["people_left_out"] == "1" and summary["average_departments_met"] == "1.333"
    assert ["2026-11-30", "6", "0.500"] in rows
    assert ["department", "A", "B", "C"] in rows and ["A", "1", "3", "1"] in rows
