"""The signed-in pages: my coffee breaks, preferences, pause and leave, each bad input refused
(4xx, nothing changed), and every route acting on the signed-in person only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.db import db
from core.models import WEEKDAYS, Delivery, Group, GroupMember, Person, Round
from core.programmes import ensure_default_programme
from core.rounds import run_round
from tests.core.helpers import add_person
from web.config import current_settings


def sign_in_as(client, person_id: int) -> None:
    with client.session_transaction() as session:
        session["person_id"] = person_id


def people(app) -> dict[str, int]:
    """Ana (Research, Stockholm), Ben (Sales, remote, New York), Cai (Legal), Dee (Design)."""
    with app.app_context():
        return {
            "ana": add_person("ana.berg@example.org", "Research").id,
            "ben": add_person(
                "ben.cole@example.org",
                "Sales",
                office=None,
                timezone="America/New_York",
                hours=(8, 16),
            ).id,  # fmt: skip
            "cai": add_person("cai.dahl@example.org", "Legal", office="Malmö").id,
            "dee": add_person("dee.eko@example.org", "Design").id,
        }


def next_weekday(after: int = 2) -> date:
    day = datetime.now(UTC).date() + timedelta(days=after)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def past_weekday(before: int = 7) -> date:
    day = datetime.now(UTC).date() - timedelta(days=before)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def plan(app, day: date) -> None:
    with app.app_context():
        outcome = run_round(
            current_settings(), ensure_default_programme(current_settings().timezone), day
        )
        assert outcome.created, outcome.message


def group_of(app, person_id: int, future: bool = True) -> int:
    with app.app_context():
        now = datetime.now(UTC)
        query = (
            select(Group.id)
            .join(GroupMember)
            .where(GroupMember.person_id == person_id)
            .where(Group.start_at > now if future else Group.start_at <= now)
        )
        return db.session.scalar(query)


# ------------------------------------------------------------------------- my coffee breaks


def test_breaks_page_shows_next_break_in_my_zone_without_partner_emails(app, client):
    ids = people(app)
    plan(app, next_weekday())
    sign_in_as(client, ids["ben"])
    html = client.get("/me").get_data(as_text=True)
    assert "Next break" in html and "I'm in" in html and "Can't make it" in html
    with app.app_context():
        group = db.session.get(Group, group_of(app, ids["ben"]))
        local = group.start_at.astimezone(ZoneInfo("America/New_York"))
        partners = [m.person for m in group.members if m.person_id != ids["ben"]]
        video = group.video_url
    assert local.strftime("%H:%M") in html and "America/New York" in html
    assert video in html
    for partner in partners:
        assert partner.name in html and partner.email not in html


def test_im_in_and_cant_make_it(app, client):
    ids = people(app)
    plan(app, next_weekday())
    sign_in_as(client, ids["ana"])
    group_id = group_of(app, ids["ana"])
    assert client.post(f"/me/breaks/{group_id}/answer", data={"answer": "in"}).status_code == 302
    with app.app_context():
        assert db.session.get(GroupMember, (group_id, ids["ana"])).response == "in"
    assert client.post(f"/me/breaks/{group_id}/answer", data={"answer": "maybe"}).status_code == 400
    assert client.post(f"/me/breaks/{group_id}/answer", data={"answer": "cant"}).status_code == 302
    with app.app_context():
        group = db.session.get(Group, group_id)
        # a pair: the break is cancelled for both, and both get a CANCEL in the outbox
        assert group.status == "cancelled" and group.sequence == 1
        cancels = db.session.scalars(select(Delivery).where(Delivery.group_id == group_id)).all()
        assert {d.payload["invite"]["method"] for d in cancels} >= {"CANCEL"}
    html = client.get("/me").get_data(as_text=True)
    assert "I'm in" not in html and "Expected, in the" in html  # the next slot not yet planned


def test_someone_elses_break_is_404_and_unchanged(app, client):
    ids = people(app)
    plan(app, next_weekday())
    theirs = next(
        g for g in (group_of(app, i) for i in ids.values()) if g != group_of(app, ids["ana"])
    )
    sign_in_as(client, ids["ana"])
    for path, answer in (
        (f"/me/breaks/{theirs}/answer", "cant"),
        (f"/me/breaks/{theirs}/met", "no"),
    ):
        assert client.post(path, data={"answer": answer}).status_code == 404
    assert client.post("/me/breaks/999999/answer", data={"answer": "in"}).status_code == 404
    with app.app_context():
        group = db.session.get(Group, theirs)
        assert group.status == "scheduled" and group.sequence == 0
        assert all(m.response is None and m.met is None for m in group.members)


def break_with(app, person_ids: list[int], start: datetime, **seat) -> datetime:
    """A group of ``person_ids`` at ``start`` (its own round); ``seat`` sets the first one's row."""
    with app.app_context():
        programme = ensure_default_programme(current_settings().timezone)
        round_ = Round(programme_id=programme.id, date=start.date(), status="done")
        group = Group(uid=f"g-{start:%Y%m%d%H%M}@test", start_at=start,
                      end_at=start + timedelta(minutes=15), video_url="https://meet.example/x",
                      status=seat.pop("status", "scheduled"))  # fmt: skip
        round_.groups.append(group)
        group.members = [GroupMember(person_id=i) for i in person_ids]
        for key, value in seat.items():
            setattr(group.members[0], key, value)
        db.session.add(round_)
        db.session.commit()
    return start


def test_a_long_history_lists_the_last_20_and_counts_every_break(app, client):
    """After 25 past breaks the page lists the newest 20; the counts still cover all of them."""
    ids = people(app)
    with app.app_context():
        eve = add_person("eve.fox@example.org", "People").id
        fay = add_person("fay.gray@example.org", "Finance").id
    ana, others = ids["ana"], [ids["ben"], ids["cai"], ids["dee"]]
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    starts = [break_with(app, [ana, others[i % 3]], today - timedelta(days=30 - i))
              for i in range(23)]  # fmt: skip
    starts.append(break_with(app, [ana, eve], today - timedelta(days=5), status="cancelled"))
    starts.append(break_with(app, [ana, fay], today - timedelta(days=4), met=False))
    ahead = break_with(app, [ana, ids["dee"]], today + timedelta(days=3))
    sign_in_as(client, ana)
    html = client.get("/me").get_data(as_text=True)
    assert "You have met <strong>3</strong> people" in html  # not Eve (cancelled), not Fay (no)
    assert "from <strong>3</strong> departments" in html

    def shown(start: datetime) -> bool:
        return f'datetime="{start.astimezone(ZoneInfo("Europe/Stockholm")).isoformat()}"' in html

    assert [shown(s) for s in starts] == [False] * 5 + [True] * 20
    assert shown(ahead) and "Fay Gray" in html and "Eve Fox" in html


def test_past_breaks_ask_did_you_meet_and_count_people_met(app, client):
    ids = people(app)
    plan(app, past_weekday())
    sign_in_as(client, ids["ana"])
    group_id = group_of(app, ids["ana"], future=False)
    html = client.get("/me").get_data(as_text=True)
    assert "Did you meet?" in html
    assert "You have met <strong>1</strong> person" in html
    assert client.post(f"/me/breaks/{group_id}/met", data={"answer": "no"}).status_code == 302
    with app.app_context():
        assert db.session.get(GroupMember, (group_id, ids["ana"])).met is False
    html = client.get("/me").get_data(as_text=True)
    assert "You have met" not in html and "Your first coffee break is still ahead" in html
    assert "status-missed" in html
    plan(app, next_weekday())
    future_id = group_of(app, ids["ana"])
    assert client.post(f"/me/breaks/{future_id}/met", data={"answer": "yes"}).status_code == 400
    # answering a break that already started changes nothing either
    assert client.post(f"/me/breaks/{group_id}/answer", data={"answer": "cant"}).status_code == 400


# ------------------------------------------------------------------------------ preferences

GOOD_PREFS = {
    "mode": "virtual",
    "timezone": "Europe/Stockholm",
    "work_start": "08:30",
    "work_end": "16:00",
    "frequency": "few_per_week",
    "group_size_pref": "one_to_one",
    "topics": "Python, negotiation ,python",
    "share_topics": "climbing",
    "reminders": "y",
    "day_mon": "y",
    "site_mon": "Stockholm",
    "day_tue": "y",
    "site_tue": "remote",
    "day_thu": "y",
    "site_thu": "Malmö",
    **{f"site_{d}": "remote" for d in ("wed", "fri", "sat", "sun")},
}


def test_preferences_page_is_prefilled(app, client):
    ids = people(app)
    sign_in_as(client, ids["ana"])
    html = client.get("/me/preferences").get_data(as_text=True)
    assert '<option selected value="Europe/Stockholm">' in html
    assert 'value="09:00"' in html and 'value="17:00"' in html
    assert '<option selected value="Stockholm">' in html  # site on weekdays = home office
    for day in WEEKDAYS:
        assert f'id="day_{day}"' in html and f'id="site_{day}"' in html


def test_preferences_are_saved(app, client):
    ids = people(app)
    sign_in_as(client, ids["ana"])
    data = dict(GOOD_PREFS, avoid=[str(ids["ben"]), str(ids["cai"])])
    response = client.post("/me/preferences", data=data)
    assert response.status_code == 302
    with app.app_context():
        person = db.session.get(Person, ids["ana"])
        pref = person.preference
        assert (person.work_start, person.work_end) == (time(8, 30), time(16))
        assert pref.mode == "virtual" and pref.frequency == "few_per_week"
        assert pref.group_size_pref == "one_to_one" and pref.reminders is True
        assert pref.topics == ["Python", "negotiation"] and pref.share_topics == ["climbing"]
        assert pref.days == ["mon", "tue", "thu"]
        assert pref.weekday_sites["mon"] == "Stockholm" and pref.weekday_sites["tue"] is None
        assert pref.site_on(date(2026, 12, 3), person.home_office) == "Malmö"  # a Thursday
        assert pref.avoid == sorted([ids["ben"], ids["cai"]])
    html = client.get("/me/preferences").get_data(as_text=True)
    assert "Ben Cole" in html and "Cai Dahl" in html  # the avoid list shows names


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"site_thu": "Atlantis"}, "Unknown office &#39;Atlantis&#39; on Thursday"),
        ({"work_end": "08:00"}, "end of your working hours must be after the start"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"frequency": "hourly"}, "Not a valid choice"),
        ({"topics": ",".join(f"t{i}" for i in range(11))}, "at most 10 topics"),
        ({"avoid": ["999999"]}, "not in your organisation"),
        ({"avoid": ["SELF"]}, "cannot avoid yourself"),
    ],
)
def test_bad_preferences_are_refused_and_nothing_changes(app, client, change, message):
    ids = people(app)
    sign_in_as(client, ids["ana"])
    if change.get("avoid") == ["SELF"]:
        change = {"avoid": [str(ids["ana"])]}
    response = client.post("/me/preferences", data=dict(GOOD_PREFS, **change))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        person = db.session.get(Person, ids["ana"])
        assert person.work_start == time(9) and person.preference.mode == "either"
        assert person.preference.avoid == [] and person.timezone == "Europe/Stockholm"


def test_search_button_keeps_unsaved_edits_and_saves_nothing(app, client):
    ids = people(app)
    sign_in_as(client, ids["ana"])
    data = dict(GOOD_PREFS, work_start="07:15", q="dahl", search="1")
    response = client.post("/me/preferences", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="07:15"' in html and "Cai Dahl" in html
    with app.app_context():
        assert db.session.get(Person, ids["ana"]).work_start == time(9)


def test_colleague_search_finds_by_name_but_never_me(app, client):
    ids = people(app)
    sign_in_as(client, ids["ana"])
    html = client.get("/me/preferences?q=co").get_data(as_text=True)
    assert f'value="{ids["ben"]}"' in html and "Ben Cole" in html
    assert "ben.cole@example.org" not in html
    html = client.get("/me/preferences?q=ana").get_data(as_text=True)
    assert "Nobody else matches" in html
    assert "%" not in client.get("/me/preferences?q=%25%25").get_data(as_text=True).split("<ul")[0]


# --------------------------------------------------------------------------- pause and leave


def test_pause_presets_and_resume(app, client):
    ids = people(app)
    sign_in_as(client, ids["ana"])
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    assert client.post("/me/pause", data={"length": "two_weeks"}).status_code == 302
    with app.app_context():
        assert db.session.get(Person, ids["ana"]).preference.paused_until == today + timedelta(14)
    assert "Paused until" in client.get("/me/pause").get_data(as_text=True)
    assert client.post("/me/resume").status_code == 302
    with app.app_context():
        assert db.session.get(Person, ids["ana"]).preference.paused_until is None


def test_pause_gives_up_breaks_before_the_date(app, client):
    ids = people(app)
    day = next_weekday()
    plan(app, day)
    group_id = group_of(app, ids["ana"])
    sign_in_as(client, ids["ana"])
    until = (day + timedelta(days=1)).isoformat()
    assert client.post("/me/pause", data={"length": "until", "until": until}).status_code == 302
    with app.app_context():
        assert db.session.get(Group, group_id).status == "cancelled"
        assert db.session.get(Person, ids["ana"]).preference.paused_until.isoformat() == until


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"length": "until", "until": "2020-01-01"}, "Pick a date after today"),
        ({"length": "until", "until": ""}, "Enter the date"),
        ({"length": "until", "until": "2999-01-01"}, "at most a year"),
        ({"length": "forever"}, "Not a valid choice"),
    ],
)
def test_bad_pause_is_refused(app, client, data, message):
    ids = people(app)
    sign_in_as(client, ids["ana"])
    response = client.post("/me/pause", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, ids["ana"]).preference.paused_until is None


def test_leave_updates_upcoming_breaks_and_rejoin(app, client):
    ids = people(app)
    plan(app, next_weekday())
    group_id = group_of(app, ids["ana"])
    sign_in_as(client, ids["ana"])
    assert client.post("/me/leave").status_code == 302
    with app.app_context():
        person = db.session.get(Person, ids["ana"])
        assert person.preference.active is False
        assert db.session.get(Group, group_id).sequence == 1
    assert "Take part again" in client.get("/me/pause").get_data(as_text=True)
    assert client.post("/me/rejoin").status_code == 302
    with app.app_context():
        assert db.session.get(Person, ids["ana"]).preference.active is True


# ----------------------------------------------------------------------------- access control

PAGES = ["/me", "/me/preferences", "/me/pause", "/me/privacy", "/me/data", "/me/delete"]
POSTS = ["/me/preferences", "/me/pause", "/me/resume", "/me/leave", "/me/rejoin", "/me/delete",
         "/me/breaks/1/answer", "/me/breaks/1/met"]  # fmt: skip


def test_every_page_needs_sign_in(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/me/sign-in?next="), path
    for path in POSTS:
        assert client.post(path, data={"answer": "in"}).status_code == 302, path


def test_a_session_for_an_erased_person_is_signed_out(app, client):
    sign_in_as(client, 424242)
    assert client.get("/me").status_code == 302


def test_each_route_changes_only_the_signed_in_person(app, client):
    ids = people(app)
    plan(app, next_weekday())
    with app.app_context():
        before = _snapshot(ids["dee"])
    sign_in_as(client, ids["ana"])
    ana_group = group_of(app, ids["ana"])
    client.post("/me/preferences", data=dict(GOOD_PREFS, person_id=ids["dee"]))
    client.post("/me/pause", data={"length": "week", "person_id": ids["dee"]})
    client.post("/me/resume", data={"person_id": ids["dee"]})
    client.post(f"/me/breaks/{ana_group}/answer", data={"answer": "in", "person_id": ids["dee"]})
    client.post("/me/leave", data={"person_id": ids["dee"]})
    client.post("/me/rejoin", data={"person_id": ids["dee"]})
    with app.app_context():
        assert _snapshot(ids["dee"]) == before
        assert db.session.get(Person, ids["ana"]).preference.mode == "virtual"


def _snapshot(person_id: int) -> tuple:
    db.session.expire_all()
    person = db.session.get(Person, person_id)
    pref = person.preference
    seats = db.session.scalars(select(GroupMember).where(GroupMember.person_id == person_id))
    return (
        person.work_start,
        person.timezone,
        pref.mode,
        pref.active,
        pref.paused_until,
        tuple(pref.days),
        tuple((s.group_id, s.response, s.met) for s in seats),
    )
