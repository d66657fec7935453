"""Button answers: signed action links, Slack's interactivity endpoint and the /fika command."""

import hashlib
import hmac
import json
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from sqlalchemy import select

from core.db import db
from core.models import Delivery, Group, GroupMember, Person
from core.programmes import ensure_default_programme
from core.rounds import run_round
from core.signing import make_token
from tests.core.helpers import add_person
from tests.fakes_chat import SLACK_TOKEN, FakeSlackApi
from web.config import current_settings

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MONDAY = date(2030, 1, 7)


@pytest.fixture
def slack():
    with FakeSlackApi(
        {
            "ana@example.org": "UANA1",
            "ben@example.org": "UBEN2",
            "chen@example.org": "UCHEN3",
            "new@example.org": "UNEW4",
        }
    ) as fake:
        yield fake


@pytest.fixture
def slack_app(app, make_app, slack):
    application = make_app(
        FIKA_SLACK_BOT_TOKEN=SLACK_TOKEN,
        FIKA_SLACK_SIGNING_SECRET=SECRET,
        FIKA_SLACK_API_URL=slack.api_url,
    )
    return application


def trio(app):
    """Three people in one group on MONDAY; returns (group id, {email: person id})."""
    with app.app_context():
        ids = {
            e: add_person(e, d).id
            for e, d in [
                ("ana@example.org", "Sales"),
                ("ben@example.org", "Research"),
                ("chen@example.org", "Legal"),
            ]
        }
        run_round(current_settings(), ensure_default_programme(current_settings().timezone), MONDAY)
        return db.session.scalar(select(Group.id)), ids


def seat(app, group_id, person_id):
    with app.app_context():
        return db.session.get(GroupMember, (group_id, person_id))


def link(app, action, group_id, person_id):
    with app.app_context():
        return "/a/" + make_token(
            current_settings().secret_key, "action", [action, group_id, person_id]
        )


def test_action_link_get_confirms_and_changes_nothing(app, client):
    group_id, ids = trio(app)
    url = link(app, "in", group_id, ids["ana@example.org"])
    page = client.get(url)
    assert page.status_code == 200 and "I&#39;m in" in page.get_data(as_text=True)
    assert seat(app, group_id, ids["ana@example.org"]).response is None


def test_im_in_records_the_answer(app, client):
    group_id, ids = trio(app)
    done = client.post(link(app, "in", group_id, ids["ana@example.org"]))
    assert done.status_code == 200 and "you&#39;re in" in done.get_data(as_text=True)
    assert seat(app, group_id, ids["ana@example.org"]).response == "in"


def test_cant_make_it_updates_the_others_and_cancels_for_the_person(app, client):
    group_id, ids = trio(app)
    done = client.post(link(app, "cant", group_id, ids["chen@example.org"]))
    assert done.status_code == 200
    with app.app_context():
        group = db.session.get(Group, group_id)
        assert group.status == "scheduled" and group.sequence == 1
        assert sorted(m.person_id for m in group.members) == sorted(
            [ids["ana@example.org"], ids["ben@example.org"]]
        )
        rows = db.session.scalars(select(Delivery).where(Delivery.key.like(f"{group.uid}-1-%")))
        methods = {r.recipient: r.payload["invite"]["method"] for r in rows}
    assert methods == {
        "ana@example.org": "REQUEST",
        "ben@example.org": "REQUEST",
        "chen@example.org": "CANCEL",
    }


def test_pause_for_a_week(app, client):
    group_id, ids = trio(app)
    with time_machine.travel(datetime(2030, 1, 2, 12, tzinfo=UTC)):
        url = link(app, "pause_week", group_id, ids["ben@example.org"])
        done = client.post(url)
    assert done.status_code == 200 and "Paused until" in done.get_data(as_text=True)
    with app.app_context():
        person = db.session.get(Person, ids["ben@example.org"])
        assert person.preference.paused_until == date(2030, 1, 9)
        assert ids["ben@example.org"] not in {
            m.person_id for m in db.session.get(Group, group_id).members
        }


def test_expired_or_tampered_link_changes_nothing(app, client):
    group_id, ids = trio(app)
    url = link(app, "cant", group_id, ids["ana@example.org"])
    with time_machine.travel(datetime.now(UTC) + timedelta(days=15)):
        expired = client.post(url)
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    tampered = client.post(url[:-3] + ("abc" if not url.endswith("abc") else "xyz"))
    assert tampered.status_code == 400
    with app.app_context():
        assert len(db.session.get(Group, group_id).members) == 3


# --- Slack -----------------------------------------------------------------------------------


def signed(body: str, secret: str = SECRET, ts: int | None = None) -> dict:
    ts = int(time.time()) if ts is None else ts
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def button_body(slack, user: str, action_id: str, uid: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "response_url": slack.response_url,
        "actions": [{"action_id": action_id, "value": uid, "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)})


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_slack_button_changes_state_and_replies(slack_app, slack):
    group_id, ids = trio(slack_app)
    with slack_app.app_context():
        uid = db.session.get(Group, group_id).uid
    body = button_body(slack, "UBEN2", "fika_cant", uid)
    started = time.monotonic()
    response = slack_app.test_client().post("/slack/actions", data=body, headers=signed(body))
    assert response.status_code == 200 and time.monotonic() - started < 3
    with slack_app.app_context():
        members = {m.person_id for m in db.session.get(Group, group_id).members}
    assert ids["ben@example.org"] not in members and len(members) == 2
    assert wait_for(lambda: slack.responses)
    assert "you are out of the break" in slack.responses[0]["text"]
    assert slack.responses[0]["response_type"] == "ephemeral"
    slack.check()


@pytest.mark.parametrize(
    "tamper", ["wrong secret", "altered body", "old timestamp", "future timestamp", "missing"]
)
def test_slack_signature_failures_are_401_and_change_nothing(slack_app, slack, tamper):
    group_id, ids = trio(slack_app)
    with slack_app.app_context():
        uid = db.session.get(Group, group_id).uid
    body = button_body(slack, "UBEN2", "fika_cant", uid)
    headers = {
        "wrong secret": signed(body, secret="not-the-secret"),
        "altered body": signed(body.replace("fika_cant", "fika_in_")),
        "old timestamp": signed(body, ts=int(time.time()) - 301),
        "future timestamp": signed(body, ts=int(time.time()) + 301),
        "missing": {"Content-Type": "application/x-www-form-urlencoded"},
    }[tamper]
    response = slack_app.test_client().post("/slack/actions", data=body, headers=headers)
    assert response.status_code == 401
    with slack_app.app_context():
        assert len(db.session.get(Group, group_id).members) == 3
    assert slack.responses == []


def command(client, text, user="UANA1"):
    body = urlencode(
        {
            "command": "/fika",
            "text": text,
            "user_id": user,
            "response_url": "http://127.0.0.1:9/unused",
        }
    )
    response = client.post("/slack/commands", data=body, headers=signed(body))
    assert response.status_code == 200
    reply = response.get_json()
    assert reply["response_type"] == "ephemeral"
    return reply["text"]


@time_machine.travel(datetime(2030, 1, 1, 9, tzinfo=UTC))
def test_slash_command_paths(slack_app, slack):
    group_id, ids = trio(slack_app)
    client = slack_app.test_client()
    ana = ids["ana@example.org"]

    def pref():
        with slack_app.app_context():
            p = db.session.get(Person, ana).preference
            return p.active, p.paused_until

    assert "/fika pause for N days" in command(client, "help")
    status = command(client, "status")
    # the next break as /me names it (core.next_break): 1 January is a public holiday in Sweden
    assert "taking part" in status and "next break is on Wednesday 2 January at 10:00" in status
    text = command(client, "pause until 2030-01-31")
    assert "Paused until" in text and "2030" in text and "1 upcoming break was cancelled" in text
    assert pref() == (True, date(2030, 1, 31))
    assert "paused until" in command(client, "status")
    assert "Welcome back" in command(client, "resume") and pref() == (True, None)
    assert "Paused until" in command(client, "pause for 10 days")
    assert pref()[1] is not None
    assert "resume" in command(client, "pause")
    assert "left the coffee breaks" in command(client, "leave") and pref()[0] is False
    assert "You're in" in command(client, "join") and pref() == (True, None)


def test_slash_join_creates_someone_new_from_their_slack_profile(slack_app, slack):
    client = slack_app.test_client()
    assert "You're in, New!" in command(client, "join", user="UNEW4")
    with slack_app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == "new@example.org"))
        assert person.preference.active and person.department == "Research"
    assert [c.params for c in slack.of("users.info")] == [{"user": "UNEW4"}]
    command(client, "status", user="UNEW4")
    assert len(slack.of("users.info")) == 1  # remembered, not asked again


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("pause until 2020-01-01", "not after today"),
        ("pause until tomorrow", "is not a date"),
        ("pause for zero days", "not a whole number"),
        ("pause for 400 days", "out of range"),
        ("status please", "takes no arguments"),
        ("dance", "I don't know"),
    ],
)
def test_slash_command_bad_arguments_change_nothing(slack_app, slack, text, needle):
    trio(slack_app)
    client = slack_app.test_client()
    assert needle in command(client, text)
    with slack_app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == "ana@example.org"))
        assert person.preference.active and person.preference.paused_until is None


@pytest.mark.parametrize("user", ["UANA1\x00", "U" * 300, "UANA1 OR 1=1", "ü"], ids=repr)
def test_a_user_id_slack_never_makes_is_refused_before_any_lookup(slack_app, slack, user):
    """Signed or not, a NUL in a user id once reached PostgreSQL (a 500)."""
    trio(slack_app)
    client = slack_app.test_client()
    body = urlencode({"command": "/fika", "text": "status", "user_id": user})
    assert client.post("/slack/commands", data=body, headers=signed(body)).status_code == 400
    body = button_body(slack, user, "fika_in", "x")
    assert client.post("/slack/actions", data=body, headers=signed(body)).status_code == 400
    assert slack.calls == []  # nobody was looked up at Slack either


@pytest.mark.parametrize("uid", ["fika-1\x00", "u" * 5000, "line\nbreak"], ids=repr)
def test_a_button_value_no_group_can_have_matches_no_group(slack_app, slack, uid):
    group_id, _ = trio(slack_app)
    body = button_body(slack, "UANA1", "fika_in", uid)
    response = slack_app.test_client().post("/slack/actions", data=body, headers=signed(body))
    assert response.status_code == 200
    assert wait_for(lambda: slack.responses)
    assert "no longer knows" in slack.responses[0]["text"]
    with slack_app.app_context():
        assert all(m.response is None for m in db.session.get(Group, group_id).members)


def invite_payload(app, person_id):
    """The payload of ``person_id``'s invite in the round's outbox."""
    with app.app_context():
        return db.session.scalars(
            select(Delivery.payload).where(
                Delivery.person_id == person_id, Delivery.kind == "invite"
            )
        ).first()


def test_the_invites_one_token_links_answer_and_unsubscribe(app, client):
    """A member's invite carries one seat token: its three buttons and its unsubscribe link
    all work from it."""
    group_id, ids = trio(app)
    payload = invite_payload(app, ids["ana@example.org"])
    links, unsubscribe = payload["links"], payload["unsubscribe_url"]
    seats = {url.rsplit("/", 1)[1].rsplit("~", 1)[0] for url in links.values()}
    assert len(seats) == 1 and unsubscribe.endswith(f"/unsubscribe/{seats.pop()}")
    path = links["in"].removeprefix("https://fika.example.org")
    assert client.get(path).status_code == 200
    assert seat(app, group_id, ids["ana@example.org"]).response is None  # GET changes nothing
    assert client.post(path).status_code == 200
    assert seat(app, group_id, ids["ana@example.org"]).response == "in"
    page = client.get(unsubscribe.removeprefix("https://fika.example.org"))
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)


def test_a_seat_link_is_refused_when_forged_stretched_or_expired(app, client):
    group_id, ids = trio(app)
    ana = ids["ana@example.org"]
    path = invite_payload(app, ana)["links"]["in"].removeprefix("https://fika.example.org")
    token, _mark, action = path.removeprefix("/a/").rpartition("~")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (f"/a/{token}~delete", f"/a/{forged}~in", f"/a/{token}~", f"/a/~{action}"):
        assert client.post(bad).status_code == 400, bad
    with app.app_context():
        # Signed for the seat's purpose, but not a seat: a bare id, a boolean for the person.
        secret = current_settings().secret_key
        odd = [make_token(secret, "seat", group_id), make_token(secret, "seat", [group_id, True])]
    for bad in odd:
        assert client.post(f"/a/{bad}~in").status_code == 400
    later = datetime.now(UTC) + timedelta(days=15)
    with time_machine.travel(later, tick=False):
        assert client.post(path).status_code == 400
    assert seat(app, group_id, ana).response is None


def test_a_group_cards_seat_link_unsubscribes_nobody(app, client):
    """A seat token of a whole group's message names no person: no unsubscribe from it."""
    group_id, ids = trio(app)
    with app.app_context():
        from core.links import Links

        shared = Links(current_settings()).actions(group_id, None)["in"]
    token = shared.rsplit("/", 1)[1].rpartition("~")[0]
    assert client.post(f"/unsubscribe/{token}").status_code == 404
    with app.app_context():
        assert all(p.preference.active for p in db.session.scalars(select(Person)))
