"""The opt-in form: happy path, one person per email, each bad input refused with its message."""

import re
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, time

import pytest
from flask import template_rendered
from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.pool import NullPool

from core.db import db
from core.models import Person, Preference, Programme
from tests.core.helpers import add_person
from web import optin, per_process, programmes

GOOD = {
    "name": "Ana Berg",
    "email": "Ana.Berg@example.org",
    "department": "Research",
    "office": "Stockholm",
    "timezone": "Europe/Stockholm",
}


def people_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


def test_form_renders_with_labels_and_default_zone(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for field in ("name", "email", "department", "office", "timezone", "remote"):
        assert re.search(rf'<label[^>]*for="{field}"', html), field
    assert '<option selected value="Europe/Stockholm">' in html
    assert 'lang="en"' in html and 'name="viewport"' in html


def test_form_attributes_are_all_meant(app, client):
    """No attribute rendered from a missing value, no empty reference, hints linked by id."""
    with app.app_context():
        add_person("cai.dahl@example.org", "Legal", office="Malmö")
    html = client.get("/").get_data(as_text=True)
    assert '="None"' not in html and 'aria-describedby=""' not in html
    assert re.search(r'<input aria-describedby="email-hint" [^>]*id="email"', html)
    assert '<datalist id="offices"><option value="Malmö"></datalist>' in html
    bad = client.post("/", data=dict(GOOD, email="nope")).get_data(as_text=True)
    assert re.search(r'<input aria-describedby="email-hint email-error" [^>]*id="email"', bad)


def test_refused_programme_choice_stores_nobody(app, client):
    with app.app_context():
        sales = Programme(name="Sales lunch", timezone="Europe/Stockholm", departments=["Sales"])
        db.session.add(sales)
        db.session.commit()
        sales_id = sales.id
    data = dict(GOOD, programmes_shown="1", programmes=[str(sales_id)])  # GOOD is in Research
    response = client.post("/", data=data)
    assert response.status_code == 400
    assert f"Programme {sales_id} is not open to you." in response.get_data(as_text=True)
    assert people_count(app) == 0


def test_join_stores_person_and_confirms_first_break(app, client):
    response = client.post("/", data=GOOD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "You&#39;re in, Ana!" in html or "You're in, Ana!" in html
    assert "Your first break" in html and "Daily digital coffee break" in html
    with app.app_context():
        person = db.session.scalar(select(Person))
        assert person.email == "ana.berg@example.org"
        assert person.home_office == "Stockholm"
        assert person.preference.active and person.preference.paused_until is None


def test_same_email_never_duplicates_and_changes_nothing(app, client):
    client.post("/", data=GOOD)
    again = dict(GOOD, email="ana.berg@EXAMPLE.org", department="Sales", office="", remote="y")
    response = client.post("/", data=again)
    assert response.status_code == 200
    assert people_count(app) == 1
    with app.app_context():
        person = db.session.scalar(select(Person))
        assert person.department == "Research" and person.home_office == "Stockholm"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "does not look like an email"),
        ("timezone", "Europe/Stokholm", "Unknown time zone"),
        ("name", "   ", "tell us your name"),
        ("department", "", "tell us your department"),
        ("office", "", "Name your office"),
    ],
)
def test_bad_input_rerenders_with_message_and_stores_nothing(app, client, field, value, message):
    response = client.post("/", data=dict(GOOD, **{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html or field == "office"
    assert people_count(app) == 0


def test_csrf_is_enforced(app, make_app):
    strict = make_app(WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    response = client.post("/", data=GOOD)
    assert response.status_code == 400
    assert people_count(strict) == 0
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/", data=dict(GOOD, csrf_token=token)).status_code == 200
    assert people_count(strict) == 1


class Statements(list):
    """SQL statements run, and whether the driver's connection was in autocommit for each."""

    def __init__(self):
        super().__init__()
        self.autocommit: list[bool | None] = []


@contextmanager
def statements(app):
    """The SQL statements the app's engine runs inside the block."""
    seen = Statements()

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
        seen.autocommit.append(getattr(conn.connection.dbapi_connection, "autocommit", None))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_form_page_reads_nothing_from_the_database(app, client):
    """Everyone opens the form: its programmes come from the worker's copy, not a query each."""
    assert client.get("/").status_code == 200  # the first view reads the programmes once
    with statements(app) as seen:
        assert client.get("/").status_code == 200
    assert seen == []
    with statements(app) as seen:
        assert client.post("/", data=GOOD).status_code == 200
    # the rounds already planned (their slots are gone: core.next_break), the address, then
    # the person and their preferences
    assert "round" in seen[0]
    if on_postgresql(app):
        # The address is claimed by the INSERT itself (no SELECT first), the person and their
        # preferences in one statement, each statement on its own (no BEGIN, no COMMIT).
        assert [s.split()[0] for s in seen] == ["SELECT", "WITH"]
        assert "ON CONFLICT (email) DO NOTHING" in seen[1]
        assert seen.autocommit == [True, True]
    else:
        assert [s.split()[0] for s in seen] == ["SELECT", "INSERT", "INSERT"]
        assert "ON CONFLICT (email) DO NOTHING" in seen[1]


def on_postgresql(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def token_in(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_the_blank_form_is_rendered_once_and_each_visitor_gets_a_token_of_their_own(make_app):
    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        db.create_all()
    rendered = []

    def record(app, template, context, **extra):
        rendered.append(template.name)

    strict.test_client().get("/")  # creates the default programme: the form shows it from now on
    ana, ben = strict.test_client(), strict.test_client()
    with template_rendered.connected_to(record, strict):
        first, second = (c.get("/").get_data(as_text=True) for c in (ana, ben))
    assert rendered == ["join.html"]  # the second visitor's page was not rendered again
    assert token_in(first) != token_in(second) and optin._TOKEN_SLOT not in first + second
    assert first.replace(token_in(first), "") == second.replace(token_in(second), "")
    assert strict.test_client().head("/").status_code == 200
    # Each token goes with its own visitor's session only.
    assert ben.post("/", data=GOOD | {"csrf_token": token_in(first)}).status_code == 400
    assert ana.post("/", data=GOOD | {"csrf_token": token_in(first)}).status_code == 200
    assert people_count(strict) == 1


def test_without_csrf_the_blank_form_has_no_token_field(client):
    page = client.get("/").get_data(as_text=True)
    assert 'name="csrf_token"' not in page and optin._TOKEN_SLOT not in page
    assert '<label for="email">' in page


def test_a_resubmit_writes_nothing_about_the_person(app, client):
    """Only the owner's single-use sign-in link is written (see test_optin_known_address)."""
    assert client.post("/", data=GOOD).status_code == 200
    with statements(app) as seen:
        assert client.post("/", data=GOOD | {"department": "Legal"}).status_code == 200
    # The join's claim of the address (INSERT … ON CONFLICT (email) DO NOTHING) inserts nothing
    # for a known one: one person, one row of preferences, as they were.
    claims = [s for s in seen if "ON CONFLICT (email) DO NOTHING" in s]
    written = [
        " ".join(s.split()[:3]) for s in seen if not s.startswith("SELECT") and s not in claims
    ]
    assert len(claims) == 1 and written and all("sign_in_token" in w for w in written), written
    with app.app_context():
        assert db.session.scalar(select(Person.department)) == "Research"
        assert db.session.scalar(select(func.count()).select_from(Person)) == 1
        assert db.session.scalar(select(func.count()).select_from(Preference)) == 1


def add_programme_elsewhere(app, name: str) -> None:
    """A programme created as another worker (or the CLI) would: not through this process."""
    with app.app_context():
        other = create_engine(db.engine.url, poolclass=NullPool)
        with other.begin() as conn:
            conn.execute(
                Programme.__table__.insert().values(
                    name=name, kind="matched", days=["mon"], local_time=time(9),
                    timezone="UTC", group_size=2, duration_minutes=15, lead_minutes=60,
                    cooldown_rounds=10, active=True, created_at=datetime.now(UTC),
                )
            )  # fmt: skip
        other.dispose()


def test_programmes_changed_here_show_at_once_and_elsewhere_within_seconds(
    app, client, monkeypatch
):
    clock = [1000.0]
    monkeypatch.setattr(per_process.time, "monotonic", lambda: clock[0])
    assert "Which coffee breaks?" not in client.get("/").get_data(as_text=True)  # one programme
    with app.app_context():  # a commit in this process (the admin pages, the CLI in-process)
        db.session.add(Programme(name="Tea at three", timezone="UTC"))
        db.session.commit()
    assert "Tea at three" in client.get("/").get_data(as_text=True)

    add_programme_elsewhere(app, "Walk and talk")
    clock[0] += programmes.PROGRAMMES_CACHE_SECONDS - 1
    assert "Walk and talk" not in client.get("/").get_data(as_text=True)
    clock[0] += 1
    assert "Walk and talk" in client.get("/").get_data(as_text=True)


def test_office_suggestions_are_read_again_after_a_minute(app, client, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(per_process.time, "monotonic", lambda: clock[0])
    with app.app_context():
        add_person("ana@example.org", "Research", office="Malmö")
    assert '<option value="Malmö">' in client.get("/").get_data(as_text=True)
    with app.app_context():
        add_person("ben@example.org", "Sales", office="Uppsala")
    clock[0] += optin.OFFICE_SUGGESTIONS_SECONDS - 1
    assert '<option value="Uppsala">' not in client.get("/").get_data(as_text=True)
    clock[0] += 1
    assert '<option value="Uppsala">' in client.get("/").get_data(as_text=True)


def test_a_programme_switched_off_elsewhere_is_refused_while_still_shown(app, client):
    with app.app_context():
        db.session.add(Programme(name="Tea at three", timezone="UTC"))
        db.session.commit()
        tea = db.session.scalar(select(Programme.id).where(Programme.name == "Tea at three"))
    assert "Tea at three" in client.get("/").get_data(as_text=True)
    with app.app_context():
        other = create_engine(db.engine.url, poolclass=NullPool)
        with other.begin() as conn:
            conn.execute(update(Programme.__table__).values(active=False).where(
                Programme.__table__.c.id == tea))  # fmt: skip
        other.dispose()
    page = client.post("/", data=GOOD | {"programmes_shown": "1", "programmes": str(tea)})
    assert page.status_code == 400 and "is not open to you" in page.get_data(as_text=True)
    assert people_count(app) == 0


def test_a_workers_threads_read_the_programmes_once_between_them(app):
    """When the copy is stale, one thread reads; the others wait for its copy (one connection)."""
    reads = []

    def slow_read(conn, cursor, statement, parameters, context, executemany):
        if "FROM programme" in statement:
            reads.append(statement)
            threading.Event().wait(0.2)  # a slow database: the other threads arrive meanwhile

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", slow_read)
    start, copies = threading.Barrier(6), []

    def view() -> None:
        with app.test_request_context("/"):
            start.wait()
            copies.append(programmes.cached_programmes())

    try:
        threads = [threading.Thread(target=view) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        event.remove(engine, "before_cursor_execute", slow_read)
    assert len(reads) == 1 and len(copies) == 6
    assert all(copy is copies[0] for copy in copies)
