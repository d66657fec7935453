"""The Teams bot's messaging endpoint against the local Bot Framework fake (tests/fakes_chat.py).

Every activity carries a token the fake signs with the key it publishes; every card the bot
posts is validated by the fake's connector, and every card it returns here against the Adaptive
Card 1.5 schema.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.db import db
from core.i18n import format_day
from core.models import Person, Preference, Programme, ProgrammeMember
from tests.fakes_chat import FakeBotFramework, card_validator

APP_ID = "11111111-aaaa-bbbb-cccc-222222222222"
APP_PASSWORD, TENANT = "app-secret", "tenant-1"
ADMIN = "admin@example.org"
ANA = {
    "id": "29:1ana",
    "name": "Ana Lind",
    "aadObjectId": "aaaaaaaa-0000-0000-0000-000000000001",
    "email": "ana@example.org",
    "userPrincipalName": "ana@example.org",
}
TEAM = "19:fikateam@thread.tacv2"
VALIDATOR = card_validator()


@pytest.fixture
def bot(https_server, tls_files, monkeypatch):
    # The endpoint's requests sessions trust the test certificate, and reach 127.0.0.1 direct.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files.certfile))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeBotFramework(https_server, APP_ID, APP_PASSWORD, TENANT)
    fake.members[ANA["id"]] = ANA
    yield fake
    fake.check()


@pytest.fixture
def app_config(app_config, bot):
    return dict(
        app_config,
        FIKA_TEAMS_BOT_APP_ID=APP_ID,
        FIKA_TEAMS_BOT_APP_PASSWORD=APP_PASSWORD,
        FIKA_TEAMS_BOT_TENANT_ID=TENANT,
        FIKA_TEAMS_BOT_AUTHORITY=bot.authority,
        FIKA_TEAMS_BOT_OPENID_URL=bot.openid_url,
        FIKA_ADMIN_EMAILS=ADMIN,
    )


@pytest.fixture(autouse=True)
def context(app):
    """The tests read the database between requests (each request ends its own transaction)."""
    with app.app_context():
        yield
        db.session.rollback()


def activity(bot, kind="message", sender=ANA, personal=True, **extra):
    conversation = (
        {"id": "a:1personal-ana", "conversationType": "personal", "tenantId": TENANT}
        if personal
        else {"id": TEAM, "conversationType": "channel", "isGroup": True, "tenantId": TENANT}
    )
    body = {
        "type": kind,
        "id": "act-1",
        "channelId": "msteams",
        "serviceUrl": bot.service_url,
        "from": {"id": sender["id"], "name": sender["name"], "aadObjectId": sender["aadObjectId"]},
        "recipient": {"id": f"28:{APP_ID}", "name": "Fika"},
        "conversation": conversation,
        "channelData": {"tenant": {"id": TENANT}},
    }
    if not personal:
        body["channelData"]["team"] = {"id": TEAM}
    body.update(extra)
    return body


def execute(bot, verb, sender=ANA, personal=True, **data):
    """An ``adaptiveCard/action`` invoke, as Teams sends it for an Action.Execute button."""
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
    return activity(bot, "invoke", sender, personal, name="adaptiveCard/action", value=value)


def post(client, bot, body, token=None):
    token = bot.token() if token is None else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/teams/messages", json=body, headers=headers)


def card_of(response) -> dict:
    """The card an invoke response refreshes in place (checked against the schema)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    errors = [e.message for e in VALIDATOR.iter_errors(body["value"])]
    assert not errors, errors
    return body["value"]


def block(card, block_id) -> dict | None:
    return next((b for b in card["body"] if b.get("id") == block_id), None)


def verbs(card) -> list[str]:
    return [a["verb"] for a in card.get("actions", []) if a["type"] == "Action.Execute"]


def ana(app) -> Person | None:
    return db.session.scalar(select(Person).where(Person.email == "ana@example.org"))


# --- authentication -------------------------------------------------------------------------


def test_a_signed_message_in_the_personal_chat_gets_the_opt_in_card(app, client, bot):
    response = post(client, bot, activity(bot))
    assert response.status_code == 200
    ((conversation, message),) = bot.activities  # validated as Adaptive Card 1.5 by the fake
    assert conversation == "a:1personal-ana"
    card = message["attachments"][0]["content"]
    assert verbs(card) == ["join"]
    assert bot.member_reads == [("a:1personal-ana", "29:1ana")]  # email read once, with the token
    assert bot.token_requests and bot.token_requests[0]["client_id"] == APP_ID


@pytest.mark.parametrize(
    "token",
    [
        "",
        "forged",
        "wrong-issuer",
        "wrong-audience",
        "expired",
        "garbage",
    ],
)
def test_unauthenticated_activities_get_401_with_a_json_reason(app, client, bot, token):
    from cryptography.hazmat.primitives.asymmetric import rsa

    now = int(datetime.now(UTC).timestamp())
    tokens = {
        "": "",
        "forged": lambda: bot.token(
            key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ),
        "wrong-issuer": lambda: bot.token(iss="https://login.microsoftonline.com/x/v2.0"),
        "wrong-audience": lambda: bot.token(aud="99999999-aaaa-bbbb-cccc-222222222222"),
        "expired": lambda: bot.token(exp=now - 600, nbf=now - 4000),
        "garbage": lambda: "eyJhbGciOi.not.a-token",
    }
    made = tokens[token]() if callable(tokens[token]) else tokens[token]
    response = post(client, bot, execute(bot, "join"), token=made or "")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.is_json and response.get_json()["error"].startswith("Unauthorized")
    assert ana(app) is None and bot.activities == [] and bot.member_reads == []


def test_a_token_for_another_service_url_is_refused(app, client, bot):
    body = activity(bot, serviceUrl="https://evil.example.org/teams/")
    assert post(client, bot, body).status_code == 401
    assert bot.token_requests == []  # the bot's own token never went anywhere


def test_keys_are_fetched_once_for_many_activities(app, client, bot):
    for _ in range(3):
        assert post(client, bot, execute(bot, "next_break")).status_code == 200
    assert bot.key_fetches == 1


def test_a_signed_activity_fika_cannot_act_on_is_400(app, client, bot):
    bare = {"type": "message", "channelId": "msteams", "serviceUrl": bot.service_url}
    response = post(client, bot, bare)  # no conversation, no sender
    assert response.status_code == 400 and response.is_json
    assert bot.activities == []


def test_without_a_bot_the_route_is_404(make_app, bot):
    other = make_app(
        FIKA_TEAMS_BOT_APP_ID="",
        FIKA_TEAMS_BOT_APP_PASSWORD="",
        FIKA_TEAMS_BOT_TENANT_ID="",
        FIKA_TEAMS_BOT_AUTHORITY="",
        FIKA_TEAMS_BOT_OPENID_URL="",
    )
    response = other.test_client().post("/teams/messages", json={"type": "message"})
    assert response.status_code == 404 and response.is_json


# --- the person's card ----------------------------------------------------------------------


def test_join_pause_preferences_and_next_break_refresh_the_card(app, client, bot):
    card = card_of(post(client, bot, execute(bot, "join")))
    person = ana(app)
    assert person is not None and person.name == "Ana Lind"
    assert person.preference.active is True
    assert block(card, "notice") is not None
    assert verbs(card) == ["pause", "preferences", "next_break"]

    card = card_of(
        post(client, bot, execute(bot, "preferences", mode="virtual", group_size="one_to_one"))
    )
    db.session.expire_all()
    person = ana(app)
    assert (person.preference.mode, person.preference.group_size_pref) == ("virtual", "one_to_one")
    choice = {b["id"]: b["value"] for b in card["body"] if b["type"] == "Input.ChoiceSet"}
    assert choice == {"mode": "virtual", "group_size": "one_to_one"}

    card = card_of(post(client, bot, execute(bot, "next_break")))
    assert block(card, "next_break") is not None

    today = datetime.now(UTC).astimezone(ZoneInfo(person.timezone)).date()
    until = today + timedelta(days=10)
    card = card_of(post(client, bot, execute(bot, "pause", until=until.isoformat())))
    db.session.expire_all()
    assert ana(app).preference.paused_until == until
    assert format_day(until, "en", year=True) in block(card, "notice")["text"]
    assert "join" in verbs(card)  # "Resume now"

    card_of(post(client, bot, execute(bot, "join")))
    db.session.expire_all()
    assert ana(app).preference.paused_until is None
    # The email was read from the connector once and then found by the Entra object id.
    assert len(bot.member_reads) == 1


@pytest.mark.parametrize(
    "until",
    ["", "not-a-date", "2026-02-30", "yesterday", "today", "in-two-years", None, 5],
)
def test_a_bad_pause_date_returns_the_card_with_an_error(app, client, bot, until):
    card_of(post(client, bot, execute(bot, "join")))
    today = datetime.now(UTC).astimezone(ZoneInfo(ana(app).timezone)).date()
    named = {
        "yesterday": today - timedelta(days=1),
        "today": today,
        "in-two-years": today + timedelta(days=730),
    }
    value = named[until].isoformat() if until in named else until
    data = {} if value is None else {"until": value}
    card = card_of(post(client, bot, execute(bot, "pause", **data)))
    assert block(card, "error")["color"] == "Attention"
    db.session.expire_all()
    assert ana(app).preference.paused_until is None
    assert any(b["type"] == "Input.Date" for b in card["body"])


@pytest.mark.parametrize(
    "data",
    [{"mode": "by_pigeon", "group_size": "one_to_one"}, {"mode": "virtual", "group_size": "9"}, {}],
)
def test_bad_preferences_return_the_card_with_an_error(app, client, bot, data):
    card_of(post(client, bot, execute(bot, "join")))
    card = card_of(post(client, bot, execute(bot, "preferences", **data)))
    assert block(card, "error") is not None
    db.session.expire_all()
    assert ana(app).preference.mode == "either"


def test_a_stranger_pausing_is_told_to_join_first(app, client, bot):
    card = card_of(post(client, bot, execute(bot, "pause", until="2099-01-01")))
    assert block(card, "error") is not None and verbs(card) == ["join"]
    assert ana(app) is None


def test_unknown_verbs_and_malformed_invokes_never_500(app, client, bot):
    card = card_of(post(client, bot, execute(bot, "format_disk")))
    assert block(card, "error") is not None
    broken = activity(bot, "invoke", name="adaptiveCard/action", value={"action": "nope"})
    assert post(client, bot, broken).status_code == 400
    no_sender = activity(bot, "invoke", name="adaptiveCard/action")
    no_sender["from"] = {"id": "bad id with spaces\x00"}
    no_sender["value"] = {"action": {"type": "Action.Execute", "verb": "join"}}
    assert post(client, bot, no_sender).status_code == 400


def test_a_member_teams_will_not_describe_gets_an_error_card(app, client, bot):
    stranger = dict(ANA, id="29:1ghost", aadObjectId="aaaaaaaa-0000-0000-0000-00000000dead")
    card = card_of(post(client, bot, execute(bot, "join", sender=stranger)))  # 404 from Teams
    assert block(card, "error") is not None
    assert db.session.scalar(select(func.count(Person.id))) == 0


# --- a team ---------------------------------------------------------------------------------


def team_told(app, bot, which="notice") -> str:
    """Wait for the roster sync; the text of the card it posted in the team afterwards."""
    for worker in app.extensions["fika_teams_bot"].get("syncs", []):
        worker.join(timeout=30)
        assert not worker.is_alive()
    conversation, message = bot.activities[-1]
    assert conversation == TEAM
    db.session.expire_all()
    return block(message["attachments"][0]["content"], which)["text"]


def team_members(bot, count):
    ids = []
    for i in range(count):
        member = {
            "id": f"29:1member{i}",
            "name": f"Member {i}",
            "aadObjectId": f"bbbbbbbb-0000-0000-0000-{i:012d}",
            "email": f"member{i}@example.org",
            "userPrincipalName": f"member{i}@example.org",
        }
        bot.members[member["id"]] = member
        ids.append(member["id"])
    return ids


def admin(bot):
    member = {
        "id": "29:1admin",
        "name": "Ada Admin",
        "aadObjectId": "cccccccc-0000-0000-0000-000000000001",
        "email": ADMIN,
        "userPrincipalName": ADMIN,
    }
    bot.members[member["id"]] = member
    return member


def test_installing_in_a_team_offers_to_link_a_programme(app, client, bot):
    update = activity(
        bot, "conversationUpdate", personal=False, membersAdded=[{"id": f"28:{APP_ID}"}]
    )
    assert post(client, bot, update).status_code == 200
    ((conversation, message),) = bot.activities
    assert conversation == TEAM
    card = message["attachments"][0]["content"]
    assert verbs(card) == ["link_programme"]
    choices = next(b for b in card["body"] if b["type"] == "Input.ChoiceSet")["choices"]
    assert [c["title"] for c in choices] == [p.name for p in db.session.scalars(select(Programme))]
    # Someone else joining the team is no reason to post again.
    other = activity(bot, "conversationUpdate", personal=False, membersAdded=[{"id": "29:1x"}])
    assert post(client, bot, other).status_code == 200
    assert len(bot.activities) == 1


def test_linking_a_programme_syncs_a_roster_of_three_pages(app, client, bot):
    boss = admin(bot)
    roster = team_members(bot, 5)
    bot.rosters[TEAM] = [*roster, boss["id"]]
    bot.page_limit = 2  # six members: three pages
    programme = Programme(name="Engineering fika", timezone="Europe/Stockholm")
    known = Person(
        email="member0@example.org",
        name="Member Zero",
        department="Research",
        timezone="Europe/Stockholm",
        preference=Preference(active=True, mode="virtual"),
    )
    db.session.add_all([programme, known])
    db.session.commit()
    default_id = db.session.scalar(select(Programme.id).where(Programme.name != programme.name))

    card = card_of(
        post(client, bot, execute(bot, "link_programme", boss, False, programme=str(programme.id)))
    )

    assert block(card, "error") is None and block(card, "notice") is not None
    assert team_told(app, bot) == "Engineering fika: 6 people added, 0 already taking part."
    assert [r.get("continuationToken") is not None for r in bot.page_requests] == [
        False,
        True,
        True,
    ]
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).teams_team_id == TEAM
    members = set(
        db.session.scalars(
            select(Person.email)
            .join(ProgrammeMember, ProgrammeMember.person_id == Person.id)
            .where(ProgrammeMember.programme_id == programme.id)
        )
    )
    assert members == {f"member{i}@example.org" for i in range(5)} | {ADMIN}
    new = db.session.scalar(select(Person).where(Person.email == "member3@example.org"))
    assert (new.name, new.preference.active, new.preference.mode) == ("Member 3", True, "either")
    zero = db.session.scalar(select(Person).where(Person.email == "member0@example.org"))
    assert zero.preference.mode == "virtual" and zero.name == "Member Zero"  # untouched
    # The known person keeps the default programme they were in, and gains the linked one.
    assert set(
        db.session.scalars(
            select(ProgrammeMember.programme_id).where(ProgrammeMember.person_id == zero.id)
        )
    ) == {default_id, programme.id}

    # Linking again adds nobody twice.
    card = card_of(
        post(client, bot, execute(bot, "link_programme", boss, False, programme=str(programme.id)))
    )
    assert block(card, "error") is None
    assert team_told(app, bot) == "Engineering fika: 0 people added, 6 already taking part."
    assert db.session.scalar(select(func.count(Person.id))) == 6


def test_only_an_admin_may_link_and_a_bad_choice_links_nothing(app, client, bot):
    bot.rosters[TEAM] = team_members(bot, 2)
    card = card_of(post(client, bot, execute(bot, "link_programme", ANA, False, programme="1")))
    assert block(card, "error") is not None
    boss = admin(bot)
    for choice in ("999999", "", "1; DROP TABLE programme"):
        card = card_of(
            post(client, bot, execute(bot, "link_programme", boss, False, programme=choice))
        )
        assert block(card, "error") is not None
    assert bot.page_requests == []
    assert (
        db.session.scalar(
            select(func.count(Programme.id)).where(Programme.teams_team_id.is_not(None))
        )
        == 0
    )
    assert db.session.scalar(select(func.count(Person.id))) == 0


def test_a_roster_teams_cannot_serve_is_reported_in_the_team(app, client, bot):
    boss = admin(bot)
    programme_id = db.session.scalar(select(Programme.id))
    # No roster for TEAM in the fake: the connector answers 404.
    card = card_of(
        post(client, bot, execute(bot, "link_programme", boss, False, programme=str(programme_id)))
    )
    assert block(card, "error") is None
    assert team_told(app, bot, "error").startswith("Fika could not read this team's members")
    assert db.session.scalar(select(func.count(Person.id))) == 0  # nothing half-added
    db.session.expire_all()
    assert db.session.get(Programme, programme_id).teams_team_id == TEAM  # linking again retries


def test_every_returned_card_validates_for_a_paused_person(app, client, bot):
    """A paused person's card has the resume button and the date picker bounded from tomorrow."""
    card_of(post(client, bot, execute(bot, "join")))
    today = datetime.now(UTC).astimezone(ZoneInfo(ana(app).timezone)).date()
    card = card_of(post(client, bot, execute(bot, "pause", until=str(today + timedelta(days=3)))))
    picker = next(b for b in card["body"] if b["type"] == "Input.Date")
    assert date.fromisoformat(picker["min"]) == today + timedelta(days=1)


def test_the_messaging_endpoint_the_package_names_is_this_route(app, client, bot):
    from urllib.parse import urlsplit

    from integrations.teams_app import messaging_endpoint

    path = urlsplit(messaging_endpoint("https://fika.example.org")).path
    response = client.post(
        path, json=activity(bot), headers={"Authorization": f"Bearer {bot.token()}"}
    )
    assert response.status_code == 200 and len(bot.activities) == 1


def test_installing_in_the_personal_scope_greets_with_the_card(app, client, bot):
    install = activity(bot, "installationUpdate", action="add")
    assert post(client, bot, install).status_code == 200
    ((conversation, message),) = bot.activities
    assert conversation == "a:1personal-ana"
    assert verbs(message["attachments"][0]["content"]) == ["join"]
    removal = activity(bot, "installationUpdate", action="remove")
    assert post(client, bot, removal).status_code == 200
    assert len(bot.activities) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"from": "29:1ana"},
        {"from": {"id": ["29:1ana"]}},
        {"conversation": {"id": {"nested": 1}, "conversationType": "personal"}},
        {"serviceUrl": "http://127.0.0.1:1/plain-http/"},
        {"value": {"action": {"type": "Action.Execute", "verb": 7, "data": [1, 2]}}},
        {"value": {"action": {"type": "Action.Execute", "verb": "pause", "data": {"until": []}}}},
        {"value": None},
        {"channelData": {"team": {"id": "19:bad team id\x00"}}},
    ],
)
def test_hostile_but_signed_activities_never_500(app, client, bot, change):
    body = execute(bot, "join")
    body.update(change)
    token = bot.token(serviceurl=None)  # so a changed serviceUrl reaches the handler
    response = post(client, bot, body, token=token)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert response.is_json
    if response.status_code == 200:
        card_of(response)


def test_a_roster_that_fails_on_a_later_page_adds_nobody(app, client, bot):
    boss = admin(bot)
    bot.rosters[TEAM] = [*team_members(bot, 5), boss["id"]]
    bot.page_limit = 2
    bot.failing_pages = {2}
    programme_id = db.session.scalar(select(Programme.id))
    card_of(
        post(client, bot, execute(bot, "link_programme", boss, False, programme=str(programme_id)))
    )
    assert team_told(app, bot, "error").startswith("Fika could not read")
    assert len(bot.page_requests) == 2
    assert db.session.scalar(select(func.count(Person.id))) == 0  # page 1 was rolled back
    # Linking again, with Teams well again, adds the whole roster.
    bot.failing_pages = set()
    card_of(
        post(client, bot, execute(bot, "link_programme", boss, False, programme=str(programme_id)))
    )
    assert "6 people added" in team_told(app, bot)
