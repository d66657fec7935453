"""Slack request signatures: signed as Slack documents, checked through slack_sdk's verifier."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from integrations.base import ConfigError
from integrations.slack_verify import verify_slack_request

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BODY = b"token=xyz&team_id=T1&command=%2Ffika&text=pause+for+14+days&user_id=U1"
NOW = 1_741_687_200


def signed(body: bytes = BODY, secret: str = SECRET, ts: int = NOW) -> dict[str, str]:
    """Headers exactly as Slack builds them: v0=HMAC-SHA256(secret, "v0:{ts}:{body}")."""
    base = b"v0:" + str(ts).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def test_valid_request_passes():
    assert verify_slack_request(SECRET, signed(), BODY, now=NOW)


def test_header_names_are_case_insensitive_and_body_may_be_text():
    headers = {k.lower(): v for k, v in signed().items()}
    assert verify_slack_request(SECRET, headers, BODY.decode(), now=NOW + 300)


def test_a_body_that_is_not_utf8_is_rejected_even_with_its_hmac():
    body = b"text=\xff\xfe"
    assert not verify_slack_request(SECRET, signed(body), body, now=NOW)
    utf8 = "text=caf\u00e9".encode()
    assert verify_slack_request(SECRET, signed(utf8), utf8, now=NOW)


def test_wrong_secret_is_rejected():
    assert not verify_slack_request(SECRET, signed(secret="another-secret"), BODY, now=NOW)


def test_altered_body_is_rejected():
    assert not verify_slack_request(SECRET, signed(), BODY.replace(b"14", b"99"), now=NOW)


@pytest.mark.parametrize("age", [301, -301])
def test_timestamp_more_than_five_minutes_off_is_rejected(age):
    assert not verify_slack_request(SECRET, signed(ts=NOW - age), BODY, now=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": str(NOW)},
        {"X-Slack-Signature": signed()["X-Slack-Signature"]},
        {**signed(), "X-Slack-Request-Timestamp": "yesterday"},
        {**signed(), "X-Slack-Signature": "v0=" + "0" * 64},
    ],
)
def test_missing_or_malformed_headers_are_rejected(headers):
    assert not verify_slack_request(SECRET, headers, BODY, now=NOW)


def test_empty_secret_is_a_configuration_error():
    with pytest.raises(ConfigError, match="FIKA_SLACK_SIGNING_SECRET"):
        verify_slack_request(" ", signed(), BODY, now=NOW)
