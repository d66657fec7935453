"""A learning team's goal, check-ins and digest end to end, on SQLite and PostgreSQL.

Twelve people form two teams of six. Members write their goal on the team's page (others
cannot; bad text re-renders the form), the goal reaches the invite of the next update, the
clock queues the midway and the final check-in once each even when two clocks run (one after
the other, and two racing threads), members answer on the signed check-in page, and the
digest goes out once: to the chat webhook and by email to the programme's participants, with
only the answers their authors agreed to publish, and not to someone who opted out.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import changes
from core.db import db
from core.learning_teams import team_members, teams_of
from core.links import Links
from core.models import Delivery, Person, Programme, TeamCheckin
from core.programmes import open_programmes
from core.rounds import run_round
from core.team_checkins import queue_team_checkins
from integrations.email import render_nudge_email
from integrations.payload import message_from_dict, room_from_dict
from integrations.room_calendar import describe
from jobs.clock import tick
from tests.conftest import settings_of
from tests.core.helpers import add_person
from tests.web.admin_support import admin_config, sign_in
from web.config import runtime_of

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TOPIC = "Rust"
PROGRAMME = {
    "name": "Rust learning teams",
    "kind": "learning_team",
    "topic": TOPIC,
    "group_size": 6,
    "days": ["thu"],
    "local_time": "15:00",
    "timezone": "Europe/Stockholm",
    "duration_minutes": 60,
    "cadence": "weekly",
    "starts_on": "2027-01-04",
    "ends_on": "2027-03-25",
}
# Halfway: 2027-01-04 + 40 days; the final check-in on ends_on, after the 15:00-16:00 meeting.
MIDWAY = datetime(2027, 2, 13, 16, 5, tzinfo=STOCKHOLM)
FINAL = datetime(2027, 3, 25, 16, 5, tzinfo=STOCKHOLM)
CHECKIN_LINK = re.compile(r"https://fika\.example\.org(/teams/checkin/\S+)")


@pytest.fixture
def app_config(app_config):
    """An admin, the outbox folder (per person) and a Slack webhook (the programme's channel)."""
    return {**admin_config(app_config), "FIKA_SLACK_WEBHOOK_URL": "https://hooks.slack.com/x/y"}


def twelve_people() -> list[str]:
    emails = []
    for n in range(12):
        wishes = {"share_topics": [TOPIC]} if n < 3 else {"topics": [TOPIC]}
        email = f"m{n:02d}@example.org"
        add_person(email, ("Sales", "Research", "Design")[n % 3], hours=(8, 18), **wishes)
        emails.append(email)
    return emails


@pytest.fixture
def formed(app, api):
    """The programme with its two teams formed; yields its id."""
    client, auth = api
    created = client.post("/api/v1/programmes", json=PROGRAMME, headers=auth)
    assert created.status_code == 201, created.json
    programme_id = created.json["id"]
    with app.app_context():
        emails = twelve_people()
    added = client.post(
        f"/api/v1/programmes/{programme_id}/members", json={"emails": emails}, headers=auth
    )
    assert added.status_code == 200
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        outcome = run_round(
            settings_of(app), programme, date(2027, 1, 4), now=datetime(2027, 1, 4, 9, tzinfo=UTC)
        )
        assert outcome.created, outcome.message
        assert len(teams_of(programme)) == 2
    return programme_id


def rows(kind: str) -> list[Delivery]:
    return list(
        db.session.scalars(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id))
    )


def two_clocks(app, now: datetime) -> None:
    """Two clocks' minute ticks, one after the other."""
    tick(runtime_of(app), now=now)
    tick(runtime_of(app), now=now)


def racing_clocks(app, now: datetime) -> None:
    """Two clocks queueing at the same instant, each on its own connection."""
    barrier = threading.Barrier(2)
    errors = []

    def clock():
        try:
            with app.app_context():
                barrier.wait(5)
                queue_team_checkins(settings_of(app), now)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=clock) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []


def test_check_ins_and_the_digest_go_out_once_even_with_two_clocks(app, client, formed):
    settings = settings_of(app)
    with app.app_context():
        programme = db.session.get(Programme, formed)
        first, second = teams_of(programme)
        team_a = [p.email for p in team_members(first)]
        team_b = [p.email for p in team_members(second)]

        two_clocks(app, MIDWAY.replace(hour=9))  # halfway day, before the meeting's end
        assert rows("team_checkin") == []
        two_clocks(app, MIDWAY)
        midway = rows("team_checkin")
        assert len(midway) == 12  # one per member, once
        assert {r.recipient for r in midway} == set(team_a + team_b)
        assert all("-midway-" in r.key for r in midway)
        email = render_nudge_email(message_from_dict(midway[0].payload), "fika@example.org")
        assert (
            b"How is it going?" in email and b"Subject: How is your learning team going?" in email
        )

    racing_clocks(app, FINAL)
    two_clocks(app, FINAL)
    with app.app_context():
        final = [r for r in rows("team_checkin") if "-final-" in r.key]
        assert len(final) == 12
        assert rows("digest") == []  # nobody has answered yet
        links = {
            r.recipient: CHECKIN_LINK.search(r.payload["notice"]["text"]).group(1) for r in final
        }

    # Everyone answers; in team A two agree to publish, in team B nobody does.
    for n, email in enumerate(team_a):
        answer = client.post(
            links[email],
            data={"reached": "yes", "learned": f"lifetimes {n}", "publish": "y" if n < 2 else ""},
        )
        assert answer.status_code == 200 and b"your answer is kept" in answer.data
    for email in team_b:
        assert (
            client.post(links[email], data={"reached": "no", "learned": "macros"}).status_code
            == 200
        )
    bad = client.post(links[team_a[0]], data={"reached": "yes", "learned": "a\nb", "publish": "y"})
    assert bad.status_code == 400 and b"control characters" in bad.data
    assert client.post("/teams/checkin/forged", data={"learned": "x"}).status_code == 400

    with app.app_context():
        kept = db.session.scalar(select(func.count()).select_from(TeamCheckin))
        assert kept == 12
        sign_in(client, db.session.scalar(select(Person).where(Person.email == team_a[1])))
    mine = client.get("/me/data").get_json()["learning_team_answers"]
    assert [(a["stage"], a["what_i_learned"], a["may_be_published"]) for a in mine] == [
        ("final", "lifetimes 1", True)
    ]
    with app.app_context():
        # Someone opts out of digests through the link every digest email carries.
        out = db.session.scalar(select(Person).where(Person.email == team_b[0]))
        opt_out = Links(settings).digest_opt_out(out.id).removeprefix(settings.base_url)
    assert client.post(opt_out).status_code == 200
    with app.app_context():
        assert db.session.get(Person, out.id).preference.digest_opt_out is True

    racing_clocks(app, FINAL.replace(hour=18))
    two_clocks(app, FINAL.replace(hour=18))
    with app.app_context():
        digest = rows("digest")
        webhook = [r for r in digest if r.channel == "slack_webhook"]
        emails = [r for r in digest if r.channel != "slack_webhook"]
        assert len(webhook) == 1  # team A's digest; team B published nothing
        text = webhook[0].payload["notice"]["text"]
        assert "lifetimes 0" in text and "lifetimes 1" in text and "lifetimes 2" not in text
        assert "macros" not in text
        # The programme's participants by email, except the one who opted out.
        assert sorted(r.recipient for r in emails) == sorted(set(team_a + team_b) - {team_b[0]})
        mail = render_nudge_email(message_from_dict(emails[0].payload), "fika@example.org")
        assert b"lifetimes 0" in mail and b"/teams/digest-opt-out/" in mail
        before = db.session.scalar(select(func.count()).select_from(Delivery))
    two_clocks(app, FINAL.replace(day=28))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == before


def team_uid_of(app, programme_id: int) -> tuple[str, list[int], int]:
    with app.app_context():
        team = teams_of(db.session.get(Programme, programme_id))[0]
        members = [p.id for p in team_members(team)]
        outsider = db.session.scalar(
            select(Person.id).where(Person.id.not_in(members)).order_by(Person.id)
        )
        return team.uid, members, outsider


def test_members_edit_the_goal_others_cannot_and_bad_text_re_renders(app, client, formed):
    uid, members, outsider = team_uid_of(app, formed)
    page = f"/teams/{uid}"
    assert client.get(page).status_code == 302  # signed out: to the sign-in page
    with app.app_context():
        sign_in(client, db.session.get(Person, outsider))
    assert client.get(page).status_code == 404
    assert client.post(page, data={"goal": "Take over"}).status_code == 404
    with app.app_context():
        sign_in(client, db.session.get(Person, members[0]))
    assert client.get("/teams/fika-team-999-nothere").status_code == 404
    shown = client.get(page)
    assert shown.status_code == 200 and b"No goal yet" in shown.data
    bad = client.post(page, data={"goal": "line\nbreak"})
    assert bad.status_code == 400 and b"control characters" in bad.data
    assert b'value="line' in bad.data  # the form keeps what was typed
    long = client.post(page, data={"goal": "x" * 301})
    assert long.status_code == 400 and b"under 300 characters" in long.data
    saved = client.post(page, data={"goal": "Ship a small CLI in Rust"}, follow_redirects=True)
    assert saved.status_code == 200 and b"Ship a small CLI in Rust" in saved.data
    # /me lists the team with a link to its page.
    assert page.encode() in client.get("/me").data

    # The next update of the team's series carries the goal and the page's link.
    with app.app_context():
        leaver = db.session.get(Person, members[-1])
        changes.leave(settings_of(app), leaver, now=datetime(2027, 1, 10, 9, tzinfo=UTC))
        update = [r for r in rows("room") if r.recipient != leaver.email][-1]
        text = describe(room_from_dict(update.payload["room"]))
        assert "Goal: Ship a small CLI in Rust" in text
        assert f"https://fika.example.org/teams/{uid}" in text


def test_ambassadors_are_named_only_when_they_opt_in(app, client, admin, formed):
    with app.app_context():
        sharers = {
            p.email: p.id
            for p in db.session.scalars(
                select(Person).where(
                    Person.email.in_(["m00@example.org", "m01@example.org", "m02@example.org"])
                )
            )
        }
        sign_in(client, db.session.get(Person, sharers["m00@example.org"]))
    assert b'name="show_as_ambassador"' in client.get("/me").data
    saved = client.post("/me/teams/preferences", data={"show_as_ambassador": "y"})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(Person, sharers["m00@example.org"]).preference.show_as_ambassador
        assert not db.session.get(Person, sharers["m01@example.org"]).preference.show_as_ambassador
        # One team reaches its goal: most of its final answers say so.
        team = teams_of(db.session.get(Programme, formed))[0]
        for n, person in enumerate(team_members(team)):
            db.session.add(
                TeamCheckin(group_id=team.id, person_id=person.id, stage="final",
                            goal_reached=n != 0, learned="ownership")
            )  # fmt: skip
        db.session.commit()
    page = admin.get("/admin/insights?from=2027-01-01&to=2027-03-31")
    assert page.status_code == 200
    html = page.data.decode()
    assert re.search(r'id="n-teams-formed">2<', html)
    assert re.search(r'id="n-teams-finished">2<', html)
    assert re.search(r'id="n-goals">1<', html)
    assert f"<li>{TOPIC} (2 teams)</li>" in html
    assert "M00: Rust" in html  # opted in: named, with the topic shared
    assert "M01" not in html and "M02" not in html  # not opted in: counted only
    assert "2 more who chose not to be named" in html
    # A period before the teams: nothing formed, nothing finished.
    early = admin.get("/admin/insights?from=2026-10-01&to=2026-12-31").data.decode()
    assert "n-teams-formed" not in early


def test_a_person_starts_a_team_with_colleagues_inside_their_working_hours(app, client):
    with app.app_context():
        ana = add_person("ana.berg@example.org", "Sales", hours=(8, 16))
        ben = add_person("ben.cole@example.org", "Research", hours=(10, 18))
        # In London, 9-17 there is 10-18 in Stockholm: the shared hour starts at 10:00.
        cai = add_person("cai.dahl@example.org", "Design", timezone="Europe/London", hours=(9, 17))
        add_person("dee.eko@example.org", "Design")
        ids = {"ana": ana.id, "ben": ben.id, "cai": cai.id}
        sign_in(client, ana)
    page = "/me/teams/new"
    assert b"Start a learning team" in client.get("/me").data
    found = client.post(page, data={"q": "ben", "search": "1", "topic": "Rust"})
    assert found.status_code == 200 and f'value="{ids["ben"]}"'.encode() in found.data
    assert b"Dee" not in found.data
    too_few = client.post(page, data={"topic": "Rust", "weeks": "6", "invite": [ids["ben"]]})
    assert too_few.status_code == 400 and b"Invite at least two colleagues" in too_few.data
    assert f'value="{ids["ben"]}" checked'.encode() in too_few.data  # the choice is kept
    no_topic = client.post(page, data={"topic": " ", "weeks": "6", "open_to_join": "y"})
    assert no_topic.status_code == 400 and b"Name the topic" in no_topic.data
    bad_topic = client.post(page, data={"topic": "a\tb", "weeks": "6", "open_to_join": "y"})
    assert bad_topic.status_code == 400 and b"one line" in bad_topic.data
    long = client.post(page, data={"topic": "Rust", "weeks": "40", "open_to_join": "y"})
    assert long.status_code == 400 and b"between 2 and 12 weeks" in long.data
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Programme).where(Programme.started_by.is_not(None))
            )
            == 0
        )

    started = client.post(
        page, data={"topic": "Rust", "weeks": "6", "invite": [ids["ben"], ids["cai"]]}
    )
    assert started.status_code == 302
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.started_by == ids["ana"]))
        assert programme.kind == "learning_team" and programme.topic == "Rust"
        assert programme.open_to_join is False and programme.days == [programme.days[0]]
        assert programme.local_time.isoformat() == "10:00:00"
        assert programme.timezone == "Europe/Stockholm"
        assert (programme.ends_on - programme.starts_on).days == 41
        (team,) = teams_of(programme)
        assert {p.id for p in team_members(team)} == set(ids.values())
        assert len([r for r in rows("room") if r.group_id == team.id]) == 3  # one invite each
        # Invitation only: others do not see it among the programmes to choose.
        dee = db.session.scalar(select(Person).where(Person.email == "dee.eko@example.org"))
        assert programme not in open_programmes(dee)
        assert programme in open_programmes(db.session.get(Person, ids["ben"]))
    assert f"/teams/{team.uid}".encode() in client.get("/me").data


def test_an_open_team_waits_for_people_and_others_may_choose_it(app, client):
    with app.app_context():
        ana = add_person("ana.berg@example.org", "Sales")
        dee_id = add_person("dee.eko@example.org", "Design").id
        ana_id = ana.id
        sign_in(client, ana)
    started = client.post(
        "/me/teams/new", data={"topic": "Sketching", "weeks": "4", "open_to_join": "y"}
    )
    assert started.status_code == 302
    with app.app_context():
        programme = db.session.scalar(select(Programme).where(Programme.started_by == ana_id))
        assert programme.open_to_join and teams_of(programme) == []  # too few yet
        assert programme in open_programmes(db.session.get(Person, dee_id))
