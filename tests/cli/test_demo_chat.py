"""`fika demo` with Slack and Teams fakes on loopback: group DMs with working buttons, cards."""

import json
import re
from datetime import UTC, datetime
from urllib.parse import urlencode, urlparse

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import select

from core.db import db
from core.models import Group, GroupMember, Person
from fika.cli import cli
from tests.fakes_chat import SLACK_TOKEN, FakeSlackApi, FakeWorkflowHook
from tests.web.test_chat_routes import SECRET, signed, wait_for
from web import create_app


@pytest.fixture
def fakes():
    slack = FakeSlackApi({f"demo{i:04d}@example.org": f"UDEMO{i}" for i in range(1, 7)})
    hook = FakeWorkflowHook()
    hook.server.start()
    with slack:
        yield slack, hook
    hook.server.stop()
    hook.server.check()
    slack.check()


def actions_of(blocks):
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for e in actions["elements"]}


def open_urls(node):
    if isinstance(node, dict):
        found = [node["url"]] if node.get("type") == "Action.OpenUrl" else []
        return found + [u for v in node.values() for u in open_urls(v)]
    if isinstance(node, list):
        return [u for v in node for u in open_urls(v)]
    return []


# Early on a Monday, so today's breaks are still ahead and every button can act on them.
@time_machine.travel(datetime(2026, 11, 30, 5, 0, tzinfo=UTC), tick=True)
def test_demo_posts_slack_dms_and_teams_cards_whose_buttons_work(
    fakes, database_url, tmp_path, monkeypatch
):
    slack, hook = fakes
    for key, value in {
        "DATABASE_URL": database_url,
        "FIKA_INSTANCE_PATH": str(tmp_path / "instance"),
        "FIKA_ENV": "test",
        "FIKA_BASE_URL": "https://fika.example.org",
        "FIKA_SLACK_BOT_TOKEN": SLACK_TOKEN,
        "FIKA_SLACK_SIGNING_SECRET": SECRET,
        "FIKA_SLACK_API_URL": slack.api_url,
        "FIKA_TEAMS_WEBHOOK_URL": hook.url,
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["demo", "--people", "6"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 groups, 0 unmatched" in result.output
    assert "dead 0" in result.output

    opens, posts = slack.of("conversations.open"), slack.of("chat.postMessage")
    assert len(opens) == 3 and len(posts) == 3
    assert sorted(len(c.params["users"].split(",")) for c in opens) == [2, 2, 2]
    # One valid card per group (validated by the fake), then the round's announcement.
    assert len(hook.received) == 4
    (announcement,) = [
        e for e in hook.received if "Today's coffee breaks are out: 6 people" in json.dumps(e)
    ]
    hook.received.remove(announcement)

    app = create_app()
    try:
        with app.app_context():
            groups = {g.uid: g.id for g in db.session.scalars(select(Group))}
            slack_ids = {
                p.id: f"UDEMO{int(p.email[4:8])}" for p in db.session.scalars(select(Person))
            }
        client = app.test_client()
        # Slack: each of the three buttons, pressed by a member of that group.
        presses = []
        for post, action_id in zip(posts, ["fika_in", "fika_cant", "fika_pause_week"], strict=True):
            value = actions_of(post.params["blocks"])[action_id]
            group_id = groups[value]
            with app.app_context():
                member = db.session.scalars(
                    select(GroupMember.person_id).where(GroupMember.group_id == group_id)
                ).first()
            payload = {
                "type": "block_actions",
                "user": {"id": slack_ids[member]},
                "response_url": slack.response_url,
                "actions": [{"action_id": action_id, "value": value}],
            }
            body = urlencode({"payload": json.dumps(payload)})
            assert client.post("/slack/actions", data=body, headers=signed(body)).status_code == 200
            presses.append((action_id, group_id, member))
        assert wait_for(lambda: len(slack.responses) == 3)
        texts = sorted(r["text"] for r in slack.responses)
        assert [t.split()[0] for t in texts] == ["Great,", "Paused", "Thanks"], texts
        with app.app_context():
            (_, g_in, p_in), (_, g_cant, p_cant), (_, _, p_pause) = presses
            assert db.session.get(GroupMember, (g_in, p_in)).response == "in"
            # A pair with one out: the break is cancelled for both (the seats stay as history).
            assert db.session.get(Group, g_cant).status == "cancelled"
            assert db.session.get(GroupMember, (g_cant, p_cant)).response == "cant"
            assert db.session.get(Person, p_pause).preference.paused_until is not None

        # Teams: the card's buttons open signed links; the person signs in and confirms.
        cards = {_group_of_card(app, e["attachments"][0]["content"]): e for e in hook.received}
        card = cards[g_in]["attachments"][0]["content"]  # the one break still on
        urls = open_urls(card)
        assert len(urls) == 3 and all(u.startswith("https://fika.example.org/a/") for u in urls)
        in_path = urlparse(urls[0]).path
        assert client.get(in_path).status_code == 403  # not signed in: asked to sign in first
        with app.app_context():
            (other,) = db.session.scalars(
                select(GroupMember.person_id).where(
                    GroupMember.group_id == g_in, GroupMember.person_id != p_in
                )
            ).all()
        with client.session_transaction() as session:
            session["person_id"] = other
        page = client.get(in_path).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post(in_path, data={"csrf_token": token}).status_code == 200
        with app.app_context():
            assert db.session.get(GroupMember, (g_in, other)).response == "in"
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _group_of_card(app, card):
    """The group a card is about: the one whose video link the card shows."""
    text = json.dumps(card)
    with app.app_context():
        for group in db.session.scalars(select(Group)):
            if group.video_url in text:
                return group.id
    raise AssertionError("card names no group's video link")
