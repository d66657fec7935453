"""Slack's App Home, the preferences modal, the pause date picker and "suggest another time".

Every request is signed as Slack signs it; every call Fika makes goes to the local Slack fake,
which checks it as Slack documents it (views.publish, views.open, chat.update).
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from core.another_time import free_slots
from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import Delivery, Group, GroupMember, Person
from core.programmes import ensure_default_programme
from core.rounds import run_round
from tests.conftest import settings_of
from tests.core.helpers import add_person
from tests.fakes_chat import SLACK_TOKEN, FakeSlackApi
from web.config import current_settings

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MONDAY = date(2030, 1, 7)
BEFORE = datetime(2030, 1, 2, 9, tzinfo=UTC)  # a Wednesday before the round's break
USERS = {
    "ana@example.org": "UANA1",
    "ben@example.org": "UBEN2",
    "chen@example.org": "UCHEN3",
    "new@example.org": "UNEW4",
}


@pytest.fixture
def slack():
    with FakeSlackApi(dict(USERS)) as fake:
        yield fake


@pytest.fixture
def slack_app(app, make_app, slack):
    return make_app(
        FIKA_SLACK_BOT_TOKEN=SLACK_TOKEN,
        FIKA_SLACK_SIGNING_SECRET=SECRET,
        FIKA_SLACK_API_URL=slack.api_url,
    )


def trio(app):
    """Ana, Ben and Chen in one group on MONDAY; returns the group's id."""
    with app.app_context():
        for email, department in [
            ("ana@example.org", "Sales"),
            ("ben@example.org", "Research"),
            ("chen@example.org", "Legal"),
        ]:
            add_person(email, department)
        run_round(current_settings(), ensure_default_programme(current_settings().timezone), MONDAY)
        return db.session.scalar(select(Group.id))


def headers(body: bytes, secret: str = SECRET, content_type: str = "json") -> dict:
    ts = int(time.time())
    digest = hmac.new(secret.encode(), b"v0:%d:" % ts + body, hashlib.sha256).hexdigest()
    kind = "application/json" if content_type == "json" else "application/x-www-form-urlencoded"
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": kind,
    }


def open_home(app, user: str, secret: str = SECRET):
    envelope = {
        "type": "event_callback",
        "event_id": f"Ev{user}{time.monotonic_ns()}",
        "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"},
    }
    body = json.dumps(envelope).encode()
    return app.test_client().post("/slack/events", data=body, headers=headers(body, secret))


def interact(app, payload: dict, secret: str = SECRET):
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return app.test_client().post(
        "/slack/actions", data=body, headers=headers(body, secret, content_type="form")
    )


def click(slack, user: str, action: dict, **extra) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": slack.trigger(),
        "response_url": slack.response_url,
        "actions": [action],
        **extra,
    }


def submission(user: str, view: dict, values: dict) -> dict:
    """A view_submission of ``view`` with ``values``: block_id -> the element's state."""
    state = {block: {"value": value} for block, value in values.items()}
    return {
        "type": "view_submission",
        "user": {"id": user},
        "view": {**view, "id": "VMODAL1", "state": {"values": state}},
    }


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def published(slack, user: str, after: int = 0) -> dict:
    """The Home view published for ``user`` by the ``after``-th views.publish call or later."""
    assert wait_for(
        lambda: len([c for c in slack.of("views.publish") if c.params["user_id"] == user]) > after
    ), "no views.publish"
    time.sleep(0.05)  # the fake records the call just before it stores the view
    return slack.homes[user]


def publishes(slack, user: str) -> int:
    return len([c for c in slack.of("views.publish") if c.params["user_id"] == user])


def text_of(view: dict) -> str:
    parts = []
    for block in view["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [
            e.get("text", "") for e in block.get("elements", []) if block["type"] == "context"
        ]
    return "\n".join(parts)


def elements(view: dict) -> dict[str, dict]:
    """Every interactive element of a view by action_id."""
    found = {}
    for block in view["blocks"]:
        for element in [block.get("accessory"), *block.get("elements", [])]:
            if isinstance(element, dict) and "action_id" in element:
                found[element["action_id"]] = element
    return found


# --- App Home -------------------------------------------------------------------------------


def test_home_of_a_known_person_shows_next_break_pause_preferences_and_programmes(slack_app, slack):
    trio(slack_app)
    with time_machine.travel(datetime(2030, 1, 6, 12, tzinfo=UTC)):  # the Sunday before
        started = time.monotonic()
        response = open_home(slack_app, "UANA1")
        assert response.status_code == 200 and time.monotonic() - started < 3
        view = published(slack, "UANA1")
    text = text_of(view)
    assert "Your next break" in text
    assert "Monday 7 January" in text
    assert "Ben (Research)" in text and "Chen (Legal)" in text  # her partners, not herself
    assert "Ana (Sales)" not in text
    assert "Small groups welcome" in text and "Working hours 09:00–17:00" in text
    with slack_app.app_context():
        programme = ensure_default_programme(current_settings().timezone).name
    assert f"*Your programmes*\n• {programme}" in text
    controls = elements(view)
    assert controls["fika_home_pause"]["type"] == "datepicker"
    assert "initial_date" not in controls["fika_home_pause"]  # not paused
    assert controls["fika_home_preferences"]["type"] == "button"
    assert "No breaks yet." in text
    slack.check()


def test_home_lists_past_breaks_with_why_they_were_matched(slack_app, slack):
    group_id = trio(slack_app)
    with slack_app.app_context():
        reasons = db.session.get(Group, group_id).reasons
    assert reasons
    with time_machine.travel(datetime(2030, 1, 9, 12, tzinfo=UTC)):
        open_home(slack_app, "UBEN2")
        view = published(slack, "UBEN2")
    text = text_of(view)
    assert "*Monday 7 January" in text and "Ana, Chen" in text
    assert "_Why you were matched_" in text and all(r in text for r in reasons)
    slack.check()


def test_home_of_someone_fika_does_not_know_offers_join(slack_app, slack):
    open_home(slack_app, "UNEW4")
    view = published(slack, "UNEW4")
    assert "not taking part yet" in text_of(view)
    assert elements(view)["fika_home_join"]["type"] == "button"
    assert "fika_home_preferences" not in elements(view)

    response = interact(slack_app, click(slack, "UNEW4", {"action_id": "fika_home_join"}))
    assert response.status_code == 200
    with slack_app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == "new@example.org"))
        assert person is not None and person.preference.active
    view = published(slack, "UNEW4", after=1)
    assert "Your coffee breaks" in text_of(view) and "fika_home_join" not in elements(view)
    slack.check()


def test_messages_tab_publishes_nothing(slack_app, slack):
    envelope = {
        "type": "event_callback",
        "event_id": "EvMsg",
        "event": {"type": "app_home_opened", "user": "UANA1", "channel": "D1", "tab": "messages"},
    }
    body = json.dumps(envelope).encode()
    response = slack_app.test_client().post("/slack/events", data=body, headers=headers(body))
    assert response.status_code == 200
    time.sleep(0.3)
    assert slack.of("views.publish") == []


def test_forged_signature_is_rejected_and_nothing_is_published_or_stored(slack_app, slack):
    trio(slack_app)
    assert open_home(slack_app, "UANA1", secret="not-the-secret").status_code == 401
    view = {"type": "modal", "callback_id": "fika_preferences"}
    values = {"mode": {"type": "static_select", "selected_option": {"value": "virtual"}}}
    forged = interact(slack_app, submission("UANA1", view, values), secret="not-the-secret")
    assert forged.status_code == 401
    time.sleep(0.3)
    assert slack.of("views.publish") == [] and slack.calls == []
    with slack_app.app_context():
        ana = db.session.scalar(select(Person).where(Person.email == "ana@example.org"))
        assert ana.preference.mode == "either"


# --- preferences modal ----------------------------------------------------------------------


def open_preferences(slack_app, slack, user="UANA1") -> dict:
    response = interact(slack_app, click(slack, user, {"action_id": "fika_home_preferences"}))
    assert response.status_code == 200
    (call,) = slack.of("views.open")
    assert call.params["trigger_id"] in {"1.1111.abcdef"}  # the click's own trigger
    return slack.modals[-1]


def modal_values(mode="virtual", size="one_to_one", often="weekly", start="08:00", end="16:00"):
    return {
        "mode": {"type": "static_select", "selected_option": {"value": mode}},
        "group_size_pref": {"type": "static_select", "selected_option": {"value": size}},
        "frequency": {"type": "static_select", "selected_option": {"value": often}},
        "work_start": {"type": "timepicker", "selected_time": start},
        "work_end": {"type": "timepicker", "selected_time": end},
    }


def stored(app, email="ana@example.org"):
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == email))
        pref = person.preference
        return pref.mode, pref.group_size_pref, pref.frequency, person.work_start, person.work_end


def test_preferences_modal_opens_filled_in_and_a_valid_submit_is_stored(slack_app, slack):
    trio(slack_app)
    modal = open_preferences(slack_app, slack)
    assert modal["callback_id"] == "fika_preferences"
    blocks = {b["block_id"]: b for b in modal["blocks"]}
    assert set(blocks) == {"mode", "group_size_pref", "frequency", "work_start", "work_end"}
    assert blocks["mode"]["element"]["initial_option"]["value"] == "either"
    assert blocks["work_start"]["element"]["initial_time"] == "09:00"

    response = interact(slack_app, submission("UANA1", modal, modal_values()))
    assert response.status_code == 200 and response.get_data() == b""  # closes the modal
    mode, size, often, start, end = stored(slack_app)
    assert (mode, size, often) == ("virtual", "one_to_one", "weekly")
    assert (f"{start:%H:%M}", f"{end:%H:%M}") == ("08:00", "16:00")
    view = published(slack, "UANA1")  # Home re-published with the new choices
    assert "By video · One-to-one only · Once a week" in text_of(view)
    assert "Working hours 08:00–16:00" in text_of(view)
    slack.check()


@pytest.mark.parametrize(
    ("values", "block", "message"),
    [
        (
            modal_values(start="10:00", end="08:00"),
            "work_end",
            "The end of your working hours must be after the start.",
        ),
        (modal_values(mode="teleport"), "mode", "Not a valid choice"),
        (modal_values(size="crowd"), "group_size_pref", "Not a valid choice"),
        (modal_values(start="25:99"), "work_start", "Enter a start time."),
    ],
)
def test_invalid_submit_answers_errors_on_the_block_and_stores_nothing(
    slack_app, slack, values, block, message
):
    trio(slack_app)
    before = stored(slack_app)
    modal = open_preferences(slack_app, slack)
    started = time.monotonic()
    response = interact(slack_app, submission("UANA1", modal, values))
    assert response.status_code == 200 and time.monotonic() - started < 3
    answer = response.get_json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block]
    assert message in answer["errors"][block]
    assert stored(slack_app) == before
    time.sleep(0.2)
    assert slack.of("views.publish") == []


# --- pause from the date picker -------------------------------------------------------------


def pick(slack, user, day: str) -> dict:
    action = {
        "action_id": "fika_home_pause",
        "block_id": "fika_home_pause",
        "type": "datepicker",
        "selected_date": day,
    }
    return click(slack, user, action, view={"type": "home", "id": "VHOME"})


@pytest.mark.parametrize("day", ["2030-01-02", "2029-12-31", "not-a-date"])
def test_pause_date_not_after_today_is_an_error_and_changes_nothing(slack_app, slack, day):
    group_id = trio(slack_app)
    with time_machine.travel(BEFORE):
        response = interact(slack_app, pick(slack, "UANA1", day))
        assert response.status_code == 200
        view = published(slack, "UANA1")
    assert elements(view)["fika_home_pause"]["type"] == "datepicker"
    problem = next(b for b in view["blocks"] if b["block_id"] == "fika_home_problem")
    expected = "in the past" if day != "not-a-date" else "Not a valid date value"
    assert expected in problem["elements"][0]["text"]
    with slack_app.app_context():
        ana = db.session.scalar(select(Person).where(Person.email == "ana@example.org"))
        assert ana.preference.paused_until is None
        assert ana.id in {m.person_id for m in db.session.get(Group, group_id).members}
    slack.check()


def test_pause_from_the_date_picker_is_the_pause_pages_change(slack_app, slack):
    group_id = trio(slack_app)
    with time_machine.travel(BEFORE):
        interact(slack_app, pick(slack, "UANA1", "2030-01-14"))
        view = published(slack, "UANA1")
    with slack_app.app_context():
        ana = db.session.scalar(select(Person).where(Person.email == "ana@example.org"))
        assert ana.preference.paused_until == date(2030, 1, 14)
        group = db.session.get(Group, group_id)
        # Monday's break is given up: the others get the update (SEQUENCE 1), Ana her cancel.
        assert ana.id not in {m.person_id for m in group.members} and group.sequence == 1
    assert "paused until Monday 14 January 2030" in text_of(view)
    assert elements(view)["fika_home_pause"]["initial_date"] == "2030-01-14"
    assert "fika_home_resume" in elements(view)
    assert "fika_home_problem" not in {b["block_id"] for b in view["blocks"]}


# --- another time ---------------------------------------------------------------------------


def spread_out(app, group_id):
    """Ana in Stockholm, Ben in New York, Chen in London (9-17 each): 14:00-16:00 UTC in
    January is the only time inside everyone's hours."""
    with app.app_context():
        for email, zone in [
            ("ana@example.org", "Europe/Stockholm"),
            ("ben@example.org", "America/New_York"),
            ("chen@example.org", "Europe/London"),
        ]:
            db.session.scalar(select(Person).where(Person.email == email)).timezone = zone
        db.session.commit()
        group = db.session.get(Group, group_id)
        return group.uid, group.start_at, group.end_at - group.start_at


def inside_hours(start: datetime, length: timedelta, zone: str) -> bool:
    local, end = start.astimezone(ZoneInfo(zone)), (start + length).astimezone(ZoneInfo(zone))
    return local.weekday() < 5 and local.hour >= 9 and (end.hour, end.minute) <= (17, 0)


def test_offered_slots_are_inside_everyones_hours_and_avoid_busy_times(slack_app, slack):
    group_id = trio(slack_app)
    uid, start, length = spread_out(slack_app, group_id)
    with slack_app.app_context():
        group = db.session.get(Group, group_id)
        # Ben's calendar has a meeting 14:00-14:30 UTC (as Graph or Google would report it).
        meeting = (datetime(2030, 1, 7, 14, tzinfo=UTC), datetime(2030, 1, 7, 14, 30, tzinfo=UTC))
        slots = free_slots(current_settings(), group, BEFORE, busy={"ben@example.org": [meeting]})
    monday = datetime(2030, 1, 7, tzinfo=UTC)
    assert slots == [monday + timedelta(hours=h) for h in (14.5, 14.75, 15)]
    for slot in slots:
        for zone in ("Europe/Stockholm", "America/New_York", "Europe/London"):
            assert inside_hours(slot, length, zone)
        assert slot != start

    # Through Slack: the button opens a modal with the same three (no calendar service here).
    with time_machine.travel(BEFORE):
        action = {"action_id": "fika_another_time", "value": uid, "type": "button"}
        response = interact(slack_app, click(slack, "UBEN2", action))
    assert response.status_code == 200
    (modal,) = slack.modals
    assert modal["callback_id"] == "fika_another_time" and modal["private_metadata"] == uid
    (choice,) = [b for b in modal["blocks"] if b["block_id"] == "slot"]
    offered = [datetime.fromisoformat(o["value"]) for o in choice["element"]["options"]]
    assert len(offered) == 3
    assert offered == [datetime(2030, 1, 7, 14, 15 * i, tzinfo=UTC) for i in range(3)]
    assert "Monday 7 January, 09:00–09:15" in choice["element"]["options"][0]["text"]["text"]
    slack.check()


def test_another_break_of_a_member_is_busy_too(slack_app, slack):
    group_id = trio(slack_app)
    spread_out(slack_app, group_id)
    with slack_app.app_context():
        group = db.session.get(Group, group_id)
        # Ben's other break fills Monday's 14:00-16:00 UTC: the slots move to Tuesday.
        other = Group(
            round_id=group.round_id,
            uid="fika-other@fika.example.org",
            start_at=datetime(2030, 1, 7, 14, tzinfo=UTC),
            end_at=datetime(2030, 1, 7, 16, tzinfo=UTC),
            video_url="https://meet.example.org/x",
        )
        db.session.add(other)
        db.session.flush()
        ben = db.session.scalar(select(Person).where(Person.email == "ben@example.org"))
        db.session.add(GroupMember(group_id=other.id, person_id=ben.id))
        db.session.commit()
        slots = free_slots(current_settings(), group, BEFORE, busy={})
    assert slots and all(s.date() == date(2030, 1, 8) for s in slots)
    assert slots[0] == datetime(2030, 1, 8, 14, tzinfo=UTC)


def test_choosing_another_time_moves_the_break_for_everyone_and_edits_the_message(slack_app, slack):
    group_id = trio(slack_app)
    uid, start, length = spread_out(slack_app, group_id)
    with slack_app.app_context():
        send_due(configured_channels(settings_of(slack_app)))  # the group DM is posted
    (post,) = slack.of("chat.postMessage")
    posted = slack.of("chat.postMessage")[0]
    channel = posted.params["channel"]
    (ts,) = [key[1] for key in slack.messages if key[0] == channel]
    assert "fika_another_time" in {
        e["action_id"]
        for b in post.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }
    action = {"action_id": "fika_another_time", "value": uid, "type": "button"}
    interact(slack_app, click(slack, "UCHEN3", action))
    (modal,) = slack.modals
    chosen = modal["blocks"][-1]["element"]["options"][1]["value"]
    values = {"slot": {"type": "radio_buttons", "selected_option": {"value": chosen}}}
    response = interact(slack_app, submission("UCHEN3", modal, values))
    assert response.status_code == 200 and response.get_data() == b""
    new_start = datetime.fromisoformat(chosen)
    with slack_app.app_context():
        group = db.session.get(Group, group_id)
        assert group.start_at == new_start and group.end_at == new_start + length
        assert group.sequence == 1 and group.uid == uid
        rows = db.session.scalars(select(Delivery).where(Delivery.key.like(f"{uid}-1-%"))).all()
        invites = {(r.channel, r.recipient): r.payload["invite"] for r in rows}
        assert {r for c, r in invites if c == "outbox"} == set(USERS) - {"new@example.org"}
        for invite in invites.values():
            assert invite["uid"] == uid and invite["sequence"] == 1
            assert invite["method"] == "REQUEST"
            assert datetime.fromisoformat(invite["start"]) == new_start
        send_due(configured_channels(settings_of(slack_app)))
    (update,) = slack.of("chat.update")
    assert update.params["channel"] == channel and update.params["ts"] == ts
    assert len(slack.of("chat.postMessage")) == 1  # edited, not posted again
    when = "\n".join(
        b["text"]["text"] for b in update.params["blocks"] if b.get("block_id") == "fika_when"
    )
    local = new_start.astimezone(ZoneInfo("Europe/London"))
    assert f"{local:%H:%M}" in when
    slack.check()


def test_a_slot_taken_meanwhile_is_an_error_and_nothing_moves(slack_app, slack):
    group_id = trio(slack_app)
    uid, start, _length = spread_out(slack_app, group_id)
    with time_machine.travel(BEFORE):
        action = {"action_id": "fika_another_time", "value": uid, "type": "button"}
        interact(slack_app, click(slack, "UANA1", action))
        (modal,) = slack.modals
        late = "2030-01-07T20:00:00+00:00"  # outside Ana's and Chen's hours
        values = {"slot": {"type": "radio_buttons", "selected_option": {"value": late}}}
        response = interact(slack_app, submission("UANA1", modal, values))
    answer = response.get_json()
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["slot"]
    with slack_app.app_context():
        group = db.session.get(Group, group_id)
        assert group.start_at == start and group.sequence == 0
