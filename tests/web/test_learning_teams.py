"""Learning-team programmes end to end, on SQLite and PostgreSQL.

40 people join a programme around a topic through the API; the first round forms the teams
(right size, a sharer in each, across departments) and queues one recurring invite per member;
a round two weeks later changes nothing; a late joiner goes into a team with room; a member
leaving updates the others' series (same UID, SEQUENCE + 1) and cancels theirs. The invites are
read back from the outbox rows' calendars with icalendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import func, select

from core import changes
from core.db import db
from core.learning_teams import teams_of
from core.models import Delivery, GroupMember, Person, Programme, Round
from core.rounds import run_round
from integrations.payload import room_from_dict
from integrations.room_calendar import build_room_calendar
from tests.conftest import settings_of
from tests.core.helpers import add_person
from tests.web.admin_support import admin_config, programme_form

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DEPARTMENTS = ("Sales", "Research", "Finance", "Support", "Design")
TOPIC = "Python"
PROGRAMME = {
    "name": "Python learning teams",
    "kind": "learning_team",
    "topic": TOPIC,
    "group_size": 6,
    "days": ["thu"],
    "local_time": "15:00",
    "timezone": "Europe/Stockholm",
    "duration_minutes": 60,
    "cadence": "biweekly",
    "starts_on": "2027-01-04",
    "ends_on": "2027-03-25",
}
FIRST_ROUND = date(2027, 1, 4)
FIRST_MEETING = datetime(2027, 1, 7, 15, 0, tzinfo=STOCKHOLM)


@pytest.fixture
def app_config(app_config):
    """An admin for the form tests; invites go to the outbox folder (a per-person channel)."""
    return admin_config(app_config)


def forty_people() -> list[str]:
    """30 who want to learn the topic, 6 who can share it, 4 who do neither; 5 departments."""
    emails = []
    for n in range(40):
        if n < 30:
            wishes = {"topics": [TOPIC]}
        elif n < 36:
            wishes = {"share_topics": ["python"]}  # compared without case
        else:
            wishes = {"topics": ["Cooking"]}
        email = f"p{n:02d}@example.org"
        add_person(email, DEPARTMENTS[n % 5], hours=(8, 18), **wishes)
        emails.append(email)
    return emails


def team_rows() -> list[Delivery]:
    """Every recurring-invite row (rooms and teams), oldest first."""
    query = select(Delivery).where(Delivery.kind == "room").order_by(Delivery.id)
    return list(db.session.scalars(query))


def calendar_of(row: Delivery):
    """The VCALENDAR a row's message carries, parsed back."""
    return icalendar.Calendar.from_ical(build_room_calendar(room_from_dict(row.payload["room"])))


def version(row: Delivery) -> tuple[str, int, str]:
    """(UID, SEQUENCE, METHOD) of a row's calendar."""
    calendar = calendar_of(row)
    event = calendar.walk("VEVENT")[0]
    return str(event["UID"]), int(event["SEQUENCE"]), str(calendar["METHOD"])


def members_by_team() -> dict[int, set[str]]:
    """Each team's member emails, by team id."""
    result: dict[int, set[str]] = {}
    for team in teams_of(
        db.session.scalar(select(Programme).where(Programme.kind == "learning_team"))
    ):
        emails = db.session.scalars(
            select(Person.email)
            .join(GroupMember, GroupMember.person_id == Person.id)
            .where(GroupMember.group_id == team.id)
        )
        result[team.id] = set(emails)
    return result


def test_forty_people_form_teams_once_and_a_leaver_updates_the_series(app, api):
    client, auth = api
    created = client.post("/api/v1/programmes", json=PROGRAMME, headers=auth)
    assert created.status_code == 201, created.json
    programme_id = created.json["id"]
    assert created.json["ends_on"] == "2027-03-25" and created.json["kind"] == "learning_team"
    with app.app_context():
        emails = forty_people()
    added = client.post(
        f"/api/v1/programmes/{programme_id}/members", json={"emails": emails}, headers=auth
    )
    assert added.status_code == 200 and len(added.json["added"]) == 40
    settings = settings_of(app)

    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        outcome = run_round(
            settings, programme, FIRST_ROUND, now=datetime(2027, 1, 4, 9, tzinfo=UTC)
        )
        assert outcome.created, outcome.message
        teams = members_by_team()
        # The 36 who learn or share the topic, in 6 teams of 6; the 4 others wait outside.
        assert sorted(len(m) for m in teams.values()) == [6] * 6
        placed = set().union(*teams.values())
        assert placed == set(emails[:36])
        people = {p.email: p for p in db.session.scalars(select(Person))}
        for members in teams.values():
            assert any(people[e].preference.share_topics == ["python"] for e in members)
            assert len({people[e].department for e in members}) >= 2
        for team in teams_of(programme):
            assert team.start_at == FIRST_MEETING.astimezone(UTC)
        rows = team_rows()
        assert len(rows) == 36  # one invite per member (one per-person channel)
        assert {version(r)[1:] for r in rows} == {(0, "REQUEST")}
        assert len({version(r)[0] for r in rows}) == 6  # one series per team
        event = calendar_of(rows[0]).walk("VEVENT")[0]
        rule = event["RRULE"]
        assert rule["FREQ"] == ["WEEKLY"] and rule["INTERVAL"] == [2] and rule["BYDAY"] == ["TH"]
        (until,) = rule["UNTIL"]
        assert until.tzinfo is not None and until.astimezone(STOCKHOLM).date() == date(2027, 3, 25)
        assert event.decoded("DTSTART") == FIRST_MEETING
        assert str(event["TRANSP"]) == "OPAQUE"
        assert TOPIC in str(event["DESCRIPTION"]) and "until Thursday 25 March 2027" in str(
            event["DESCRIPTION"]
        )
        rounds = db.session.scalar(select(func.count()).select_from(Round))

        # Two weeks later: the teams stay, nothing is written.
        later = run_round(settings, programme, date(2027, 1, 18))
        assert not later.created and "nothing to do" in later.message
        assert members_by_team() == teams
        assert len(team_rows()) == 36
        assert db.session.scalar(select(func.count()).select_from(Round)) == rounds

        # A member leaves: the others' series is updated, theirs cancelled.
        leaver = db.session.scalar(select(Person).where(Person.email == emails[0]))
        team_id = next(t for t, m in teams.items() if emails[0] in m)
        uid = next(t.uid for t in teams_of(programme) if t.id == team_id)
        changes.leave(settings, leaver, now=datetime(2027, 1, 10, 9, tzinfo=UTC))
        new = team_rows()[36:]
        assert len(new) == 6
        by_recipient = {r.recipient: version(r) for r in new}
        assert by_recipient[emails[0]] == (uid, 1, "CANCEL")
        others = teams[team_id] - {emails[0]}
        assert {e: by_recipient[e] for e in others} == {e: (uid, 1, "REQUEST") for e in others}
        update = next(r for r in new if r.recipient != emails[0])
        attendees = str(calendar_of(update).walk("VEVENT")[0]["DESCRIPTION"])
        assert leaver.name not in attendees
        assert len(members_by_team()[team_id]) == 5

        # A late joiner who wants to learn the topic goes into the team with room.
        late_id = add_person("late@example.org", "Research", hours=(8, 18), topics=[TOPIC]).id
    added = client.post(
        f"/api/v1/programmes/{programme_id}/members",
        json={"emails": ["late@example.org"]},
        headers=auth,
    )
    assert added.status_code == 200
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        joined = run_round(settings, programme, date(2027, 1, 18))
        assert joined.created, joined.message
        after = members_by_team()
        assert sorted(len(m) for m in after.values()) == [6] * 6
        assert "late@example.org" in after[team_id]
        newest = team_rows()[42:]
        assert {version(r) for r in newest} == {(uid, 2, "REQUEST")}
        assert {r.recipient for r in newest} == after[team_id]
        assert late_id in {m.person_id for m in db.session.scalars(select(GroupMember))}

    # The teams API lists the teams with their members' emails and who can share.
    listing = client.get(f"/api/v1/programmes/{programme_id}/teams", headers=auth)
    assert listing.status_code == 200
    body = listing.json
    assert body["topic"] == TOPIC and body["ends_on"] == "2027-03-25"
    assert len(body["teams"]) == 6
    assert {frozenset(t["emails"]) for t in body["teams"]} == {frozenset(m) for m in after.values()}
    for team in body["teams"]:
        assert any(m["sharer"] for m in team["members"])
        assert team["start"] == FIRST_MEETING.astimezone(UTC).isoformat()
        assert team["sequence"] >= 0 and team["ends_on"] == "2027-03-25"


def test_the_teams_api_refuses_unknown_and_other_programmes(app, api):
    client, auth = api
    assert client.get("/api/v1/programmes/999/teams", headers=auth).status_code == 404
    other = client.get("/api/v1/programmes/1/teams", headers=auth)
    assert other.status_code == 409 and "no teams" in other.json["error"]
    assert client.get("/api/v1/programmes/1/teams").status_code == 401
    document = client.get("/api/openapi.json").json
    assert "/api/v1/programmes/{programme_id}/teams" in document["paths"]
    fields = document["components"]["schemas"]["ProgrammeInput"]["properties"]
    assert "learning_team" in fields["kind"]["enum"] and "ends_on" in fields


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"ends_on": "2027-01-04"}, "ends_on", "The end must be after the start."),
        ({"ends_on": "2026-12-01"}, "ends_on", "The end must be after the start."),
        ({"ends_on": None}, "ends_on", "the deadline"),
        ({"starts_on": None}, "starts_on", "start"),
        ({"group_size": 2}, "group_size", "3 to 8"),
        ({"days": ["mon", "thu"]}, "days", "one day"),
        ({"topic": ""}, "topic", "topic"),
        ({"ends_on": "2027-02-30"}, "ends_on", "YYYY-MM-DD"),
        ({"ends_on": "2030-01-01"}, "ends_on", "52 weeks"),
    ],
)
def test_the_api_refuses_a_bad_learning_team_with_a_reason(app, api, change, field, reason):
    client, auth = api
    response = client.post("/api/v1/programmes", json={**PROGRAMME, **change}, headers=auth)
    assert response.status_code == 422, response.json
    problems = {e["field"]: e["reason"] for e in response.json["errors"]}
    assert field in problems and reason in problems[field], problems
    with app.app_context():
        assert db.session.scalar(select(Programme).where(Programme.kind == "learning_team")) is None


LEARNING_FORM = programme_form(
    "Rust circle",
    kind="learning_team",
    topic="Rust",
    days=["wed"],
    group_size="5",
    cadence="weekly",
    starts_on="2027-02-01",
    ends_on="2027-04-30",
)


def test_the_admin_form_sets_a_learning_team_and_re_renders_bad_ones(app, admin):
    bad = admin.post("/admin/programmes/new", data={**LEARNING_FORM, "ends_on": "2027-01-15"})
    assert bad.status_code == 400 and b"The end must be after the start." in bad.data
    bad = admin.post("/admin/programmes/new", data={**LEARNING_FORM, "group_size": "2"})
    assert bad.status_code == 400 and b"A learning team has 3 to 8 people." in bad.data
    with app.app_context():
        assert db.session.scalar(select(Programme).where(Programme.name == "Rust circle")) is None
    saved = admin.post("/admin/programmes/new", data=LEARNING_FORM)
    assert saved.status_code == 302, saved.data
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.name == "Rust circle"))
        assert programme.kind == "learning_team" and programme.group_size == 5
        assert (programme.starts_on, programme.ends_on) == (date(2027, 2, 1), date(2027, 4, 30))
        assert programme.local_time == time(10)
        page = admin.get(f"/admin/programmes/{programme.id}")
        assert b'value="2027-04-30"' in page.data


def test_a_matched_programme_ignores_the_frame(app, api):
    client, auth = api
    body = {"name": "Coffee", "starts_on": None, "ends_on": None}
    assert client.post("/api/v1/programmes", json=body, headers=auth).status_code == 201


def test_fika_round_forms_the_teams_then_is_a_no_op(app, database_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from fika.cli import cli

    with app.app_context():
        programme = Programme(
            name="Go circle",
            kind="learning_team",
            topic="Go",
            group_size=4,
            days=["tue"],
            local_time=time(14),
            timezone="Europe/Stockholm",
            duration_minutes=45,
            starts_on=date(2027, 1, 4),
            ends_on=date(2027, 2, 26),
        )
        db.session.add(programme)
        db.session.commit()
        for n in range(8):
            wishes = {"share_topics": ["Go"]} if n < 2 else {"topics": ["go"]}
            person = add_person(f"g{n}@example.org", DEPARTMENTS[n % 4], hours=(8, 18), **wishes)
            changes.set_programmes(settings_of(app), person, [programme.id])
            db.session.commit()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIKA_INSTANCE_PATH", str(tmp_path / "cli-instance"))
    monkeypatch.setenv("FIKA_OUTBOX_DIR", str(tmp_path / "cli-outbox"))
    monkeypatch.setenv("FIKA_ENV", "test")

    def fika(*args):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    first = fika("round", "--programme", "Go circle", "--date", "2027-01-04")
    assert first.exit_code == 0, first.output
    assert "new teams: 2, joined a team: 0, waiting: 0" in first.output
    again = fika("round", "--programme", "Go circle", "--date", "2027-01-18")
    assert again.exit_code == 0 and "the teams are formed (2), nobody waits" in again.output
    with app.app_context():
        teams = members_by_team()
        assert sorted(len(m) for m in teams.values()) == [4, 4]
        calendar = calendar_of(team_rows()[0])
        rule = calendar.walk("VEVENT")[0]["RRULE"]
        assert "INTERVAL" not in rule and rule["BYDAY"] == ["TU"]  # weekly


def test_changing_the_programme_updates_every_series_and_switching_off_cancels(app, api):
    client, auth = api
    body = {**PROGRAMME, "group_size": 4, "cadence": "weekly"}
    programme_id = client.post("/api/v1/programmes", json=body, headers=auth).json["id"]
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        for n in range(8):
            wishes = {"share_topics": [TOPIC]} if n < 2 else {"topics": [TOPIC]}
            person = add_person(f"c{n}@example.org", DEPARTMENTS[n % 4], hours=(8, 18), **wishes)
            changes.set_programmes(settings_of(app), person, [programme_id])
            db.session.commit()
        assert run_round(settings_of(app), programme, FIRST_ROUND).created
        assert {version(r)[1:] for r in team_rows()} == {(0, "REQUEST")}
    # Renaming nothing that the series shows changes nothing.
    same = client.put(f"/api/v1/programmes/{programme_id}", json={"offices": []}, headers=auth)
    assert same.status_code == 200
    with app.app_context():
        assert len(team_rows()) == 8
    moved = client.put(
        f"/api/v1/programmes/{programme_id}", json={"local_time": "16:30"}, headers=auth
    )
    assert moved.status_code == 200
    with app.app_context():
        updates = team_rows()[8:]
        assert {version(r)[1:] for r in updates} == {(1, "REQUEST")} and len(updates) == 8
        event = calendar_of(updates[0]).walk("VEVENT")[0]
        assert event.decoded("DTSTART") == datetime(2027, 1, 7, 16, 30, tzinfo=STOCKHOLM)
    off = client.delete(f"/api/v1/programmes/{programme_id}", headers=auth)
    assert off.status_code == 200
    with app.app_context():
        cancels = team_rows()[16:]
        assert {version(r)[1:] for r in cancels} == {(2, "CANCEL")} and len(cancels) == 8
        assert teams_of(db.session.get(Programme, programme_id)) == []


def test_the_admin_preview_explains_learning_teams_instead_of_planning(app, admin):
    saved = admin.post("/admin/programmes/new", data=LEARNING_FORM)
    assert saved.status_code == 302
    with app.app_context():
        programme_id = db.session.scalar(
            select(Programme.id).where(Programme.name == "Rust circle")
        )
    page = admin.get(f"/admin/rounds/preview?programme={programme_id}&date=2027-02-01")
    assert page.status_code == 400
    assert b"learning teams are formed by the first round" in page.data


def test_erasing_a_member_cancels_their_series_and_forgets_them_in_the_others(app, api):
    client, auth = api
    body = {**PROGRAMME, "group_size": 4, "cadence": "weekly"}
    programme_id = client.post("/api/v1/programmes", json=body, headers=auth).json["id"]
    settings = settings_of(app)
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        for n in range(4):
            wishes = {"share_topics": [TOPIC]} if n == 0 else {"topics": [TOPIC]}
            person = add_person(f"member{n}@example.org", DEPARTMENTS[n], hours=(8, 18), **wishes)
            changes.set_programmes(settings, person, [programme_id])
            db.session.commit()
        assert run_round(settings, programme, FIRST_ROUND).created
        gone = db.session.scalar(select(Person).where(Person.email == "member1@example.org"))
        name = gone.name
        changes.erase(settings, gone, now=datetime(2027, 1, 5, 9, tzinfo=UTC))
        db.session.commit()
        rows = team_rows()
        cancel = [r for r in rows if r.recipient == "member1@example.org"]
        assert [version(r)[1:] for r in cancel] == [(1, "CANCEL")]
        assert cancel[0].person_id is None  # detached: it outlives the person row
        updates = [r for r in rows if version(r)[1:] == (1, "REQUEST")]
        assert sorted(r.recipient for r in updates) == [f"member{n}@example.org" for n in (0, 2, 3)]
        for row in rows:
            if row.recipient != "member1@example.org":
                assert name not in str(row.payload) and "member1@example.org" not in str(
                    row.payload
                )
        assert len(members_by_team()[teams_of(programme)[0].id]) == 3


def test_no_one_break_reminder_or_did_you_meet_for_a_team(app, api):
    from core.checkins import queue_checkins
    from core.reminders import queue_reminders

    client, auth = api
    body = {**PROGRAMME, "group_size": 4, "cadence": "weekly"}
    programme_id = client.post("/api/v1/programmes", json=body, headers=auth).json["id"]
    settings = settings_of(app)
    with app.app_context():
        for n in range(4):
            wishes = {"share_topics": [TOPIC]} if n == 0 else {"topics": [TOPIC]}
            person = add_person(f"r{n}@example.org", DEPARTMENTS[n], hours=(8, 18), **wishes)
            changes.set_programmes(settings, person, [programme_id])
            db.session.commit()
        programme = db.session.get(Programme, programme_id)
        assert run_round(settings, programme, FIRST_MEETING.date()).created
        before = len(team_rows())
        assert queue_reminders(settings, FIRST_MEETING.astimezone(UTC) - timedelta(minutes=5)) == 0
        assert queue_checkins(settings, datetime(2027, 1, 8, 12, tzinfo=UTC)) == 0
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == before


def test_the_learning_preset_starts_a_learning_team_programme(app, admin):
    page = admin.get("/admin/programmes/new?preset=learning")
    assert page.status_code == 200
    assert b'<option selected value="learning_team">' in page.data
