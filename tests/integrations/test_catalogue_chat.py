"""chat_channels: settings in, channels out; half a configuration names what is missing."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.base import ConfigError
from integrations.chat_registry import announce_round, chat_channels
from integrations.slack import SlackChannel
from integrations.teams import TeamsBotChannel, TeamsWorkflowChannel

SLACK = {"FIKA_SLACK_BOT_TOKEN": "xoxb-1", "FIKA_SLACK_SIGNING_SECRET": "s3cret"}
BOT = {
    "FIKA_TEAMS_BOT_APP_ID": "app",
    "FIKA_TEAMS_BOT_APP_PASSWORD": "pw",
    "FIKA_TEAMS_BOT_TENANT_ID": "tenant-1",
}
HOOK = {"FIKA_TEAMS_WEBHOOK_URL": "https://example.org/workflows/1?sig=x"}


def close_all(channels) -> None:
    for channel in channels:
        getattr(channel, "close", lambda: None)()


def test_nothing_configured_means_no_chat_channels():
    assert chat_channels({}) == []
    assert chat_channels({name: "" for name in {**SLACK, **BOT, **HOOK}}) == []


def test_slack_with_defaults_and_shared_cache():
    user_ids: dict[str, str] = {"a@example.org": "U1"}
    (channel,) = chat_channels(SLACK, user_ids=user_ids)
    assert isinstance(channel, SlackChannel) and channel.name == "slack"
    assert channel.client.base_url == "https://slack.com/api/"
    assert channel.user_ids is user_ids


def test_slack_api_url_setting_is_used():
    (channel,) = chat_channels({**SLACK, "FIKA_SLACK_API_URL": "http://127.0.0.1:9/api"})
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


def test_teams_webhook_without_bot_gets_group_cards():
    channels = chat_channels(HOOK)
    try:
        assert [type(c) for c in channels] == [TeamsWorkflowChannel]
        assert "sig=x" not in repr(channels[0])
    finally:
        close_all(channels)


def test_teams_bot_replaces_group_cards_and_defaults_its_urls():
    conversation_ids: dict[str, str] = {}
    channels = chat_channels({**SLACK, **BOT, **HOOK}, conversation_ids=conversation_ids)
    try:
        slack, bot = channels
        assert isinstance(slack, SlackChannel) and isinstance(bot, TeamsBotChannel)
        assert bot.name == "teams"
        assert bot.service_url == "https://smba.trafficmanager.net/teams"
        assert bot.authority == "https://login.microsoftonline.com/tenant-1"
        assert bot.conversation_ids is conversation_ids
        assert "pw" not in repr(bot)
    finally:
        close_all(channels)


def announce_through(server: HTTPServer, people=212, departments=18, hybrid_share=0.61):
    """Run announce_round against both webhooks on ``server`` (already given its handlers)."""
    server.start()
    try:
        settings = {
            "FIKA_SLACK_WEBHOOK_URL": server.url_for("/services/T/B/x"),
            "FIKA_TEAMS_WEBHOOK_URL": server.url_for("/workflows/1"),
        }
        outcomes = announce_round(
            settings, people=people, departments=departments, hybrid_share=hybrid_share
        )
        server.check()
        return outcomes
    finally:
        server.stop()


def test_announce_round_posts_to_both_webhooks():
    received: dict[str, dict] = {}

    def record(name):
        def handler(request: Request) -> Response:
            received[name] = json.loads(request.get_data(as_text=True))
            return Response("ok", status=200 if name == "slack" else 202)

        return handler

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/services/T/B/x", method="POST").respond_with_handler(record("slack"))
    server.expect_request("/workflows/1", method="POST").respond_with_handler(record("teams"))

    assert announce_through(server) == {"slack": None, "teams": None}
    words = "Today's coffee breaks are out: 212 people, 18 departments, 61% mixing office and home"
    assert received["slack"]["text"] == words
    assert received["teams"]["attachments"][0]["content"]["body"][0]["text"] == words


def test_announce_round_reports_a_broken_webhook_without_stopping_the_other():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/services/T/B/x").respond_with_data("channel_is_archived", status=410)
    server.expect_request("/workflows/1").respond_with_data("", status=202)

    outcomes = announce_through(server, people=3, departments=2, hybrid_share=0.5)

    assert outcomes["teams"] is None
    assert outcomes["slack"] is not None and "410 channel_is_archived" in outcomes["slack"].reason
