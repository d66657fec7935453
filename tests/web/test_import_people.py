"""CSV import: a good file, every kind of bad row (line, column, reason), dry run, 10,000 rows."""

from __future__ import annotations

import time
from datetime import time as clock

import pytest
from sqlalchemy import func, select

from core.db import db
from core.models import Person, Preference
from core.people_import import check_csv, read_csv

HEADER = "email,name,department,office,timezone,work_start,work_end,manager_email,active\n"
GOOD = HEADER + (
    "boss@example.org,Bo Ss,People,Stockholm,Europe/Stockholm,08:00,16:00,,\n"
    "Ada@Example.org,Ada Lovelace,Research,remote,Europe/London,09:30,17:30,boss@example.org,yes\n"
    'cy@example.org,"Cy, the Second",Sales,,,,,boss@example.org,no\n'
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def run(data: bytes | str, dry_run: bool = False):
    raw = data.encode() if isinstance(data, str) else data
    report, records = check_csv(raw, "Europe/Stockholm", dry_run=dry_run)
    db.session.commit()
    return report


def test_good_file_creates_people_with_managers_then_updates_by_email(app):
    with app.app_context():
        report = run(GOOD)
        assert report.ok and not report.dry_run
        assert (report.rows, report.created, report.updated) == (3, 3, 0)
        ada = db.session.scalar(select(Person).where(Person.email == "ada@example.org"))
        assert ada.home_office is None and ada.timezone == "Europe/London"
        assert (ada.work_start, ada.work_end) == (clock(9, 30), clock(17, 30))
        assert ada.manager.email == "boss@example.org" and ada.preference.active is True
        cy = db.session.scalar(select(Person).where(Person.email == "cy@example.org"))
        assert cy.name == "Cy, the Second" and cy.timezone == "Europe/Stockholm"
        assert cy.preference.active is False and cy.home_office is None
        again = run(GOOD.replace("Research", "Legal"))
        assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
        db.session.expire_all()
        assert db.session.get(Person, ada.id).department == "Legal"
        assert count(Person) == 3 and count(Preference) == 3


def test_semicolon_files_and_extra_columns_are_read(app):
    with app.app_context():
        report = run("Email;Name;Department;Employee no\nx@example.org;X Y;Ops;17\n")
        assert report.ok and report.created == 1 and report.ignored_columns == ["employee no"]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",No Email,Sales,,,,,,", "email", "email is missing"),
        ("not-an-email,X,Sales,,,,,,", "email", "is not an email address"),
        ("z@example.org,Zed,Sales,,Europe/Stokholm,,,,", "timezone", "unknown time zone"),
        ("z@example.org,Zed,Sales,,,9am,,,", "work_start", "is not a time"),
        ("z@example.org,Zed,Sales,,,18:00,09:00,,", "work_end", "must be after work_start"),
        ("z@example.org,Zed,Sales,,,,,nobody@example.org,", "manager_email", "no one with"),
        ("z@example.org,Zed,,,,,,,", "department", "department is missing"),
        ("z@example.org,Zed,Sales,,,,,,maybe", "active", "is not yes or no"),
        ("boss@example.org,Dup,Sales,,,,,,", "email", "duplicate of line 2"),
    ],
)
def test_each_bad_row_is_reported_with_line_column_reason_and_nothing_written(
    app, row, column, reason
):
    with app.app_context():
        report = run(GOOD + row + "\n")
        assert not report.ok and report.dry_run  # errors: nothing is written
        assert len(report.errors) == 1, report.errors
        error = report.errors[0]
        assert (error.line, error.column) == (5, column)
        assert reason in error.reason
        assert count(Person) == 0


def test_wrong_encoding_names_line_and_column(app):
    with app.app_context():
        latin1 = (GOOD + "jo@example.org,José Ñ,Sales,,,,,,\n").encode("latin-1")
        report = run(latin1)
        assert [(e.line, e.column) for e in report.errors] == [(5, "name")]
        assert "not UTF-8" in report.errors[0].reason and "0xE9" in report.errors[0].reason
        assert count(Person) == 0


def test_missing_required_column_and_empty_file(app):
    with app.app_context():
        report = run("email,name\na@b.org,A\n")
        assert [(e.line, e.column) for e in report.errors] == [(1, "department")]
        assert "required column" in report.errors[0].reason
        assert run(b"").errors[0].line == 1
        assert run("\ufeff" + GOOD).ok  # a BOM from Excel is fine


def test_dry_run_writes_nothing_but_counts(app):
    with app.app_context():
        run(GOOD)
        report = run(GOOD.replace("Research", "Legal") + "new@example.org,N,Ops,,,,,,\n", True)
        assert report.dry_run and report.ok
        assert (report.created, report.updated, report.unchanged) == (1, 1, 2)
        assert count(Person) == 3
        ada = db.session.scalar(select(Person).where(Person.email == "ada@example.org"))
        assert ada.department == "Research"


def big_file(n: int) -> bytes:
    departments = ["Sales", "Research", "Legal", "People", "Finance", "Design", "Ops"]
    lines = [HEADER.strip()]
    for i in range(n):
        manager = f"p{i // 50 * 50}@example.org" if i % 50 else ""
        office = "" if i % 3 == 0 else "Stockholm"
        lines.append(
            f"p{i}@example.org,Person {i},{departments[i % 7]},{office},Europe/Berlin,"
            f"09:00,17:00,{manager},"
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.slow
def test_ten_thousand_rows_import_in_bulk(app):
    data = big_file(10_000)
    with app.app_context():
        started = time.perf_counter()
        report = run(data)
        first = time.perf_counter() - started
        assert report.ok and report.created == 10_000
        assert count(Person) == 10_000 and count(Preference) == 10_000
        with_manager = select(func.count(Person.id)).where(Person.manager_id.is_not(None))
        assert db.session.scalar(with_manager) == 10_000 - 200
        started = time.perf_counter()
        again = run(data)
        second = time.perf_counter() - started
        assert again.unchanged == 10_000
    print(f"10,000 rows: first import {first:.2f} s, unchanged re-import {second:.2f} s")
    assert first < 15 and second < 10


def test_read_csv_is_pure_validation(app):
    with app.app_context():
        records, errors, ignored, rows = read_csv(GOOD.encode(), "UTC")
        assert rows == 3 and not errors and not ignored
        assert [r.line for r in records] == [2, 3, 4]
        assert count(Person) == 0
