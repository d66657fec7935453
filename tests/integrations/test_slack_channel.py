"""SlackChannel against a local fake of the Slack Web API that checks requests as documented."""

from __future__ import annotations

import json
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.base import DeliveryError
from integrations.slack import (
    LOOKUP_INTERVAL,
    OPEN_INTERVAL,
    Pacer,
    SlackChannel,
    post_announcement,
)
from tests.fakes_chat import SLACK_TOKEN, FakeClock, FakeSlackApi, make_message

USERS = {f"person{i}@example.org": f"U0{i}AAAA" for i in range(8)}


@pytest.fixture
def slack():
    with FakeSlackApi(dict(USERS)) as fake:
        yield fake
        fake.check()


def channel_for(fake: FakeSlackApi, clock: FakeClock | None = None, **kwargs) -> SlackChannel:
    clock = clock or FakeClock()
    return SlackChannel(SLACK_TOKEN, api_url=fake.api_url, clock=clock, sleep=clock.sleep, **kwargs)


def test_group_dm_flow_sends_documented_requests(slack):
    """Lookup each member, open one group DM with users=U1,U2,U3, post blocks and a fallback."""
    user_ids: dict[str, str] = {}
    channel = channel_for(slack, user_ids=user_ids)

    outcomes = channel.send([make_message(3)])

    assert outcomes == [None]
    assert [c.params["email"] for c in slack.of("users.lookupByEmail")] == [
        "person0@example.org",
        "person1@example.org",
        "person2@example.org",
    ]
    (opened,) = slack.of("conversations.open")
    assert opened.params == {"users": "U00AAAA,U01AAAA,U02AAAA"}
    (posted,) = slack.of("chat.postMessage")
    assert posted.params["channel"] in slack.channels
    assert "Person 0" in posted.params["text"]
    assert [b["block_id"] for b in posted.params["blocks"]][-2:] == ["fika_actions", "fika_links"]
    assert posted.params["unfurl_links"] is False
    assert posted.params["metadata"]["event_payload"]["key"] == "round-1/group-1"
    assert user_ids == {f"person{i}@example.org": f"U0{i}AAAA" for i in range(3)}
    assert channel.unreachable == {}


def test_known_user_ids_skip_the_lookup(slack):
    """Ids remembered from an earlier round are reused: no users.lookupByEmail at all."""
    channel = channel_for(slack, user_ids={k: v for k, v in USERS.items()})

    assert channel.send([make_message(2)]) == [None]
    assert slack.of("users.lookupByEmail") == []
    assert slack.of("conversations.open")[0].params["users"] == "U00AAAA,U01AAAA"


@pytest.mark.parametrize("error", ["users_not_found", "user_not_found"])
def test_member_without_slack_account_is_reported_for_email_fallback(slack, error):
    """Not found for one member: the others still get the DM, the missing one is reported."""
    slack.queue("users.lookupByEmail", 200, {"ok": True, "user": {"id": "U00AAAA"}})
    slack.queue("users.lookupByEmail", 200, {"ok": False, "error": error})
    handed_over = []
    channel = channel_for(slack, fallback=lambda m, members: handed_over.append((m.key, members)))

    outcomes = channel.send([make_message(3)])

    assert outcomes == [None]
    assert slack.of("conversations.open")[0].params["users"] == "U00AAAA,U02AAAA"
    assert channel.unreachable == {"round-1/group-1": ["person1@example.org"]}
    assert [(key, [a.email for a in members]) for key, members in handed_over] == [
        ("round-1/group-1", ["person1@example.org"])
    ]


def test_nobody_on_slack_is_a_permanent_failure_and_all_fall_back(slack):
    slack.users.clear()
    channel = channel_for(slack)

    (outcome,) = channel.send([make_message(2)])

    assert isinstance(outcome, DeliveryError) and not outcome.transient
    assert "users_not_found" in outcome.reason
    assert channel.unreachable == {
        "round-1/group-1": ["person0@example.org", "person1@example.org"]
    }
    assert slack.of("conversations.open") == []


def test_documented_errors_are_recorded_not_raised(slack):
    """conversations.open user_not_found and chat.postMessage channel_not_found end as failures."""
    slack.queue("conversations.open", 200, {"ok": False, "error": "user_not_found"})
    slack.queue("chat.postMessage", 200, {"ok": False, "error": "channel_not_found"})
    channel = channel_for(slack)

    outcomes = channel.send([make_message(2, key="a"), make_message(2, key="b"), make_message(2)])

    assert [o.reason if o else None for o in outcomes] == [
        "conversations.open: user_not_found",
        "chat.postMessage: channel_not_found",
        None,
    ]
    assert not any(o.transient for o in outcomes if o)


def test_invalid_auth_fails_the_rest_of_the_batch_without_calling_slack(slack):
    slack.queue("users.lookupByEmail", 200, {"ok": False, "error": "invalid_auth"})
    channel = channel_for(slack)

    outcomes = channel.send([make_message(2, key=f"k{i}") for i in range(5)])

    assert all(o is not None and o.reason == "users.lookupByEmail: invalid_auth" for o in outcomes)
    assert len(slack.calls) == 1


def test_server_error_is_transient(slack):
    slack.queue("chat.postMessage", 503, {"ok": False, "error": "service_unavailable"})
    (outcome,) = channel_for(slack).send([make_message(2)])
    assert outcome is not None and outcome.transient
    assert outcome.reason == "chat.postMessage: HTTP 503 service_unavailable"


def test_a_url_the_sdk_refuses_is_permanent():
    """slack_sdk raises SlackRequestError before sending anything: a setting to fix."""
    channel = SlackChannel(SLACK_TOKEN, api_url="ftp://127.0.0.1/api/", max_retries=0)
    (outcome,) = channel.send([make_message(2)])
    assert outcome is not None and not outcome.transient
    assert outcome.reason == "users.lookupByEmail: request not sent (SlackRequestError)"


@pytest.mark.parametrize("retry_after", ["1", "4", "Thu, 01 Jan 1970 00:00:00 GMT"])
def test_a_429_with_a_short_wait_is_retried_after_it(slack, retry_after):
    """Slack asks for a few seconds (or a date already past): waited out, then tried again."""
    slack.queue(
        "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry_after}
    )
    clock = FakeClock()
    channel = channel_for(slack, clock)

    assert channel.send([make_message(2)]) == [None]

    posts = slack.of("chat.postMessage")
    assert len(posts) == 2 and posts[1].params == posts[0].params
    wanted = float(retry_after) if retry_after.isdigit() else 0.0
    assert wanted in clock.sleeps


def test_a_429_with_a_long_wait_goes_back_to_the_outbox_without_waiting(slack):
    """An hour's Retry-After would hold the worker an hour: it is not waited out in-process."""
    slack.queue(
        "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3600"}
    )
    clock = FakeClock()
    (outcome,) = channel_for(slack, clock).send([make_message(2)])
    assert outcome is not None and outcome.transient and outcome.retry_after == 3600.0
    assert len(slack.of("chat.postMessage")) == 1 and max(clock.sleeps, default=0) < 5


def test_429_beyond_the_retry_budget_is_transient_with_retry_after(slack):
    for _ in range(2):
        slack.queue(
            "conversations.open", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}
        )
    (outcome,) = channel_for(slack, max_retries=1).send([make_message(2)])
    assert outcome is not None and outcome.transient and outcome.retry_after == 0.0
    assert outcome.reason == "conversations.open: HTTP 429 ratelimited"


def test_connection_refused_is_transient_and_does_not_leak_the_url():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    url = server.url_for("/api/")
    server.stop()  # nothing listens there any more
    channel = SlackChannel(SLACK_TOKEN, api_url=url, max_retries=0)
    (outcome,) = channel.send([make_message(2)])
    assert outcome is not None and outcome.transient
    assert "127.0.0.1" not in outcome.reason


def test_sends_are_paced_to_slack_tiers(slack):
    """Ten groups: lookups at most 100/min, opens at most 50/min, and no real waiting."""
    clock = FakeClock()
    channel = channel_for(slack, clock)
    messages = [make_message(2, key=f"g{i}") for i in range(10)]
    slack.users.update({f"person{i}@example.org": f"U0{i}AAAA" for i in range(2)})

    started = time.monotonic()
    assert channel.send(messages) == [None] * 10
    assert time.monotonic() - started < 5

    # Same two members each time: 2 lookups (one gap of 0.6 s), then cached; 10 opens need 9
    # gaps of 1.2 s; and no more: each post to the (same) DM is already 1 s after the last one.
    assert len(slack.of("users.lookupByEmail")) == 2
    assert clock.now - 1000.0 == pytest.approx(LOOKUP_INTERVAL + 9 * OPEN_INTERVAL)


def test_pacer_spaces_calls_per_key():
    clock = FakeClock()
    pacer = Pacer(LOOKUP_INTERVAL, clock, clock.sleep)
    for _ in range(3):
        pacer.wait("a")
    pacer.wait("b")  # another channel is not held up by "a"
    assert clock.sleeps == pytest.approx([LOOKUP_INTERVAL, LOOKUP_INTERVAL])


def test_announcement_goes_to_the_incoming_webhook():
    received = []

    def hook(request: Request) -> Response:
        assert request.content_type.startswith("application/json")
        received.append(json.loads(request.get_data(as_text=True)))
        return Response("ok")

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/services/T0/B0/secret", method="POST").respond_with_handler(hook)
    server.start()
    try:
        post_announcement(server.url_for("/services/T0/B0/secret"), "Today's coffee breaks …")
        server.check()
    finally:
        server.stop()
    assert received == [{"text": "Today's coffee breaks …", "unfurl_links": False}]


def test_announcement_refused_is_a_delivery_error_without_the_secret_url():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/services/T0/B0/secret").respond_with_data("no_service", status=404)
    server.start()
    try:
        with pytest.raises(DeliveryError) as caught:
            post_announcement(server.url_for("/services/T0/B0/secret"), "hello")
    finally:
        server.stop()
    assert not caught.value.transient
    assert "secret" not in caught.value.reason and "404" in caught.value.reason


def test_a_later_version_of_a_break_edits_the_posted_message(slack):
    posts: dict[str, str] = {}
    channel = channel_for(slack, posts=posts)
    first = make_message(3, key="uid-0-slack")
    assert channel.send([first]) == [None]
    (post,) = slack.of("chat.postMessage")
    (posted,) = slack.messages
    assert posts == {first.invite.uid: f"{posted[0]} {posted[1]}"}

    moved = make_message(
        3, key="uid-1-slack", sequence=1, start=first.invite.start.replace(hour=14)
    )
    assert channel.send([moved]) == [None]
    (update,) = slack.of("chat.update")
    assert (update.params["channel"], update.params["ts"]) == posted
    assert len(slack.of("chat.postMessage")) == 1
    assert slack.messages[posted]["blocks"] == update.params["blocks"] != post.params["blocks"]
    slack.check()


def test_a_message_slack_no_longer_has_is_posted_again(slack):
    channel = channel_for(slack, posts={})
    first = make_message(2, key="uid-0-slack")
    channel.send([first])
    slack.queue("chat.update", 200, {"ok": False, "error": "message_not_found"})
    assert channel.send([make_message(2, key="uid-1-slack", sequence=1)]) == [None]
    assert len(slack.of("chat.update")) == 1 and len(slack.of("chat.postMessage")) == 2
    newest = max(slack.messages, key=lambda key: float(key[1]))  # the second post
    assert channel.posts == {first.invite.uid: f"{newest[0]} {newest[1]}"}
    slack.check()
