"""Slack and Teams in the catalogue: settings in, channels out; half a configuration names what
is missing; the notices (the round's announcement) go to both webhooks."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations import catalogue
from integrations.base import ConfigError, Message, Notice
from integrations.slack import SlackChannel
from integrations.slack_blocks import announcement_text
from integrations.teams import TeamsBotChannel, TeamsWorkflowChannel
from integrations.teams_cards import announcement_card

SLACK = {"FIKA_SLACK_BOT_TOKEN": "xoxb-1", "FIKA_SLACK_SIGNING_SECRET": "s3cret"}
BOT = {
    "FIKA_TEAMS_BOT_APP_ID": "app",
    "FIKA_TEAMS_BOT_APP_PASSWORD": "pw",
    "FIKA_TEAMS_BOT_TENANT_ID": "tenant-1",
}
HOOK = {"FIKA_TEAMS_WEBHOOK_URL": "https://example.org/workflows/1?sig=x"}


def close_all(channels) -> None:
    for channel in channels:
        catalogue.close(channel)


def chat_channels(settings, *, user_ids=None, conversation_ids=None, posts=None) -> list:
    """The built chat channels, with these memories of ids (checked first, as at start-up)."""
    catalogue.check(settings)
    memories = {
        "slack_user": user_ids,
        "slack_post": posts,
        "teams_conversation": conversation_ids,
    }
    return list(catalogue.build(settings, lambda namespace: memories[namespace]).values())


def test_nothing_configured_means_no_chat_channels():
    assert [c.name for c in chat_channels({})] == ["outbox"]
    blank = {name: "" for name in {**SLACK, **BOT, **HOOK}}
    assert [c.name for c in chat_channels(blank)] == ["outbox"]


def test_slack_with_defaults_and_shared_cache():
    user_ids: dict[str, str] = {"a@example.org": "U1"}
    posts: dict[str, str] = {"fika-1@example.org": "G1 1.000100"}
    (_, channel) = chat_channels(SLACK, user_ids=user_ids, posts=posts)
    assert isinstance(channel, SlackChannel) and channel.name == "slack"
    assert channel.client.base_url == "https://slack.com/api/"
    assert channel.user_ids is user_ids
    assert channel.posts is posts  # where group messages were posted, for chat.update


def test_slack_api_url_setting_is_used():
    (_, channel) = chat_channels({**SLACK, "FIKA_SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert channel.client.base_url == "http://127.0.0.1:9/api/"


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        ({"FIKA_SLACK_BOT_TOKEN": "xoxb-1"}, "FIKA_SLACK_SIGNING_SECRET"),
        ({"FIKA_SLACK_SIGNING_SECRET": "s"}, "FIKA_SLACK_BOT_TOKEN"),
        ({"FIKA_SLACK_API_URL": "http://127.0.0.1:9/api/"}, "FIKA_SLACK_BOT_TOKEN"),
        ({**SLACK, "FIKA_SLACK_API_URL": "slack.com/api"}, "FIKA_SLACK_API_URL"),
        ({"FIKA_SLACK_WEBHOOK_URL": "hooks.slack.com"}, "FIKA_SLACK_WEBHOOK_URL"),
        ({"FIKA_TEAMS_BOT_APP_ID": "app"}, "FIKA_TEAMS_BOT_APP_PASSWORD: required"),
        ({**BOT, "FIKA_TEAMS_BOT_TENANT_ID": " "}, "FIKA_TEAMS_BOT_TENANT_ID"),
        ({"FIKA_TEAMS_BOT_SERVICE_URL": "https://smba.example/"}, "FIKA_TEAMS_BOT_APP_ID"),
        ({"FIKA_TEAMS_WEBHOOK_URL": "ftp://example.org/x"}, "FIKA_TEAMS_WEBHOOK_URL"),
        ({**BOT, "FIKA_TEAMS_BOT_AUTHORITY": "login/tenant"}, "FIKA_TEAMS_BOT_AUTHORITY"),
    ],
)
def test_partial_settings_name_what_is_missing(settings, names):
    with pytest.raises(ConfigError, match=names):
        chat_channels(settings)


def test_invalid_secret_url_is_not_echoed():
    with pytest.raises(ConfigError) as caught:
        chat_channels({"FIKA_TEAMS_WEBHOOK_URL": "sig=SECRET-VALUE"})
    assert "SECRET-VALUE" not in str(caught.value)


def test_teams_webhook_without_bot_gets_group_cards_and_the_notices():
    channels = chat_channels(HOOK)
    try:
        _, cards, notices = channels
        assert [type(cards), type(notices)] == [TeamsWorkflowChannel] * 2
        assert (cards.name, notices.name) == ("teams", "teams_webhook")
        assert "sig=x" not in repr(cards) + repr(notices)
    finally:
        close_all(channels)


def test_teams_bot_replaces_group_cards_and_defaults_its_urls():
    conversation_ids: dict[str, str] = {}
    channels = chat_channels({**SLACK, **BOT, **HOOK}, conversation_ids=conversation_ids)
    try:
        _, slack, bot, notices = channels
        assert notices.name == "teams_webhook"  # the webhook still carries the notices
        assert isinstance(slack, SlackChannel) and isinstance(bot, TeamsBotChannel)
        assert bot.name == "teams"
        assert bot.service_url == "https://smba.trafficmanager.net/teams"
        assert bot.authority == "https://login.microsoftonline.com/tenant-1"
        assert bot.conversation_ids is conversation_ids
        assert "pw" not in repr(bot)
    finally:
        close_all(channels)


def announce_through(server: HTTPServer, people=212, departments=18, hybrid_share=0.61):
    """Send the round's announcement through both notice channels on ``server``."""
    server.start()
    try:
        settings = {
            "FIKA_SLACK_WEBHOOK_URL": server.url_for("/services/T/B/x"),
            "FIKA_TEAMS_WEBHOOK_URL": server.url_for("/workflows/1"),
        }
        channels = catalogue.build(settings)
        notice = Notice(
            text=announcement_text(people, departments, hybrid_share),
            card=announcement_card(people, departments, hybrid_share),
        )
        outcomes = {}
        for name in ("slack_webhook", "teams_webhook"):
            message = Message(key=f"announcement-1-{name}", kind="announcement", notice=notice)
            (outcomes[name],) = channels[name].send([message])
        close_all(channels.values())
        server.check()
        return outcomes
    finally:
        server.stop()


def test_the_announcement_goes_to_both_webhooks():
    received: dict[str, dict] = {}

    def record(name):
        def handler(request: Request) -> Response:
            received[name] = json.loads(request.get_data(as_text=True))
            return Response("ok", status=200 if name == "slack" else 202)

        return handler

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/services/T/B/x", method="POST").respond_with_handler(record("slack"))
    server.expect_request("/workflows/1", method="POST").respond_with_handler(record("teams"))

    assert announce_through(server) == {"slack_webhook": None, "teams_webhook": None}
    words = "Today's coffee breaks are out: 212 people, 18 departments, 61% mixing office and home"
    assert received["slack"]["text"] == words
    assert received["teams"]["attachments"][0]["content"]["body"][0]["text"] == words


def test_a_broken_webhook_fails_its_message_without_stopping_the_other():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/services/T/B/x").respond_with_data("channel_is_archived", status=410)
    server.expect_request("/workflows/1").respond_with_data("", status=202)

    outcomes = announce_through(server, people=3, departments=2, hybrid_share=0.5)

    assert outcomes["teams_webhook"] is None
    slack = outcomes["slack_webhook"]
    assert slack is not None and "410 channel_is_archived" in slack.reason and not slack.transient


def test_listing_the_channels_builds_none_of_them():
    """The outbox writer lists channels on every change: no key file is read for that."""
    settings = {"FIKA_GOOGLE_SERVICE_ACCOUNT_FILE": "/missing/key.json",
                "FIKA_GOOGLE_SUBJECT": "a@b.example", **SLACK}  # fmt: skip
    entries = catalogue.enabled(settings)
    assert [e.name for e in entries] == ["google", "slack"]
    assert [(e.audience, e.reads_free_busy) for e in entries] == [("group", True), ("group", False)]
    with pytest.raises(ConfigError, match="FIKA_GOOGLE_SERVICE_ACCOUNT_FILE"):
        catalogue.check(settings)  # building it does read the file, at start-up


def test_every_entry_builds_a_channel_of_its_own_name():
    everything = {**SLACK, **BOT, **HOOK, "FIKA_SLACK_WEBHOOK_URL": "https://hooks.example/x",
                  "FIKA_SMTP_URL": "smtp://mail.example.org", "FIKA_MAIL_FROM": "f@example.org",
                  "FIKA_CALDAV_URL": "https://dav.example.org/c/", "FIKA_OUTBOX_DIR": "/tmp/x",
                  "FIKA_GRAPH_TENANT_ID": "t", "FIKA_GRAPH_CLIENT_ID": "c",
                  "FIKA_GRAPH_CLIENT_SECRET": "s",
                  "FIKA_GRAPH_ORGANISER": "o@example.org"}  # fmt: skip
    names = [e.name for e in catalogue.CATALOGUE]
    assert len(set(names)) == len(names)
    wanted = [e for e in catalogue.CATALOGUE if e.wanted(everything)]
    assert [e.name for e in catalogue.CATALOGUE if e not in wanted] == ["google"]  # no key file
    for entry in wanted:
        channel = entry.build(everything, None)
        try:
            assert channel.name == entry.name and entry.settings_prefix.startswith("FIKA_")
        finally:
            catalogue.close(channel)
    # Graph sends the invitations, so email does not; everything else runs beside it.
    assert "email" not in [e.name for e in catalogue.enabled(everything)]
