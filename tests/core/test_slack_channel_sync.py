"""A programme linked to a Slack channel: its members take part, join and leave by event.

Slack is the contract fake (``tests.fakes_chat.FakeSlackApi``): every call is checked as Slack
documents it (cursors, ``limit``, ``users.info``'s ``user``, 429 with Retry-After, Block Kit).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import (
    AuditLog,
    Delivery,
    ExternalId,
    Group,
    Person,
    Programme,
    ProgrammeMember,
    SlackEvent,
)
from core.programmes import ensure_default_programme
from core.rounds import run_round
from core.slack_events import process_events
from core.slack_sync import member_source, sync_programme
from jobs.clock import SLACK_SYNC_JOB, build_scheduler, sync_slack_channels
from tests.conftest import settings_of
from tests.fakes_chat import SLACK_TOKEN, FakeClock, FakeSlackApi, check_block_kit
from tests.web.test_chat_routes import button_body, signed, wait_for
from tests.web.test_slack_events import SECRET, post
from web.chat import slack_events
from web.config import runtime_of

CHANNEL = "C0FIKA1"
PEOPLE = {"ana@example.org": "UANA1", "ben@example.org": "UBEN1", "cai@example.org": "UCAI1"}
MONDAY = date(2030, 1, 7)


@pytest.fixture
def slack():
    with FakeSlackApi(dict(PEOPLE)) as fake:
        fake.members[CHANNEL] = ["UANA1", "UBOT1", "UBEN1", "UCAI1"]
        fake.accounts["UBOT1"] = {"is_bot": True, "real_name": "Standup bot"}
        fake.profiles["UCAI1"] = {"title": "Finance"}
        yield fake
        fake.check()


@pytest.fixture
def chat(app, make_app, slack):
    """An app with Slack configured (its API is the fake) and the default programme linked."""
    application = make_app(
        FIKA_SLACK_BOT_TOKEN=SLACK_TOKEN,
        FIKA_SLACK_SIGNING_SECRET=SECRET,
        FIKA_SLACK_API_URL=slack.api_url,
    )
    with application.app_context():
        programme = ensure_default_programme("Europe/Stockholm")
        programme.slack_channel_id = CHANNEL
        programme.group_size = 3
        db.session.commit()
    return application


def sync(application, clock: FakeClock | None = None, **kwargs):
    clock = clock or FakeClock()
    settings = settings_of(application)
    programme = db.session.scalar(select(Programme).order_by(Programme.id))
    source = member_source(settings, sleep=clock.sleep, clock=clock, **kwargs)
    return sync_programme(settings, programme, source)


def event(kind: str, user: str, event_id: str, channel: str = CHANNEL) -> dict:
    return {
        "type": "event_callback",
        "event_id": event_id,
        "event": {"type": kind, "user": user, "channel": channel, "event_ts": "1.2"},
    }


def wait_for_events() -> None:
    """The work done after the 200 runs on a thread: wait for it."""
    assert slack_events.last_work is not None
    slack_events.last_work.join(timeout=30)
    assert not slack_events.last_work.is_alive()


def test_channel_members_join_a_round_runs_and_one_leaving_updates_the_break(chat, slack):
    with chat.app_context():
        result = sync(chat)
        assert sorted(result.joined) == sorted(PEOPLE)  # three people, not the bot
        assert result.skipped["bot"] == 1 and result.complete and result.left == []
        people = {p.email: p for p in db.session.scalars(select(Person))}
        assert sorted(people) == sorted(PEOPLE)
        cai = people["cai@example.org"]
        assert cai.department == "Finance" and cai.preference.active  # default preferences
        rows = db.session.scalars(select(ProgrammeMember)).all()
        assert {r.slack_user_id for r in rows} == set(PEOPLE.values())
        # users.info was asked about each member by the `user` parameter, the bot included.
        assert sorted(c.params["user"] for c in slack.of("users.info")) == sorted(
            [*PEOPLE.values(), "UBOT1"]
        )

        # One welcome DM each, with buttons Slack accepts.
        counts = send_due(configured_channels(settings_of(chat)))
        assert counts.sent == 3
        db.session.expire_all()
        welcomes = db.session.scalars(select(Delivery).where(Delivery.kind == "welcome")).all()
        assert sorted(w.recipient for w in welcomes) == sorted(PEOPLE)
        assert {w.status for w in welcomes} == {"sent"}
        posts = slack.of("chat.postMessage")
        assert len(posts) == 3
        for call in posts:
            check_block_kit(call.params["blocks"])
            assert call.params["channel"].startswith("D")  # a DM with that person alone
            assert "Daily digital coffee break" in call.params["text"]
            actions = call.params["blocks"][-1]["elements"]
            assert [a["action_id"] for a in actions] == [
                "fika_welcome_preferences",
                "fika_welcome_pause",
                "fika_welcome_leave",
            ]
            assert actions[0]["url"] == "https://fika.example.org/me"
            assert "first break" in call.params["text"]

        # A second sync changes nothing and welcomes nobody again.
        again = sync(chat)
        assert again.joined == [] and again.left == [] and again.members == 3
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == len(welcomes) + 0

        programme = db.session.scalar(select(Programme).order_by(Programme.id))
        outcome = run_round(settings_of(chat), programme, MONDAY)
        assert outcome.created
        (group,) = db.session.scalars(select(Group)).all()
        assert len(group.members) == 3 and group.sequence == 0

    # Cai leaves the channel: Slack's event, acknowledged at once, acted on after.
    response = post(chat, event("member_left_channel", "UCAI1", "Ev0LEFT1"))
    assert response.status_code == 200
    wait_for_events()

    with chat.app_context():
        group = db.session.scalar(select(Group))
        assert sorted(m.person.email for m in group.members) == [
            "ana@example.org",
            "ben@example.org",
        ]
        assert group.sequence == 1 and group.status == "scheduled"
        cai = db.session.scalar(select(Person).where(Person.email == "cai@example.org"))
        assert cai.preference.active is False  # it was their only programme: they left
        assert db.session.get(ProgrammeMember, (programme.id, cai.id)) is None
        invites = db.session.scalars(
            select(Delivery).where(Delivery.kind == "invite", Delivery.group_id == group.id)
        ).all()
        updates = [d for d in invites if d.payload["invite"]["sequence"] == 1]
        assert updates, "the others got the update, Cai the cancellation"
        methods = {d.payload["invite"]["method"] for d in updates}
        assert methods == {"REQUEST", "CANCEL"}
        assert db.session.scalar(select(SlackEvent.done_at)) is not None


def test_a_retried_event_acts_once(chat, slack):
    slack.users["dan@example.org"] = "UDAN1"
    joined = event("member_joined_channel", "UDAN1", "Ev0JOIN1")
    assert post(chat, joined).status_code == 200
    wait_for_events()
    first = slack_events.last_work
    # Slack retries (it did not see our 200 in time): same event_id, X-Slack-Retry-Num set.
    assert post(chat, None, raw=json.dumps(joined).encode()).status_code == 200
    assert slack_events.last_work is first  # nothing new to do: no work started
    with chat.app_context():
        assert db.session.scalar(select(func.count()).select_from(SlackEvent)) == 1
        dan = db.session.scalar(select(Person).where(Person.email == "dan@example.org"))
        assert dan is not None and dan.preference.active
        joins = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "slack.channel.join")
        ).all()
        assert [j.details["person_id"] for j in joins] == [dan.id]
        welcomes = db.session.scalars(select(Delivery).where(Delivery.kind == "welcome")).all()
        assert [w.recipient for w in welcomes] == ["dan@example.org"]
        assert process_events(settings_of(chat)) == 0  # the clock finds nothing left
    assert len(slack.of("users.info")) == 1


def test_events_on_other_channels_are_not_kept_and_bots_change_nothing(chat, slack):
    other = event("member_joined_channel", "UANA1", "Ev0OTHER", "C0NOTLINKED")
    assert post(chat, other).status_code == 200
    with chat.app_context():
        assert db.session.scalar(select(func.count()).select_from(SlackEvent)) == 0
    assert post(chat, event("member_joined_channel", "UBOT1", "Ev0BOT")).status_code == 200
    wait_for_events()
    with chat.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0
        assert db.session.scalar(select(SlackEvent.event_id)) == "Ev0BOT"
        assert db.session.scalar(select(SlackEvent.done_at)) is not None
    assert [c.params["user"] for c in slack.of("users.info")] == ["UBOT1"]


def test_an_event_with_a_forged_signature_is_refused_and_not_recorded(chat):
    response = post(chat, event("member_joined_channel", "UANA1", "Ev0FORGED"), secret="wrong")
    assert response.status_code == 401
    with chat.app_context():
        assert db.session.scalar(select(func.count()).select_from(SlackEvent)) == 0


def test_twenty_thousand_members_sync_pages_survives_429s_and_removes_who_left(chat, slack):
    """The hourly sync of a big channel: 19,900 known members (no users.info for them), 100 new
    ones, 50 who left since; 429s on both methods waited out (no real sleeping)."""
    ids = [f"U{i:06d}" for i in range(20_000)]
    emails = [f"p{i}@example.org" for i in range(20_050)]
    gone = [f"U{i:06d}" for i in range(20_000, 20_050)]
    slack.members[CHANNEL] = ids
    slack.users.update(dict(zip(emails, ids + gone, strict=True)))
    with chat.app_context():
        programme = db.session.scalar(select(Programme).order_by(Programme.id))
        known = list(range(19_900)) + list(range(20_000, 20_050))
        db.session.execute(
            insert(Person),
            [
                {"email": emails[i], "name": f"P {i}", "department": "Sales", "timezone": "UTC"}
                for i in known
            ],
        )
        by_email = dict(db.session.execute(select(Person.email, Person.id)).all())
        all_ids = ids + gone
        db.session.execute(
            insert(ExternalId),
            [{"namespace": "slack_user", "key": emails[i], "value": all_ids[i]} for i in known],
        )
        db.session.execute(
            insert(ProgrammeMember),
            [
                {
                    "programme_id": programme.id,
                    "person_id": by_email[emails[i]],
                    "slack_user_id": all_ids[i],
                }
                for i in known
            ],
        )
        db.session.commit()
        slack.rate_limit("conversations.members", {2, 51}, retry_after="3")
        clock = FakeClock()

        result = sync(chat, clock, page_size=200)

        assert result.complete and result.members == 20_000
        assert len(result.joined) == 100 and len(result.left) == 50
        pages = slack.of("conversations.members")
        assert len(pages) == 100 + 2  # two pages asked again after their 429
        assert all(p.params["limit"] == "200" for p in pages)
        assert "cursor" not in pages[0].params and pages[1].params == pages[2].params
        assert clock.sleeps.count(3.0) == 2  # Retry-After waited out, on the injected sleeper
        assert len(slack.of("users.info")) == 100  # only the members Fika did not know
        members = db.session.scalar(
            select(func.count())
            .select_from(ProgrammeMember)
            .where(ProgrammeMember.programme_id == programme.id)
        )
        assert members == 20_000
        left = db.session.scalar(select(Person).where(Person.email == emails[20_000]))
        assert db.session.get(ProgrammeMember, (programme.id, left.id)) is None


def test_a_sync_cut_short_by_slack_removes_nobody(chat, slack):
    with chat.app_context():
        sync(chat)
        slack.members[CHANNEL] = ["UANA1"]  # Ben and Cai left...
        slack.queue("conversations.members", 500, {"ok": False, "error": "internal_error"})
        result = sync(chat)  # ...but Slack fails before the list is read
        assert not result.complete and result.left == []
        assert db.session.scalar(select(func.count()).select_from(ProgrammeMember)) == 3
        assert "internal_error" in result.error
        result = sync(chat)
        assert sorted(result.left) == ["ben@example.org", "cai@example.org"]


def test_the_welcome_buttons_pause_for_a_week_and_leave(chat, slack):
    with chat.app_context():
        sync(chat)
        programme_id = str(db.session.scalar(select(Programme.id)))
    client = chat.test_client()
    body = button_body(slack, "UANA1", "fika_welcome_pause", programme_id)
    assert client.post("/slack/actions", data=body, headers=signed(body)).status_code == 200
    body = button_body(slack, "UBEN1", "fika_welcome_leave", programme_id)
    assert client.post("/slack/actions", data=body, headers=signed(body)).status_code == 200
    with chat.app_context():
        ana = db.session.scalar(select(Person).where(Person.email == "ana@example.org"))
        ben = db.session.scalar(select(Person).where(Person.email == "ben@example.org"))
        today = datetime.now(UTC).astimezone(ZoneInfo(ana.timezone)).date()
        assert ana.preference.paused_until == today + timedelta(days=7)
        assert ana.preference.active and not ben.preference.active
    assert wait_for(lambda: len(slack.responses) == 2)
    texts = sorted(r["text"] for r in slack.responses)
    assert texts[0].startswith("Paused until") and "left the coffee breaks" in texts[1]
    # Someone Fika does not know is told how to join; nothing changes.
    slack.users["zed@example.org"] = "UZED9"
    body = button_body(slack, "UZED9", "fika_welcome_leave", programme_id)
    assert client.post("/slack/actions", data=body, headers=signed(body)).status_code == 200
    assert wait_for(lambda: len(slack.responses) == 3)
    assert "does not know you yet" in slack.responses[2]["text"]


def test_the_clock_runs_the_slack_sync_as_a_job_of_its_own(chat, slack):
    scheduler = build_scheduler(runtime_of(chat), background=True)
    job = scheduler.get_job(SLACK_SYNC_JOB)
    assert job is not None and job.trigger.interval == timedelta(minutes=60)
    sync_slack_channels(runtime_of(chat))
    with chat.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 3


def test_the_sync_interval_is_a_setting_and_zero_switches_it_off(app, make_app, slack):
    hourly = make_app(FIKA_SLACK_BOT_TOKEN=SLACK_TOKEN, FIKA_SLACK_SIGNING_SECRET=SECRET)
    every_ten = make_app(
        FIKA_SLACK_BOT_TOKEN=SLACK_TOKEN,
        FIKA_SLACK_SIGNING_SECRET=SECRET,
        FIKA_SLACK_SYNC_MINUTES="10",
    )
    off = make_app(
        FIKA_SLACK_BOT_TOKEN=SLACK_TOKEN,
        FIKA_SLACK_SIGNING_SECRET=SECRET,
        FIKA_SLACK_SYNC_MINUTES="0",
    )
    jobs = {
        name: build_scheduler(runtime_of(a), background=True).get_job(SLACK_SYNC_JOB)
        for name, a in (("hourly", hourly), ("ten", every_ten), ("off", off), ("none", app))
    }
    assert jobs["hourly"].trigger.interval == timedelta(minutes=60)
    assert jobs["ten"].trigger.interval == timedelta(minutes=10)
    assert jobs["off"] is None and jobs["none"] is None  # no bot token: nothing to sync


def test_a_sync_does_not_undo_leaving_but_joining_the_channel_again_does(chat, slack):
    with chat.app_context():
        sync(chat)
        cai = db.session.scalar(select(Person).where(Person.email == "cai@example.org"))
        programme = db.session.scalar(select(Programme).order_by(Programme.id))
        cai_id = cai.id
    assert post(chat, event("member_left_channel", "UCAI1", "Ev0LEFT2")).status_code == 200
    wait_for_events()
    with chat.app_context():
        result = sync(chat)  # Cai is still listed (Slack's list lags, or they came back quietly)
        assert result.joined == [] and result.skipped["not_taking_part"] == 1
        assert db.session.get(ProgrammeMember, (programme.id, cai_id)) is None
    assert post(chat, event("member_joined_channel", "UCAI1", "Ev0BACK")).status_code == 200
    wait_for_events()
    with chat.app_context():
        cai = db.session.get(Person, cai_id)
        assert cai.preference.active
        assert db.session.get(ProgrammeMember, (programme.id, cai_id)).slack_user_id == "UCAI1"
        welcomes = db.session.scalars(
            select(Delivery).where(Delivery.kind == "welcome", Delivery.recipient == cai.email)
        ).all()
        assert len(welcomes) == 1  # welcomed once, not again on coming back
