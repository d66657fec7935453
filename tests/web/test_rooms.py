"""Drop-in coffee rooms end to end, on SQLite and PostgreSQL: admin, opt-in, invites, changes.

The invite goes through the real outbox and the local SMTP server, and the received email's
calendar is read back with two independent parsers (icalendar + recurring-ical-events, and
vobject + dateutil) as in tests/integrations/test_room.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from sqlalchemy import select

from core import changes
from core.changes import set_programmes
from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import Delivery, Person, Programme, ProgrammeMember, Round
from core.rounds import preview_round, run_round
from fika.tables import status_report
from integrations.payload import room_from_dict
from integrations.room_calendar import build_room_calendar
from jobs.clock import _active_programmes, tick
from tests.conftest import settings_of
from tests.core.helpers import add_person
from tests.integrations.test_room_calendar import with_icalendar, with_vobject
from tests.web.admin_support import admin_config, programme_form, sign_in
from web.config import current_settings, runtime_of

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ROOM_FORM = programme_form(
    "Daily coffee room",
    kind="drop_in",
    room_url="",
    days=["mon", "tue", "wed", "thu", "fri"],
)


@pytest.fixture
def app_config(app_config, smtp_server):
    """An admin, email through the local SMTP server, no outbox folder."""
    return {**admin_config(app_config), "FIKA_SMTP_URL": smtp_server.url(), "FIKA_OUTBOX_DIR": None}


def create_room(admin, **changes) -> int:
    """Create a drop-in programme through the admin form; its id."""
    form = {**ROOM_FORM, **changes}
    response = admin.post("/admin/programmes/new", data=form)
    assert response.status_code == 302, response.data
    return db.session.scalar(select(Programme.id).where(Programme.name == form["name"]))


def room_rows() -> list[Delivery]:
    """Every room delivery, oldest first."""
    query = select(Delivery).where(Delivery.kind == "room").order_by(Delivery.id)
    return list(db.session.scalars(query))


def versions() -> list[tuple[str, int, str]]:
    """(UID, SEQUENCE, METHOD) of every room row written, in order."""
    result = []
    for row in room_rows():
        calendar = icalendar.Calendar.from_ical(
            build_room_calendar(room_from_dict(row.payload["room"]))
        )
        event = calendar.walk("VEVENT")[0]
        result.append((str(event["UID"]), int(event["SEQUENCE"]), str(calendar["METHOD"])))
    return result


def deliver(app) -> None:
    """What the outbox worker does: send every due message through the app's channels."""
    with app.app_context():
        send_due(configured_channels(settings_of(app)))


def test_done_when_admin_creates_room_person_opts_in_gets_one_invite_and_a_nudge(
    app, make_app, admin, smtp_server, httpserver
):
    """The issue's Done-when: weekdays 10:00 Europe/Stockholm, one invite, a nudge before."""
    with app.app_context():
        room_id = create_room(admin)
    joined = app.test_client().post(
        "/",
        data={
            "name": "Ana Berg",
            "email": "ana@example.org",
            "department": "Research",
            "office": "Stockholm",
            "timezone": "America/New_York",
            "programmes_shown": "1",
            "programmes": [str(room_id)],
        },
    )
    assert joined.status_code == 200
    with app.app_context():
        (row,) = room_rows()
        assert row.channel == "email" and row.key.startswith("fika-room-")
        assert send_due(configured_channels(settings_of(app))).sent == 1
    (mail,) = smtp_server.messages
    assert mail.rcpt_tos == ["ana@example.org"]
    message = mail.message
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    calendar_part = list(alternative.iter_parts())[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "invite.ics"
    data = calendar_part.get_content()
    data = data.encode() if isinstance(data, str) else data
    assert attachment.get_content() == data
    # Months ahead, across the change to summer time on 28 March 2027: always 10:00 in Stockholm.
    start = datetime(2027, 3, 13, tzinfo=UTC)
    end = start + timedelta(days=60)
    first, second = with_icalendar(data, start, end), with_vobject(data, start, end)
    assert first == second and len(first) == 42
    assert {d.astimezone(STOCKHOLM).time() for d in first} == {time(10)}
    assert {d.astimezone(STOCKHOLM).weekday() for d in first} == set(range(5))
    assert {d.hour for d in first} == {8, 9}  # 09:00 UTC in winter, 08:00 UTC in summer
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["UID"]) == f"fika-room-{room_id}-" + str(event["UID"]).rsplit("-", 1)[1]
    with app.app_context():
        url = db.session.get(Programme, room_id).room_url
    assert url and str(event["LOCATION"]) == url  # generated once and stored

    # The nudge goes to the chat webhooks five minutes before the next session.
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    httpserver.expect_request("/teams", method="POST").respond_with_data("", status=202)
    hooked = make_app(
        FIKA_SLACK_WEBHOOK_URL=httpserver.url_for("/slack"),
        FIKA_TEAMS_WEBHOOK_URL=httpserver.url_for("/teams"),
    )
    monday = datetime(2026, 11, 30, 9, 56, tzinfo=STOCKHOLM)
    with time_machine.travel(monday, tick=False):
        tick(runtime_of(hooked))
        tick(runtime_of(hooked))  # a second tick (or clock) queues nothing more
        deliver(hooked)
    posted = {r.path: r for r, _ in httpserver.log}
    assert len(httpserver.log) == 2 and set(posted) == {"/slack", "/teams"}
    slack_text = posted["/slack"].get_json()["text"]
    assert "Coffee room opens in 5 minutes — join from the office or from home" in slack_text
    assert url in slack_text
    card = posted["/teams"].get_json()["attachments"][0]["content"]
    assert card["actions"][0]["url"] == url
    # The once-a-day claim behind the nudge is not a round: the admin's list leaves it out.
    with app.app_context():
        assert Round.NUDGED in db.session.scalars(select(Round.status)).all()
        assert Round.NUDGED not in status_report(monday)  # nor does `fika status`
    next_rounds, past_rounds = admin.get("/admin/rounds").get_data(as_text=True).split("<table")[1:]
    assert "Daily coffee room" not in past_rounds and Round.NUDGED not in past_rounds
    assert f"programme={room_id}" not in next_rounds  # and offers no preview of what cannot be


def test_update_pause_resume_leave_and_rejoin_keep_the_uid_and_raise_the_sequence(app, admin):
    with app.app_context():
        room_id = create_room(admin)
        ana = add_person("ana@example.org", "Research")
        set_programmes(current_settings(), ana, [room_id])
        db.session.commit()
        uid = f"fika-room-{room_id}-{ana.id}"
        assert versions() == [(uid, 0, "REQUEST")]
    # The admin moves the room to 10:30: every subscriber gets an update.
    assert admin.post(f"/admin/programmes/{room_id}", data={**ROOM_FORM, "local_time": "10:30"})
    with app.app_context():
        assert versions()[-1] == (uid, 1, "REQUEST")
        update = room_from_dict(room_rows()[-1].payload["room"])
        assert update.local_time == time(10, 30)
        # Saving unchanged sends nothing.
        admin.post(f"/admin/programmes/{room_id}", data={**ROOM_FORM, "local_time": "10:30"})
        assert len(versions()) == 2
        # A two-week pause: an update listing the paused programme days as EXDATEs.
        ana = db.session.get(Person, ana.id)
        now = datetime(2026, 11, 30, 7, tzinfo=UTC)  # Monday
        changes.pause(current_settings(), ana, date(2026, 12, 14), now=now)
        paused = room_from_dict(room_rows()[-1].payload["room"])
        assert versions()[-1] == (uid, 2, "REQUEST")
        assert len(paused.exdates) == 10 and paused.exdates[0] == date(2026, 11, 30)
        assert all(d.weekday() < 5 and d < date(2026, 12, 14) for d in paused.exdates)
        calendar = build_room_calendar(paused)
        start = datetime(2026, 11, 29, tzinfo=UTC)
        seen = with_icalendar(calendar, start, start + timedelta(days=21))
        assert seen == with_vobject(calendar, start, start + timedelta(days=21))
        assert min(seen).date() == date(2026, 12, 14)  # nothing during the pause
        # Ending the pause early gives the paused days back.
        changes.resume(current_settings(), db.session.get(Person, ana.id), now=now)
        resumed = room_from_dict(room_rows()[-1].payload["room"])
        assert versions()[-1] == (uid, 3, "REQUEST") and resumed.exdates == ()
        changes.resume(
            current_settings(), db.session.get(Person, ana.id), now=now
        )  # not paused: nothing to send
        assert versions()[-1] == (uid, 3, "REQUEST")
        # Leaving Fika cancels the series.
        changes.leave(current_settings(), db.session.get(Person, ana.id), now=now)
        assert versions()[-1] == (uid, 4, "CANCEL")
        assert db.session.get(ProgrammeMember, (room_id, ana.id)) is None
        # Coming back continues the series above the cancel, so calendars accept it.
        ana = db.session.get(Person, ana.id)
        ana.preference.active = True
        set_programmes(current_settings(), ana, [room_id])
        db.session.commit()
        assert versions()[-1] == (uid, 5, "REQUEST")
    # Switching the programme off cancels it for every subscriber.
    admin.post(f"/admin/programmes/{room_id}", data={**ROOM_FORM, "active": ""})
    with app.app_context():
        assert versions()[-1] == (uid, 6, "CANCEL")
        assert len({r.key for r in room_rows()}) == len(room_rows())  # every version its own key


def test_erase_and_unsubscribing_from_the_room_send_a_cancel(app, admin):
    with app.app_context():
        room_id = create_room(admin)
        default_id = db.session.scalar(select(Programme.id).order_by(Programme.id))
        ben = add_person("ben@example.org", "Sales", office=None)
        cai = add_person("cai@example.org", "Legal")
        set_programmes(current_settings(), ben, [room_id])
        set_programmes(current_settings(), cai, [room_id, default_id])
        db.session.commit()
        set_programmes(current_settings(), cai, [default_id])  # unsubscribes from the room only
        db.session.commit()
        assert versions()[-1] == (f"fika-room-{room_id}-{cai.id}", 1, "CANCEL")
        ben_id = ben.id
        changes.erase(current_settings(), ben)
        rows = room_rows()
        assert versions()[-1] == (f"fika-room-{room_id}-{ben_id}", 1, "CANCEL")
        assert rows[-1].person_id is None and rows[-1].recipient == "ben@example.org"
        assert db.session.get(Person, ben_id) is None


def test_bad_admin_input_is_refused_with_the_fields_message(app, admin):
    cases = [
        ({"days": []}, b"Choose at least one day."),
        ({"timezone": "Mars/Olympus"}, b"Unknown time zone"),
        ({"room_url": "http://meet.example.org/room"}, b"Give an https:// link to the room"),
        ({"room_url": "javascript:alert(1)"}, b"Give an https:// link to the room"),
        ({"kind": "lottery"}, b"Choose matched, drop-in room or learning teams."),
    ]
    for change, message in cases:
        response = admin.post("/admin/programmes/new", data={**ROOM_FORM, **change})
        assert response.status_code == 400, change
        assert message in response.data, change
    with app.app_context():
        assert db.session.scalar(select(Programme).where(Programme.kind == "drop_in")) is None
    pasted = {"room_url": "https://teams.microsoft.com/l/meetup-join/abc"}
    assert admin.post("/admin/programmes/new", data={**ROOM_FORM, **pasted}).status_code == 302


def test_drop_in_programmes_are_never_matched(app, admin):
    with app.app_context():
        room_id = create_room(admin)
        room = db.session.get(Programme, room_id)
        for person in ("ana", "ben", "cai", "dee"):
            set_programmes(
                current_settings(), add_person(f"{person}@example.org", "Research"), [room_id]
            )
        db.session.commit()
        monday = date(2026, 11, 30)
        outcome = run_round(current_settings(), room, monday)
        assert not outcome.created and "drop-in room" in outcome.message
        assert preview_round(current_settings(), room, monday).plan is None
        assert db.session.scalar(select(Round)) is None
        assert room_id not in {p.id for p in _active_programmes()}
    response = admin.get(f"/admin/rounds/preview?programme={room_id}&date=2026-11-30")
    assert response.status_code == 400 and b"drop-in room" in response.data


def test_nudge_fires_on_programme_days_only_and_not_on_holidays(app, make_app, admin, httpserver):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    hooked = make_app(FIKA_SLACK_WEBHOOK_URL=httpserver.url_for("/slack"))
    with app.app_context():
        room_id = create_room(admin, days=["mon", "wed"])
        holiday_id = create_room(
            admin, name="Holiday room", days=["wed"], room_url="https://x.example/r"
        )

    def nudges_at(local: datetime) -> int:
        before = len(httpserver.log)
        with time_machine.travel(local, tick=False):
            tick(runtime_of(hooked))
            deliver(hooked)
        return len(httpserver.log) - before

    assert nudges_at(datetime(2027, 1, 4, 9, 54, tzinfo=STOCKHOLM)) == 0  # Monday, too early
    assert nudges_at(datetime(2027, 1, 4, 9, 55, tzinfo=STOCKHOLM)) == 1  # Monday: room only
    assert nudges_at(datetime(2027, 1, 4, 9, 58, tzinfo=STOCKHOLM)) == 0  # once a day
    assert nudges_at(datetime(2027, 1, 5, 9, 56, tzinfo=STOCKHOLM)) == 0  # Tuesday: no day
    assert nudges_at(datetime(2027, 1, 6, 9, 56, tzinfo=STOCKHOLM)) == 0  # Epiphany holiday
    assert nudges_at(datetime(2027, 1, 13, 10, 1, tzinfo=STOCKHOLM)) == 0  # already open
    assert nudges_at(datetime(2027, 1, 20, 9, 57, tzinfo=STOCKHOLM)) == 2  # Wednesday: both
    with app.app_context():
        nudged = db.session.scalars(select(Round).where(Round.status == "nudged")).all()
        assert sorted((r.programme_id, r.date) for r in nudged) == sorted(
            [
                (room_id, date(2027, 1, 4)),
                (room_id, date(2027, 1, 20)),
                (holiday_id, date(2027, 1, 20)),
            ]
        )


def test_forms_list_drop_in_rooms_and_insights_count_subscribers(app, admin):
    with app.app_context():
        room_id = create_room(admin)
        ana = add_person("ana@example.org", "Research")
        ben = add_person("ben@example.org", "Sales", office=None)
        cai = add_person("cai@example.org", "Legal", office="Oslo")
        ids = ana.id, ben.id, cai.id
    page = app.test_client().get("/")
    assert b"Daily coffee room" in page.data and b"drop-in room, 10:00" in page.data
    for person_id in ids:
        client = app.test_client()
        sign_in(client, _person(app, person_id))
        shown = client.get("/me/preferences")
        assert b"Daily coffee room" in shown.data and b"Daily digital coffee break" in shown.data
        form = _preferences_form()
        saved = client.post(
            "/me/preferences", data={**form, "programmes_shown": "1", "programmes": [str(room_id)]}
        )
        assert saved.status_code == 302, saved.data
    refused = client.post("/me/preferences", data={**form, "programmes_shown": "1"})
    assert refused.status_code == 400 and b"Choose at least one programme" in refused.data
    with app.app_context():
        assert len(room_rows()) == 3
    insights = admin.get("/admin/insights")
    assert insights.status_code == 200
    text = insights.data.decode()
    assert "Daily coffee room: 3 subscribed" in text
    for office in ("Stockholm", "Oslo", "remote"):
        assert f'<th scope="row">{office}</th><td>1</td>' in text


def _person(app, person_id: int) -> Person:
    with app.app_context():
        return db.session.get(Person, person_id)


def _preferences_form() -> dict:
    """The preference fields as the page fills them (enough for a valid POST)."""
    return {
        "mode": "either",
        "timezone": "Europe/Stockholm",
        "work_start": "09:00",
        "work_end": "17:00",
        "frequency": "daily",
        "group_size_pref": "small_groups",
        "topics": "",
        "share_topics": "",
        **{f"day_{d}": "y" for d in ("mon", "tue", "wed", "thu", "fri")},
        **{f"site_{d}": "remote" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    }


def test_a_nudge_the_worker_could_not_send_before_the_room_opened_is_not_sent(
    app, make_app, admin, httpserver
):
    """The nudge says "opens in 5 minutes": after the opening it would only confuse."""
    hooked = make_app(FIKA_SLACK_WEBHOOK_URL=httpserver.url_for("/slack"))
    with app.app_context():
        create_room(admin, days=["mon"])
    with time_machine.travel(datetime(2027, 1, 4, 9, 56, tzinfo=STOCKHOLM), tick=False):
        tick(runtime_of(hooked))  # queued; the worker is down until after 10:00
    with time_machine.travel(datetime(2027, 1, 4, 10, 1, tzinfo=STOCKHOLM), tick=False):
        deliver(hooked)
    assert httpserver.log == []
    with app.app_context():
        (row,) = db.session.scalars(select(Delivery).where(Delivery.kind == "room_nudge"))
        assert (row.status, row.last_error) == ("dead", "too late: it expired (room_nudge)")
