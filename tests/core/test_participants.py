"""Who takes part in a round: frequency caps, one-to-one wishes, meetings already in calendars."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import integrations.catalogue
from core.db import db
from core.models import Programme, ProgrammeMember
from core.participants import eligible_people
from core.programmes import ensure_default_programme
from core.rounds import preview_round, run_round
from integrations.base import DeliveryError
from tests.core.helpers import add_person
from web.config import current_settings

MONDAY = date(2030, 1, 7)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_frequency_caps_count_the_seven_days_before(app):
    with app.app_context():
        daily = add_person("daily@example.org", "Sales")
        weekly = add_person("weekly@example.org", "Legal", frequency="weekly")
        few = add_person("few@example.org", "Research", frequency="few_per_week")
        add_person("other@example.org", "Design")
        programme = ensure_default_programme(current_settings().timezone)
        everyone = {daily.id, weekly.id, few.id}
        assert everyone <= {p.id for p in eligible_people(MONDAY)}
        run_round(current_settings(), programme, MONDAY)
        tuesday = {p.id for p in eligible_people(MONDAY + timedelta(days=1))}
        assert daily.id in tuesday and few.id in tuesday and weekly.id not in tuesday
        run_round(current_settings(), programme, MONDAY + timedelta(days=1))
        wednesday = {p.id for p in eligible_people(MONDAY + timedelta(days=2))}
        assert daily.id in wednesday and few.id not in wednesday and weekly.id not in wednesday
        next_monday = {p.id for p in eligible_people(MONDAY + timedelta(days=8))}
        assert everyone <= next_monday  # the window has moved on


def test_one_to_one_people_sit_out_group_programmes(app):
    with app.app_context():
        solo = add_person("solo@example.org", "Sales", group_size_pref="one_to_one")
        others = [
            add_person(f"p{i}@example.org", dept)
            for i, dept in enumerate(["Legal", "Research", "Design", "Ops"])
        ]
        default = ensure_default_programme(current_settings().timezone)
        teams = Programme(name="Learning teams", group_size=4, timezone="Europe/Stockholm")
        db.session.add(teams)
        db.session.flush()
        for person in [solo, *others]:  # everyone signed up for both
            db.session.add(ProgrammeMember(programme_id=default.id, person_id=person.id))
            db.session.add(ProgrammeMember(programme_id=teams.id, person_id=person.id))
        db.session.commit()
        pairs = preview_round(
            current_settings(), ensure_default_programme(current_settings().timezone), MONDAY
        )
        assert str(solo.id) in pairs.people
        groups = preview_round(current_settings(), teams, MONDAY)
        assert str(solo.id) not in groups.people and len(groups.people) == 4


def test_calendar_meetings_move_the_slot(app, monkeypatch):
    with app.app_context():
        ana = add_person("ana@example.org", "Sales")
        add_person("ben@example.org", "Legal")
        meeting = (
            datetime(2030, 1, 7, 9, tzinfo=STOCKHOLM).astimezone(UTC),
            datetime(2030, 1, 7, 16, tzinfo=STOCKHOLM).astimezone(UTC),
        )
        asked = []

        def fetch(emails, start, end):
            asked.append((sorted(emails), start, end))
            return {"ana@example.org": [meeting]}

        monkeypatch.setattr(integrations.catalogue, "busy_source", lambda config: fetch)
        (group,) = preview_round(
            current_settings(), ensure_default_programme(current_settings().timezone), MONDAY
        ).plan.groups
        local = group.start.astimezone(STOCKHOLM)
        assert time(16) <= local.time() and group.end.astimezone(STOCKHOLM).time() <= time(17)
        (emails, start, end) = asked[0]
        assert emails == ["ana@example.org", "ben@example.org"]
        assert start <= datetime(2030, 1, 7, tzinfo=UTC) - timedelta(hours=12)
        assert end >= datetime(2030, 1, 8, tzinfo=UTC) + timedelta(hours=12)
        assert ana.email in str(asked)


def test_a_failing_free_busy_service_does_not_stop_the_round(app, monkeypatch):
    with app.app_context():
        add_person("ana@example.org", "Sales")
        add_person("ben@example.org", "Legal")

        def broken(emails, start, end):
            raise DeliveryError("HTTP 503 from Graph", transient=True)

        monkeypatch.setattr(integrations.catalogue, "busy_source", lambda config: broken)
        assert (
            len(
                preview_round(
                    current_settings(),
                    ensure_default_programme(current_settings().timezone),
                    MONDAY,
                ).plan.groups
            )
            == 1
        )


def test_learning_teams_form_groups_around_the_programme_topic(app):
    with app.app_context():
        teams = Programme(
            name="Learning teams", group_size=3, timezone="Europe/Stockholm", topic="data"
        )
        db.session.add(teams)
        db.session.flush()
        people = [
            add_person(f"t{i}@example.org", dept)
            for i, dept in enumerate(["Legal", "Research", "Design", "Ops", "Sales", "People"])
        ]
        for person in people:
            db.session.add(ProgrammeMember(programme_id=teams.id, person_id=person.id))
        db.session.commit()
        plan = preview_round(current_settings(), teams, MONDAY).plan
        assert sorted(len(g.members) for g in plan.groups) == [3, 3]
        for group in plan.groups:
            assert any("data" in reason for reason in group.reasons), group.reasons


def test_candidates_read_the_json_columns_as_the_rows_hold_them(app):
    """The bulk decode of the preference's JSON columns gives what the ORM row reads, value for
    value: nested dicts, unicode, quotes, empty lists and JSON null alike."""
    from sqlalchemy import select, update

    from core.models import Preference
    from core.participants import active_candidates

    with app.app_context():
        add_person(
            "ana@example.org",
            "Sales",
            weekday_sites={"mon": "Göteborg", "fri": "home"},
            topics=["kaffe ☕", 'quotes "and" \\ slashes'],
            avoid=[3, 4],
            share_topics=["Rust"],
        )
        add_person("ben@example.org", "Legal", days=["tue"], topics=[], avoid=[])
        nulls = add_person("cy@example.org", "Design")
        add_person("off@example.org", "Design", active=False)
        db.session.execute(
            update(Preference)
            .where(Preference.person_id == nulls.id)
            .values(weekday_sites=None, avoid=None)  # JSON null (the columns are NOT NULL)
        )
        db.session.commit()
        db.session.expire_all()
        rows = {p.person_id: p for p in db.session.scalars(select(Preference))}
        candidates = active_candidates()
        assert [c.id for c in candidates] == sorted(p for p, r in rows.items() if r.active)
        for candidate in candidates:
            row = rows[candidate.id]
            for name in ("weekday_sites", "days", "topics", "avoid", "share_topics"):
                assert getattr(candidate.preference, name) == getattr(row, name), name
        assert candidates[0].preference.weekday_sites["mon"] == "Göteborg"
