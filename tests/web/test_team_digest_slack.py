"""A learning team's digest goes to its programme's Slack channel when the programme is linked.

A programme linked to a Slack channel (``slack_channel_id``) with the bot token set gets its
"what we learned" digest from the bot (``chat.postMessage`` to that channel, Block Kit the fake
checks, in the programme's language) through the outbox, once even with two clocks, and not on
the deployment-wide webhook. An unlinked programme keeps the webhook (see test_learning_goals).
"""

from __future__ import annotations

from sqlalchemy import select

from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.learning_teams import team_members, teams_of
from core.models import Delivery, Programme, TeamCheckin
from jobs.clock import tick
from tests.conftest import settings_of
from tests.fakes_chat import SLACK_TOKEN, FakeSlackApi
from tests.web.test_learning_goals import (  # noqa: F401 - fixtures
    FINAL,
    app_config,
    formed,
    rows,
)
from web.config import runtime_of

CHANNEL = "C0RUST1"


def bot(slack: FakeSlackApi) -> dict[str, str]:
    """The bot channel's settings, pointed at the fake."""
    return {
        "FIKA_SLACK_BOT_TOKEN": SLACK_TOKEN,
        "FIKA_SLACK_SIGNING_SECRET": "s3cret",
        "FIKA_SLACK_API_URL": slack.api_url,
    }


def answer_all(programme_id: int) -> list[str]:
    """Every member of the first team answers the final check-in and agrees to publish."""
    programme = db.session.get(Programme, programme_id)
    first, second = teams_of(programme)
    learned = []
    for n, person in enumerate(team_members(first)):
        learned.append(f"lifetimes <{n}>")
        db.session.add(
            TeamCheckin(
                group_id=first.id,
                person_id=person.id,
                stage="final",
                goal_reached=True,
                learned=learned[-1],
                publish=True,
            )
        )
    for person in team_members(second):
        db.session.add(
            TeamCheckin(group_id=second.id, person_id=person.id, stage="final", learned="macros")
        )
    db.session.commit()
    return learned


def test_a_linked_programme_gets_its_digest_in_its_slack_channel_once(app, make_app, formed):  # noqa: F811
    with FakeSlackApi({}) as slack:
        slack.members[CHANNEL] = ["UBOT1"]  # the bot is a member of the linked channel
        linked = make_app(**bot(slack))
        with linked.app_context():
            programme = db.session.get(Programme, formed)
            programme.slack_channel_id = CHANNEL
            programme.language = "sv"
            db.session.commit()
        for now in (FINAL, FINAL):  # two clocks: the final check-ins
            tick(runtime_of(linked), now=now)
        with linked.app_context():
            learned = answer_all(formed)
        for now in (FINAL.replace(hour=18), FINAL.replace(hour=18)):  # two clocks: the digest
            tick(runtime_of(linked), now=now)
        with linked.app_context():
            digest = rows("digest")
            posts = [r for r in digest if r.channel == "slack"]
            assert [(r.recipient, r.key.endswith("-slack")) for r in posts] == [
                (f"slack:{CHANNEL}", True)
            ]  # one row for team A; team B published nothing
            assert not [r for r in digest if r.channel == "slack_webhook"]  # not the webhook
            assert {r.channel for r in digest} == {"slack", "outbox"}  # and the emails
            channels = configured_channels(settings_of(linked))
            send_due({"slack": channels["slack"]}, now=FINAL.replace(hour=19))
            assert db.session.get(Delivery, posts[0].id).status == "sent"
            # Nothing left to send: a second worker pass posts nothing.
            send_due({"slack": channels["slack"]}, now=FINAL.replace(hour=19))
        sent = [c for c in slack.calls if c.method == "chat.postMessage"]
        assert len(sent) == 1
        params = sent[0].params
        assert params["channel"] == CHANNEL
        assert "Rust" in params["text"] and "lifetimes <0>" in params["text"]
        assert "macros" not in params["text"]
        shown = "\n".join(
            b["text"]["text"] for b in params["blocks"] if b["type"] in {"header", "section"}
        )
        # In the programme's language (Swedish), the answers escaped for Slack's mrkdwn.
        assert "Det här lärde sig en lärgrupp om Rust" in shown
        assert all(f"{text}".replace("<", "&lt;").replace(">", "&gt;") in shown for text in learned)


def test_an_unlinked_programme_keeps_the_webhook_with_the_bot_set(app, make_app, formed):  # noqa: F811
    with FakeSlackApi({}) as slack:
        unlinked = make_app(**bot(slack))
        tick(runtime_of(unlinked), now=FINAL)
        with unlinked.app_context():
            answer_all(formed)
        tick(runtime_of(unlinked), now=FINAL.replace(hour=18))
        with unlinked.app_context():
            digest = rows("digest")
            assert [r.recipient for r in digest if r.channel == "slack_webhook"] == [
                "webhook:slack_webhook"
            ]
            assert not [r for r in digest if r.channel == "slack"]
            assert db.session.scalar(select(Programme.slack_channel_id)) is None


def test_a_teams_linked_programme_gets_its_digest_in_the_teams_channel_once(
    app,
    make_app,
    formed,  # noqa: F811
):
    """With the Teams bot set up, a programme linked to a team (``teams_team_id``) gets one row
    for the team's channel, once even with two clocks, and none on the webhook."""
    team = "19:rust-team@thread.tacv2"
    linked = make_app(
        FIKA_TEAMS_BOT_APP_ID="11111111-aaaa-bbbb-cccc-222222222222",
        FIKA_TEAMS_BOT_APP_PASSWORD="app-secret",
        FIKA_TEAMS_BOT_TENANT_ID="tenant-1",
    )
    with linked.app_context():
        programme = db.session.get(Programme, formed)
        programme.teams_team_id = team
        programme.language = "de"
        db.session.commit()
    tick(runtime_of(linked), now=FINAL)
    with linked.app_context():
        answer_all(formed)
    for now in (FINAL.replace(hour=18), FINAL.replace(hour=18)):  # two clocks
        tick(runtime_of(linked), now=now)
    with linked.app_context():
        digest = rows("digest")
        posts = [r for r in digest if r.channel == "teams"]
        assert [r.recipient for r in posts] == [f"teams:{team}"]  # team A; B published nothing
        assert not [r for r in digest if r.channel.endswith("_webhook")]
        payload = posts[0].payload
        assert payload["notice"]["chat_channel"] == team and payload.get("language") == "de"
