"""SlackMembers against the local Slack fake: conversations.members paging, users.info, 429s."""

from __future__ import annotations

import time

import pytest

from integrations.base import DeliveryError
from integrations.slack_members import (
    MAX_PAGE_SIZE,
    MemberSyncError,
    SlackMember,
    SlackMembers,
    include_guests,
)
from tests.fakes_chat import SLACK_TOKEN, FakeClock, FakeSlackApi

CHANNEL = "C0FIKA01"
PEOPLE = {
    "ada.lovelace@example.org": "U01ADA",
    "grace.hopper@example.org": "U02GRACE",
    "alan.turing@example.org": "U03ALAN",
    "gone.person@example.org": "U04GONE",
    "guest.visitor@example.org": "U05GUEST",
}


@pytest.fixture
def slack():
    with FakeSlackApi(dict(PEOPLE)) as fake:
        fake.members[CHANNEL] = [
            "U01ADA",
            "U0BOT",  # a bot user: Slack lists it in the channel like anyone
            "USLACKBOT",
            "U02GRACE",
            "U04GONE",
            "U05GUEST",
            "U03ALAN",
        ]
        fake.accounts.update(
            {
                "U0BOT": {"is_bot": True, "real_name": "Standup bot"},
                "U04GONE": {"deleted": True},
                "U05GUEST": {"is_restricted": True, "tz": "America/New_York"},
                "U01ADA": {"tz": "Europe/London"},
            }
        )
        fake.profiles["U02GRACE"] = {"title": "Rear Admiral", "real_name": "Grace  Hopper "}
        yield fake
        fake.check()


def lister(fake: FakeSlackApi, clock: FakeClock | None = None, **kwargs) -> SlackMembers:
    clock = clock or FakeClock()
    return SlackMembers(SLACK_TOKEN, fake.api_url, clock=clock, sleep=clock.sleep, **kwargs)


def test_people_are_listed_and_bots_deactivated_and_guests_are_not(slack):
    members = lister(slack)

    found = list(members.members(CHANNEL))

    assert found == [
        SlackMember(
            "U01ADA", "ada.lovelace@example.org", "Ada Lovelace", "Research", "Europe/London"
        ),
        # Raw strings: the caller cleans names and titles (double space kept here).
        SlackMember(
            "U02GRACE",
            "grace.hopper@example.org",
            "Grace  Hopper ",
            "Rear Admiral",
            "Europe/Stockholm",
        ),
        SlackMember(
            "U03ALAN", "alan.turing@example.org", "Alan Turing", "Research", "Europe/Stockholm"
        ),
    ]
    assert members.skipped == {"bot": 2, "deleted": 1, "guest": 1}
    (page,) = slack.of("conversations.members")
    assert page.params == {"channel": CHANNEL, "limit": "200"}
    assert page.headers["Authorization"] == f"Bearer {SLACK_TOKEN}"
    # Slackbot is known without asking; everyone else is looked up once, by id.
    assert [c.params for c in slack.of("users.info")] == [
        {"user": u} for u in ["U01ADA", "U0BOT", "U02GRACE", "U04GONE", "U05GUEST", "U03ALAN"]
    ]


def test_guests_take_part_when_the_setting_allows_it(slack):
    assert include_guests({"FIKA_SLACK_INCLUDE_GUESTS": "true"})
    assert not include_guests({"FIKA_SLACK_INCLUDE_GUESTS": "0"})
    assert not include_guests({})
    members = lister(slack, include_guests=include_guests({"FIKA_SLACK_INCLUDE_GUESTS": "on"}))

    found = list(members.members(CHANNEL))

    assert [m.user_id for m in found] == ["U01ADA", "U02GRACE", "U05GUEST", "U03ALAN"]
    guest = found[2]
    assert guest.guest and guest.tz == "America/New_York"
    assert guest.email == "guest.visitor@example.org"
    assert members.skipped == {"bot": 2, "deleted": 1}


def test_known_members_come_from_the_cache(slack):
    cache: dict[str, SlackMember | None] = {}
    list(lister(slack, cache=cache).members(CHANNEL))
    asked = len(slack.of("users.info"))

    again = list(lister(slack, cache=cache).members(CHANNEL))

    assert [m.user_id for m in again] == ["U01ADA", "U02GRACE", "U03ALAN"]
    assert len(slack.of("users.info")) == asked == 6
    assert cache["U04GONE"] is None and cache["U01ADA"].email == "ada.lovelace@example.org"


def test_a_member_without_email_is_skipped(slack):
    """Without users:read.email Slack leaves the email out: Fika cannot know that person."""
    slack.users.pop("alan.turing@example.org")
    slack.accounts["U03ALAN"] = {"real_name": "Alan Turing"}
    members = lister(slack)
    assert [m.user_id for m in members.members(CHANNEL)] == ["U01ADA", "U02GRACE"]
    assert members.skipped["no_email"] == 1


def test_twenty_thousand_members_page_and_survive_two_429s(slack):
    """100 pages of 200, the 2nd and 50th page answered 429 first: waited out, same cursor."""
    ids = [f"U{i:06d}" for i in range(20_000)]
    slack.members["CBIG"] = ids
    slack.users.update({f"p{i}@example.org": uid for i, uid in enumerate(ids)})
    slack.rate_limit("conversations.members", {2, 51}, retry_after="1")
    # users.info for 20,000 people is slow on a shared machine; the cache stands in for the
    # people already known, and the last 300 are asked for (two 429s on users.info too).
    cache: dict[str, SlackMember | None] = {
        uid: SlackMember(uid, f"p{i}@example.org", "", "", "") for i, uid in enumerate(ids[:-300])
    }
    clock = FakeClock()
    members = lister(slack, clock, cache=cache)

    count = 0
    started = time.monotonic()
    for _member in members.members("CBIG"):
        count += 1
        if count == 1:
            # Streamed: the first member arrives after the first page, not after all 100.
            assert len(slack.of("conversations.members")) == 1
    assert time.monotonic() - started < 60

    assert count == 20_000
    pages = slack.of("conversations.members")
    assert len(pages) == 100 + 2  # two pages asked twice
    assert all(p.params["limit"] == "200" for p in pages)
    assert "cursor" not in pages[0].params
    assert pages[1].params == pages[2].params  # resumed from the same cursor after the 429
    assert pages[50].params == pages[51].params
    assert len({p.params.get("cursor") for p in pages}) == 100
    assert clock.sleeps.count(1.0) == 2
    assert len(slack.of("users.info")) == 300
    assert members.cursor == ""  # read to the end


def test_the_page_size_is_sent_as_limit_and_capped_at_slacks_maximum(slack):
    members = lister(slack, page_size=3)
    assert len(list(members.members(CHANNEL))) == 3
    assert [p.params.get("cursor") is None for p in slack.of("conversations.members")] == [
        True,
        False,
        False,
    ]
    assert {p.params["limit"] for p in slack.of("conversations.members")} == {"3"}
    with pytest.raises(ValueError):
        SlackMembers(SLACK_TOKEN, slack.api_url, page_size=MAX_PAGE_SIZE + 1)


def test_a_long_retry_after_ends_the_sync_with_the_cursor_to_resume_from(slack):
    slack.rate_limit("conversations.members", {2}, retry_after="3600")
    clock = FakeClock()
    members = lister(slack, clock, page_size=3)

    seen = []
    with pytest.raises(MemberSyncError) as caught:
        for member in members.members(CHANNEL):
            seen.append(member.user_id)

    error = caught.value
    assert error.transient and error.retry_after == 3600.0
    assert error.reason == "conversations.members: HTTP 429 ratelimited"
    assert error.resume_cursor == slack.of("conversations.members")[1].params["cursor"]
    assert 3600.0 not in clock.sleeps
    # A later sync carries on from there, and nobody before the cursor is asked for again.
    rest = [m.user_id for m in lister(slack, page_size=3).members(CHANNEL, error.resume_cursor)]
    assert seen + rest == ["U01ADA", "U02GRACE", "U03ALAN"]


def test_too_many_429s_in_a_row_give_up(slack):
    slack.rate_limit("users.info", {1, 2, 3}, retry_after="0")
    with pytest.raises(MemberSyncError) as caught:
        list(lister(slack, max_rate_limit_retries=2).members(CHANNEL))
    assert caught.value.transient and caught.value.resume_cursor is None
    assert len(slack.of("users.info")) == 3


@pytest.mark.parametrize(
    ("status", "body", "transient", "reason"),
    [
        (200, {"ok": False, "error": "invalid_auth"}, False, "conversations.members: invalid_auth"),
        (
            200,
            {"ok": False, "error": "missing_scope", "needed": "channels:read"},
            False,
            "conversations.members: missing_scope",
        ),
        (
            503,
            {"ok": False, "error": "service_unavailable"},
            True,
            "conversations.members: HTTP 503 service_unavailable",
        ),
        # A body that echoes the token: its "code" is not one, so it is left out.
        (
            401,
            {"ok": False, "error": f"token {SLACK_TOKEN} revoked"},
            False,
            "conversations.members: HTTP 401",
        ),
    ],
)
def test_failures_raise_a_safe_reason(slack, status, body, transient, reason):
    slack.queue("conversations.members", status, body)
    with pytest.raises(DeliveryError) as caught:
        list(lister(slack).members(CHANNEL))
    assert caught.value.reason == reason and caught.value.transient is transient
    assert SLACK_TOKEN not in str(caught.value) and "127.0.0.1" not in caught.value.reason


def test_an_unknown_channel_is_permanent(slack):
    with pytest.raises(MemberSyncError) as caught:
        list(lister(slack).members("CNOPE"))
    assert caught.value.reason == "conversations.members: channel_not_found"
    assert not caught.value.transient


def test_an_unreachable_slack_does_not_leak_the_url_or_token():
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    url = server.url_for("/api/")
    server.stop()
    with pytest.raises(MemberSyncError) as caught:
        list(SlackMembers(SLACK_TOKEN, url).members(CHANNEL))
    error = caught.value
    assert error.transient
    assert "127.0.0.1" not in error.reason and SLACK_TOKEN not in error.reason
    assert str(server.port) not in error.reason
