"""Teams delivery against local fakes: a Workflows webhook, Entra and the Bot Framework."""

from __future__ import annotations

import json

import pytest
import requests
from pytest_httpserver import HTTPServer

from integrations.base import Message
from integrations.teams import TeamsBotChannel, TeamsWorkflowChannel
from tests.fakes_chat import (
    BOT_SCOPE,
    HOOK_PATH,
    HOOK_QUERY,
    FakeBotFramework,
    FakeWorkflowHook,
    card_validator,
    make_message,
)


@pytest.fixture
def hook():
    fake = FakeWorkflowHook()
    fake.server.start()
    yield fake
    fake.server.stop()
    fake.server.check()


@pytest.fixture
def workflow(hook):
    channel = TeamsWorkflowChannel(hook.url)
    yield channel
    channel.close()


def test_one_card_per_group(hook, workflow):
    outcomes = workflow.send([make_message(2, key="a"), make_message(3, key="b", mode="in_person")])
    assert outcomes == [None, None]
    assert len(hook.received) == 2
    card = hook.received[1]["attachments"][0]["content"]
    assert "Stockholm HQ" in json.dumps(card)
    assert {a["type"] for a in card["actions"]} == {"Action.OpenUrl"}


def test_429_is_transient_with_retry_after(hook, workflow):
    hook.canned.append((429, {"Retry-After": "7"}))
    (outcome,) = workflow.send([make_message(2)])
    assert outcome is not None and outcome.transient and outcome.retry_after == 7.0
    assert "TOP-SECRET" not in outcome.reason and "workflows" not in outcome.reason


@pytest.mark.parametrize(
    ("status", "transient"), [(500, True), (502, True), (400, False), (403, False), (404, False)]
)
def test_http_errors_are_classified(hook, workflow, status, transient):
    hook.canned.append((status, {}))
    (outcome,) = workflow.send([make_message(2)])
    assert outcome is not None and outcome.transient is transient
    assert outcome.reason == f"teams webhook: HTTP {status}"


def test_unreachable_webhook_never_reveals_its_url(caplog):
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    url = server.url_for(HOOK_PATH) + "?" + HOOK_QUERY
    server.stop()
    channel = TeamsWorkflowChannel(url, timeout=2)
    try:
        (outcome,) = channel.send([make_message(2)])
    finally:
        channel.close()
    assert outcome is not None and outcome.transient
    for text in (outcome.reason, caplog.text, repr(channel)):
        assert "TOP-SECRET" not in text and HOOK_PATH not in text


# --- Bot Framework ----------------------------------------------------------------------------

APP_ID, APP_PASSWORD, TENANT = "11111111-aaaa-bbbb-cccc-222222222222", "app-secret", "tenant-1"


@pytest.fixture
def bot_framework(https_server):
    """Entra and the connector on the shared https test server (tests/servers.py)."""
    fake = FakeBotFramework(https_server, APP_ID, APP_PASSWORD, TENANT)
    yield fake
    fake.check()


@pytest.fixture
def session(tls_files):
    with requests.Session() as s:
        # Trust only the test certificate. trust_env=False because requests lets
        # REQUESTS_CA_BUNDLE override a session's verify, and so no proxy setting applies.
        s.trust_env = False
        s.verify = str(tls_files.certfile)
        yield s


def bot_channel(fake, session, conversation_ids, password=APP_PASSWORD, **kwargs):
    return TeamsBotChannel(
        APP_ID,
        password,
        TENANT,
        fake.service_url,
        conversation_ids,
        authority=fake.authority,
        session=session,
        **kwargs,
    )


def test_bot_sends_one_card_per_member_with_a_client_credentials_token(bot_framework, session):
    conversations = {f"person{i}@example.org": f"a:conv-{i}" for i in range(3)}
    channel = bot_channel(bot_framework, session, conversations)

    outcomes = channel.send([make_message(3), make_message(2, key="round-1/group-2")])

    assert outcomes == [None, None]
    assert [c for c, _ in bot_framework.activities] == [
        "a:conv-0",
        "a:conv-1",
        "a:conv-2",
        "a:conv-0",
        "a:conv-1",
    ]
    _, activity = bot_framework.activities[0]
    assert activity["type"] == "message" and activity["summary"].startswith("Fika: Person 0")
    # One token for the whole batch (msal caches it), asked for the Bot Framework scope.
    assert len(bot_framework.token_requests) == 1
    assert bot_framework.token_requests[0]["scope"] == BOT_SCOPE
    assert bot_framework.token_requests[0]["client_id"] == APP_ID


def test_bot_creates_missing_conversation_and_remembers_it(bot_framework, session):
    conversations = {"person0@example.org": "a:conv-0"}
    channel = bot_channel(
        bot_framework, session, conversations, member_ids={"person1@example.org": "29:1xyz"}
    )

    assert channel.send([make_message(2)]) == [None]

    (created,) = bot_framework.created
    assert created["members"] == [{"id": "29:1xyz"}]
    assert conversations["person1@example.org"] == "a:11xyz"
    assert [c for c, _ in bot_framework.activities] == ["a:conv-0", "a:11xyz"]


def test_member_without_a_chat_is_unreachable_for_email_fallback(bot_framework, session):
    channel = bot_channel(bot_framework, session, {"person0@example.org": "a:conv-0"})

    assert channel.send([make_message(3)]) == [None]
    assert channel.unreachable == {
        "round-1/group-1": ["person1@example.org", "person2@example.org"]
    }


def test_per_recipient_message_goes_to_that_person_only(bot_framework, session):
    conversations = {f"person{i}@example.org": f"a:conv-{i}" for i in range(2)}
    group = make_message(2)
    message = Message(key="k", invite=group.invite, recipient=group.invite.attendees[1])
    assert bot_channel(bot_framework, session, conversations).send([message]) == [None]
    assert [c for c, _ in bot_framework.activities] == ["a:conv-1"]


def test_throttled_connector_is_transient_and_retry_skips_members_already_reached(
    bot_framework, session
):
    conversations = {f"person{i}@example.org": f"a:conv-{i}" for i in range(3)}
    channel = bot_channel(bot_framework, session, conversations)
    bot_framework.activity_status.extend([(201, {}), (429, {"Retry-After": "2"})])
    bot_framework.activities.append(("placeholder", {}))  # the canned 201 is not recorded

    (outcome,) = channel.send([make_message(3)])
    assert outcome is not None and outcome.transient and outcome.retry_after == 2.0

    assert channel.send([make_message(3)]) == [None]
    assert [c for c, _ in bot_framework.activities[1:]] == ["a:conv-1", "a:conv-2"]


def test_wrong_app_password_is_a_permanent_failure(bot_framework, session):
    channel = bot_channel(
        bot_framework, session, {"person0@example.org": "a:conv-0"}, password="wrong"
    )
    (outcome,) = channel.send([make_message(2)])
    assert outcome is not None and not outcome.transient
    assert outcome.reason == "teams bot token: HTTP 401 invalid_client: AADSTS7000215"
    assert "wrong" not in outcome.reason and bot_framework.activities == []


def test_bot_posts_a_channel_notice_into_the_teams_channel_it_names(bot_framework, session):
    """A learning team's digest for a Teams-linked programme: one card in the team's General
    channel (its conversation id is the team's id), not a 1:1 card per member."""
    from integrations.base import MessageKind, Notice
    from integrations.teams_cards import adaptive_card, text_block

    team = "19:abc123@thread.tacv2"
    card = adaptive_card([text_block("What we learned: Rust")], "What we learned: Rust")
    notice = Notice(text="What we learned: Rust", card=card, subject="Rust", chat_channel=team)
    message = Message(key="digest-t1-teams", kind=MessageKind.DIGEST, notice=notice)
    channel = bot_channel(bot_framework, session, {})

    assert channel.send([message]) == [None]
    ((conversation, activity),) = bot_framework.activities
    assert conversation == team
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card_validator().validate(attachment["content"])
    assert activity["summary"] == "Rust"
