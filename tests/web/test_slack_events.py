"""Slack's Events API URL: verified like every Slack route, answers the handshake, acks events."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import pytest

from integrations.slack_manifest import slack_manifest

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def slack_app(app, make_app):
    # ``app`` makes the tables: events some handler acts on are recorded (slack_event).
    return make_app(FIKA_SLACK_BOT_TOKEN="xoxb-test", FIKA_SLACK_SIGNING_SECRET=SECRET)


def post(app, payload, *, secret=SECRET, ts=None, raw=None, path="/slack/events"):
    body = raw if raw is not None else json.dumps(payload).encode()
    ts = int(time.time()) if ts is None else ts
    digest = hmac.new(secret.encode(), b"v0:%d:" % ts + body, hashlib.sha256).hexdigest()
    headers = {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/json",
    }
    return app.test_client().post(path, data=body, headers=headers)


def test_url_verification_answers_with_the_challenge(slack_app):
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    response = post(slack_app, {"token": "x", "challenge": challenge, "type": "url_verification"})
    assert response.status_code == 200
    assert response.get_json() == {"challenge": challenge}


def test_the_app_manifests_event_url_is_this_route(slack_app):
    events_url = slack_manifest("https://coffee.example.org")["settings"]["event_subscriptions"]
    path = urlsplit(events_url["request_url"]).path
    response = post(slack_app, {"challenge": "c1", "type": "url_verification"}, path=path)
    assert response.get_json() == {"challenge": "c1"}


def test_an_event_callback_is_acknowledged_at_once(slack_app):
    envelope = {
        "type": "event_callback",
        "event_id": "Ev123",
        "event": {"type": "member_joined_channel", "user": "UANA1", "channel": "C1"},
    }
    response = post(slack_app, envelope)
    assert response.status_code == 200
    assert response.get_data() == b""


@pytest.mark.parametrize(
    "how",
    [
        {"secret": "not-the-signing-secret"},
        {"ts": int(time.time()) - 301},  # replayed: older than five minutes
    ],
)
def test_a_forged_or_stale_request_gets_401_and_no_challenge(slack_app, how):
    response = post(slack_app, {"challenge": "abc", "type": "url_verification"}, **how)
    assert response.status_code == 401
    assert b"abc" not in response.get_data()


def test_a_body_that_is_not_utf8_is_refused_not_a_500(slack_app):
    # Slack sends UTF-8 only; the SDK's verifier would raise on these bytes.
    assert post(slack_app, None, raw=b"\xff\xfe").status_code == 401


def test_an_unsigned_request_gets_401(slack_app):
    response = slack_app.test_client().post(
        "/slack/events", json={"challenge": "abc", "type": "url_verification"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b'{"no": "type"}',
        b'{"type": ["url_verification"]}',
        b'{"type": "something_else"}',
        b'{"type": "url_verification"}',
        b'{"type": "url_verification", "challenge": 7}',
        b'{"type": "url_verification", "challenge": ""}',
    ],
)
def test_a_signed_body_that_is_no_envelope_gets_400(slack_app, raw):
    assert post(slack_app, None, raw=raw).status_code == 400


def test_without_slack_settings_the_route_is_not_there(app):
    response = post(app, {"challenge": "abc", "type": "url_verification"})
    assert response.status_code == 404
