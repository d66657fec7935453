"""Google Calendar against a local fake that checks the JWT grant and the documented requests."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response

from integrations.base import ConfigError
from integrations.google import JWT_BEARER, SCOPE, GoogleChannel, GoogleSettings, event_id_for
from tests.integrations.builders import ANA, BEN, CHEN, make_invite, messages_for

SUBJECT = "fika@corp.example"
TOKEN = "ya29.fake-token"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account_for(rsa_key, server) -> dict:
    """A service account key whose token_uri is the fake on ``server``."""
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "client_email": "fika-bot@project.iam.gserviceaccount.example",
        "private_key_id": "key-1",
        "private_key": pem,
        "token_uri": server.url_for("/token"),
    }


@pytest.fixture
def service_account(rsa_key, httpserver_ipv4) -> dict:
    return service_account_for(rsa_key, httpserver_ipv4)


class FakeGoogle:
    """The OAuth token endpoint and the Calendar API, recording every call."""

    def __init__(self, server, public_key):
        self.server, self.public_key = server, public_key
        self.calls: list[tuple[str, str, dict, dict]] = []
        self.tokens: list[dict] = []
        self.planned: list[Response] = []  # planned API answers
        self.token_planned: list[Response] = []  # planned token endpoint answers
        self.events: dict[str, dict] = {}
        server.expect_request("/token", method="POST").respond_with_handler(self.token)
        events = re.compile(r"^/calendar/v3/calendars/primary/events(/[0-9a-v]+)?$")
        server.expect_request(events).respond_with_handler(self.api)
        server.expect_request("/calendar/v3/freeBusy", method="POST").respond_with_handler(
            self.free_busy
        )

    def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        assert form["grant_type"] == JWT_BEARER
        claims = jwt.decode(
            form["assertion"], self.public_key, algorithms=["RS256"],
            audience=self.server.url_for("/token"),
        )  # fmt: skip
        assert jwt.get_unverified_header(form["assertion"])["kid"] == "key-1"
        self.tokens.append(claims)
        if self.token_planned:
            return self.token_planned.pop(0)
        body = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}
        return Response(json.dumps(body), content_type="application/json")

    def api(self, request: Request) -> Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        body = request.get_json(silent=True) or {}
        self.calls.append((request.method, request.path, dict(request.args), body))
        if self.planned:
            return self.planned.pop(0)
        event_id = request.path.rsplit("/", 1)[1] if request.path.count("/") > 5 else body["id"]
        if request.method == "POST":
            if event_id in self.events:
                return Response(json.dumps({"error": {"code": 409}}), status=409)
            self.events[event_id] = body
        elif request.method == "PATCH":
            if event_id not in self.events:
                return Response(status=404)
            self.events[event_id].update(body)
        elif request.method == "DELETE":
            return Response(status=204 if self.events.pop(event_id, None) else 410)
        return Response(json.dumps({"id": event_id}), content_type="application/json")

    def free_busy(self, request: Request) -> Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        body = request.get_json()
        self.calls.append(("POST", request.path, {}, body))
        if self.planned:
            return self.planned.pop(0)
        calendars = {
            item["id"]: (
                {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                if item["id"] == CHEN.email
                else {"busy": [{"start": "2025-03-12T09:00:00Z", "end": "2025-03-12T10:00:00Z"}]}
            )
            for item in body["items"]
        }
        return Response(json.dumps({"calendars": calendars}), content_type="application/json")


@pytest.fixture
def google(httpserver_ipv4, rsa_key):
    return FakeGoogle(httpserver_ipv4, rsa_key.public_key())


@pytest.fixture
def channel(google, service_account):
    settings = GoogleSettings.load(
        json.dumps(service_account), SUBJECT, base_url=google.server.url_for("/calendar/v3")
    )
    return GoogleChannel(settings, timeout=5)


def test_event_ids_follow_googles_base32hex_rules():
    event_id = event_id_for("round-7-group-3@fika.example.org")
    assert re.fullmatch(r"[0-9a-v]{5,1024}", event_id)
    assert event_id == event_id_for("round-7-group-3@fika.example.org")
    assert event_id != event_id_for("round-7-group-4@fika.example.org")


def test_insert_patch_delete(google, channel):
    invite = make_invite()
    event_id = event_id_for(invite.uid)
    assert channel.send(messages_for(invite)) == [None, None, None]
    ((method, path, args, body),) = google.calls
    assert (method, path) == ("POST", "/calendar/v3/calendars/primary/events")
    assert args == {"conferenceDataVersion": "1", "sendUpdates": "all"}
    assert body["id"] == event_id
    assert body["attendees"] == [
        {"email": m.email, "displayName": m.name} for m in (ANA, BEN, CHEN)
    ]
    request = body["conferenceData"]["createRequest"]
    assert request["conferenceSolutionKey"] == {"type": "hangoutsMeet"}
    assert request["requestId"] and request["requestId"] == channel_request_id(invite)
    assert body["start"] == {"dateTime": "2025-03-12T13:00:00Z", "timeZone": "UTC"}
    assert body["summary"] == invite.summary and invite.starter in body["description"]
    (claims,) = google.tokens
    assert claims["iss"] == "fika-bot@project.iam.gserviceaccount.example"
    assert claims["sub"] == SUBJECT and claims["scope"] == SCOPE

    moved = replace(invite, sequence=1, start=invite.start + timedelta(hours=1),
                    end=invite.end + timedelta(hours=1))  # fmt: skip
    assert channel.send(messages_for(moved)) == [None, None, None]
    method, path, args, body = google.calls[-1]
    assert (method, path) == ("PATCH", f"/calendar/v3/calendars/primary/events/{event_id}")
    assert args["sendUpdates"] == "all" and "conferenceData" not in body
    assert body["start"]["dateTime"] == "2025-03-12T14:00:00Z"

    cancelled = replace(moved, sequence=2, method="CANCEL")
    assert channel.send(messages_for(cancelled)) == [None, None, None]
    method, path, args, _ = google.calls[-1]
    assert (method, path, args) == (
        "DELETE", f"/calendar/v3/calendars/primary/events/{event_id}", {"sendUpdates": "all"}
    )  # fmt: skip
    assert google.events == {}
    assert len(google.tokens) == 1  # reused until it expires


def channel_request_id(invite) -> str:
    return f"fika-{event_id_for(invite.uid)[:40]}"


def test_a_retried_insert_updates_instead_of_duplicating(google, channel):
    messages = messages_for(make_invite())
    channel.send(messages)
    assert channel.send(messages) == [None, None, None]
    assert [c[0] for c in google.calls] == ["POST", "POST", "PATCH"]
    assert len(google.events) == 1


def test_429_with_retry_after_is_transient_then_succeeds(google, channel):
    google.planned.append(Response("rate limited", status=429, headers={"Retry-After": "30"}))
    messages = messages_for(make_invite())
    outcomes = channel.send(messages)
    assert all(o is not None and o.transient and o.retry_after == 30.0 for o in outcomes)
    assert channel.send(messages) == [None, None, None]


def test_forbidden_is_permanent(google, channel):
    google.planned.append(Response('{"error": {"code": 403}}', status=403))
    (outcome,) = channel.send(messages_for(make_invite())[:1])
    assert outcome is not None and not outcome.transient and "403" in outcome.reason


@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded"])
def test_a_rate_limit_403_is_transient_as_google_documents(google, channel, reason):
    body = {"error": {"code": 403, "message": "Rate Limit Exceeded",
                      "errors": [{"domain": "usageLimits", "reason": reason}]}}  # fmt: skip
    google.planned.append(Response(json.dumps(body), status=403, headers={"Retry-After": "20"}))
    (outcome,) = channel.send(messages_for(make_invite())[:1])
    assert outcome is not None and outcome.transient and outcome.retry_after == 20.0
    assert outcome.reason == f"Google Calendar: HTTP 403 {reason}"


def test_fetch_busy_queries_free_busy(google, channel):
    start = datetime(2025, 3, 12, tzinfo=UTC)
    busy = channel.fetch_busy([ANA.email, BEN.email, CHEN.email], start, start + timedelta(days=1))
    interval = (datetime(2025, 3, 12, 9, tzinfo=UTC), datetime(2025, 3, 12, 10, tzinfo=UTC))
    assert busy == {ANA.email: [interval], BEN.email: [interval]}
    ((_, path, _, body),) = google.calls
    assert path == "/calendar/v3/freeBusy"
    assert body["timeMin"] == "2025-03-12T00:00:00Z" and body["timeMax"] == "2025-03-13T00:00:00Z"
    assert body["items"] == [{"id": ANA.email}, {"id": BEN.email}, {"id": CHEN.email}]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("/no/such/file.json", "cannot read"),
        ("{not json", "not a JSON service account key"),
        ('{"type": "authorized_user"}', "service_account"),
        ('{"type": "service_account", "client_email": "x@y"}', "no private_key"),
        (
            '{"type": "service_account", "client_email": "x@y", "private_key": "nope"}',
            "unusable private_key",
        ),
    ],
)
def test_bad_keys_name_the_setting(key, message):
    with pytest.raises(ConfigError, match=f"^FIKA_GOOGLE_SERVICE_ACCOUNT_FILE: .*{message}"):
        GoogleSettings.load(key, SUBJECT)


def test_the_key_can_be_a_file(service_account, tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(service_account))
    settings = GoogleSettings.load(str(path), SUBJECT, calendar_id="team@corp.example")
    assert settings.service_account["client_email"] == service_account["client_email"]
    assert "private_key" not in repr(settings)  # secrets stay out of logs
