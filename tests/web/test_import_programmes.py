"""Programmes from CSV (issue #20): create and update by name with a Slack channel, every bad cell
named by line and column, nothing written on any error, the admin upload (CSRF, errors shown)."""

from __future__ import annotations

from datetime import date, time
from io import BytesIO

import pytest
from sqlalchemy import func, select

from core.db import db
from core.models import AuditLog, Programme
from core.programme_import import COLUMNS, check_csv, template_csv
from tests.web.admin_support import admin_config, make_admin_and_person, sign_in
from web.config import current_settings

HEADER = "name,kind,topic,days,local_time,timezone,group_size,duration_minutes,cadence,language,"
HEADER += "slack_channel,starts_on,ends_on,active\n"
GOOD = HEADER + (
    "Friday fika,matched,,fri,15:00,Europe/Stockholm,3,20,weekly,sv,C0FIKA1,,,yes\n"
    "Book circle,learning_team,Books,wed,12:00,,4,45,biweekly,,G0BOOKS,2027-01-04,2027-03-29,\n"
)


@pytest.fixture
def app_config(app_config):
    return admin_config(app_config)


def run(data: str, *, dry_run: bool = False):
    report, rows = check_csv(data.encode(), current_settings(), "tester", dry_run=dry_run)
    db.session.commit()
    return report


def by_name(name: str) -> Programme | None:
    return db.session.scalar(select(Programme).where(Programme.name == name))


def snapshot() -> list[tuple]:
    return [
        (p.id, p.name, p.slack_channel_id, p.group_size, p.days, p.active)
        for p in db.session.scalars(select(Programme).order_by(Programme.id))
    ]


def test_a_file_creates_programmes_with_channels_then_updates_by_name(app):
    with app.app_context():
        report = run(GOOD)
        assert report.ok and not report.dry_run, report.errors
        assert (report.rows, report.created, report.updated, report.unchanged) == (2, 2, 0, 0)
        fika = by_name("Friday fika")
        assert fika.slack_channel_id == "C0FIKA1" and fika.days == ["fri"]
        assert (fika.local_time, fika.timezone, fika.group_size) == (
            time(15),
            "Europe/Stockholm",
            3,
        )
        assert (fika.duration_minutes, fika.language, fika.active) == (20, "sv", True)
        books = by_name("Book circle")
        assert books.kind == "learning_team" and books.slack_channel_id == "G0BOOKS"
        assert (books.starts_on, books.ends_on) == (date(2027, 1, 4), date(2027, 3, 29))
        assert books.timezone == current_settings().timezone  # empty cell: the default
        assert books.cadence == "biweekly" and books.topic == "Books"
        # Update by name (any case): only the non-empty cells change; the rest stays stored.
        again = run("NAME,slack_channel,group_size\nfriday FIKA,C0OTHER,\nBook circle,,5\n")
        assert (again.created, again.updated, again.unchanged) == (0, 2, 0), again.errors
        db.session.expire_all()
        fika, books = by_name("Friday fika"), by_name("Book circle")
        assert fika.slack_channel_id == "C0OTHER" and fika.group_size == 3
        assert books.group_size == 5 and books.slack_channel_id == "G0BOOKS"
        same = run(GOOD)
        assert (same.created, same.updated, same.unchanged) == (0, 2, 0)
        assert run(GOOD).unchanged == 2
        actions = db.session.scalars(select(AuditLog.action).where(AuditLog.actor == "tester"))
        actions = list(actions)
        assert actions.count("programme.import.create") == 2
        assert actions.count("programmes.import") == 4  # one per import, even if unchanged


def test_a_bad_channel_id_names_its_line_and_column_and_nothing_is_written(app):
    with app.app_context():
        before = snapshot()
        bad = GOOD + "Lunch,matched,,mon,12:00,,,,,,#lunch,,,\n"
        report = run(bad)
        assert not report.ok and report.dry_run
        assert [(e.line, e.column) for e in report.errors] == [(4, "slack_channel")]
        assert "Slack channel" in report.errors[0].reason
        assert str(report.errors[0]).startswith("line 4, column slack_channel: ")
        assert snapshot() == before  # the two good rows were not written either
        assert by_name("Friday fika") is None


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",matched,,,,,,,,,,,,", "name", "name is missing"),
        ("X,party,,,,,,,,,,,,", "kind", "Choose matched"),
        ("X,,,mon;funday,,,,,,,,,,", "days", "Days are among"),
        ("X,,,,9am,,,,,,,,,", "local_time", "is not a time"),
        ("X,,,,,Mars/Base,,,,,,,,", "timezone", "Unknown time zone"),
        ("X,,,,,,two,,,,,,,", "group_size", "is not a whole number"),
        ("X,,,,,,99,,,,,,,", "group_size", "From"),
        ("X,,,,,,,,daily,,,,,", "cadence", "Choose weekly or biweekly"),
        ("X,,,,,,,,,xx,,,,", "language", "Unknown language"),
        ("X,learning_team,T,mon,,,4,,,,,2027-13-01,2027-03-01,", "starts_on", "is not a date"),
        ("X,learning_team,T,mon,,,4,,,,,2027-03-01,2027-01-01,", "ends_on", "after the start"),
        ("X,,,,,,,,,,,,,maybe", "active", "is not yes or no"),
        ("Friday fika,,,,,,,,,,,,,", "name", "duplicate of line 2"),
    ],
)
def test_each_bad_cell_is_reported_and_nothing_written(app, row, column, reason):
    with app.app_context():
        before = snapshot()
        report = run(GOOD + row + "\n")
        assert not report.ok and len(report.errors) == 1, report.errors
        error = report.errors[0]
        assert (error.line, error.column) == (4, column) and reason in error.reason
        assert snapshot() == before


def test_a_dry_run_writes_nothing_and_the_header_must_name_the_programme(app):
    with app.app_context():
        before = snapshot()
        dry = run(GOOD, dry_run=True)
        assert dry.ok and dry.dry_run and dry.created == 2
        assert snapshot() == before
        headless = run("kind,days\nmatched,mon\n")
        assert [(e.line, e.column) for e in headless.errors] == [(1, "name")]
        assert template_csv().splitlines()[0] == ",".join(COLUMNS)
        assert run(template_csv()).created == 1  # the example file imports as it is


def _upload(client, text: str, **extra):
    return client.post(
        "/admin/programmes/import",
        data={"file": (BytesIO(text.encode()), "programmes.csv"), **extra},
        content_type="multipart/form-data",
    )


def test_the_admin_uploads_a_file_and_sees_errors_by_line(app):
    client, other = app.test_client(), app.test_client()
    with app.app_context():
        admin, person = make_admin_and_person()
        sign_in(client, admin)
        sign_in(other, person)
    page = client.get("/admin/programmes").get_data(as_text=True)
    assert 'action="/admin/programmes/import"' in page and "slack_channel" in page
    template = client.get("/admin/programmes/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert template.get_data(as_text=True) == template_csv()
    assert _upload(other, GOOD).status_code == 403
    assert client.post("/admin/programmes/import", data={}).status_code == 400
    bad = _upload(client, GOOD.replace("C0FIKA1", "c0fika1"))
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "<td>2</td><td>slack_channel</td>" in body and "nothing will be imported" in body
    dry = _upload(client, GOOD, dry_run="y")
    assert dry.status_code == 200 and "2 rows: would create 2" in dry.get_data(as_text=True)
    with app.app_context():
        assert by_name("Friday fika") is None
    done = _upload(client, GOOD)
    assert done.status_code == 302 and done.location.endswith("/admin/programmes")
    with app.app_context():
        assert by_name("Friday fika").slack_channel_id == "C0FIKA1"
        assert (
            db.session.scalar(
                select(func.count(AuditLog.id)).where(AuditLog.action == "programmes.import")
            )
            == 1
        )


def test_the_admin_upload_needs_the_csrf_token(make_app):
    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        db.create_all()
        admin, _ = make_admin_and_person()
        client = strict.test_client()
        sign_in(client, admin)
    response = _upload(client, GOOD)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    with strict.app_context():
        assert by_name("Friday fika") is None


def test_the_admin_reads_the_page_and_row_errors_in_their_language(app):
    client = app.test_client()
    with app.app_context():
        admin, _ = make_admin_and_person()
        sign_in(client, admin)
    with client.session_transaction() as session:
        session["language"] = "sv"
    response = _upload(client, HEADER + "Te,,,,25:00,,many,,,,,,,\n")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Importera program från CSV" in body
    assert "&#39;25:00&#39; är ingen tid (HH:MM, 24-timmars)" in body
    assert "&#39;many&#39; är inget heltal" in body


def test_semicolon_files_are_read_and_unknown_columns_ignored(app):
    with app.app_context():
        report = run("Name;Days;Slack_Channel;Owner\nStand-up fika;mon;tue;C0SEMI;Ann\n")
        assert report.errors and report.errors[0].column == ""  # 5 cells, 4 columns
        ok = run("Name;Days;Slack_Channel;Owner\nStand-up fika;mon;C0SEMI;Ann\n")
        assert ok.ok and ok.ignored_columns == ["owner"], ok.errors
        assert by_name("Stand-up fika").slack_channel_id == "C0SEMI"
