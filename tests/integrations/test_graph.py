"""Microsoft Graph against a local HTTPS fake that checks requests the way Graph documents them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from werkzeug import Request, Response

from integrations.graph import UID_PROPERTY, GraphChannel, GraphSettings, transaction_id
from tests.integrations.builders import ANA, BEN, CHEN, make_invite, messages_for

TENANT = "contoso-tenant-id"
ORGANISER = "fika@contoso.example"
TOKEN = "graph-token-1"


class FakeGraph:
    """The identity platform (OpenID configuration + token endpoint) and the Graph API."""

    def __init__(self, server):
        self.server = server
        self.calls: list[tuple[str, str, dict]] = []
        self.token_requests: list[dict] = []
        # Planned API answers, e.g. 429 once: (status, headers) or (status, headers, body).
        self.next_status: list[tuple] = []
        self.token_answers: list[Response] = []  # planned token endpoint answers
        self.events: dict[str, dict] = {}
        base = server.url_for("").rstrip("/")
        server.expect_request(f"/{TENANT}/v2.0/.well-known/openid-configuration").respond_with_json(
            {
                "issuer": f"{base}/{TENANT}/v2.0",
                "authorization_endpoint": f"{base}/{TENANT}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/{TENANT}/oauth2/v2.0/token",
            }
        )
        server.expect_request(f"/{TENANT}/oauth2/v2.0/token", method="POST").respond_with_handler(
            self.token
        )
        server.expect_request(
            f"/v1.0/users/{ORGANISER}/events", method="POST"
        ).respond_with_handler(self.create)
        server.expect_request(f"/v1.0/users/{ORGANISER}/events", method="GET").respond_with_handler(
            self.find
        )
        server.expect_request(
            f"/v1.0/users/{ORGANISER}/calendar/getSchedule", method="POST"
        ).respond_with_handler(self.get_schedule)
        for event_id in ("AAMk-1", "AAMk-2"):
            path = f"/v1.0/users/{ORGANISER}/events/{event_id}"
            server.expect_request(path, method="PATCH").respond_with_handler(self.patch)
            server.expect_request(f"{path}/cancel", method="POST").respond_with_handler(self.cancel)

    def settings(self, **overrides) -> GraphSettings:
        values = dict(
            tenant_id=TENANT,
            client_id="client-123",
            client_secret="s3cret",
            organiser=ORGANISER,
            base_url=self.server.url_for("/v1.0"),
            authority=self.server.url_for(""),
        )
        values.update(overrides)
        return GraphSettings(**values)

    def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        self.token_requests.append(form)
        if self.token_answers:
            return self.token_answers.pop(0)
        if form.get("client_secret") != "s3cret":
            return Response(
                json.dumps({"error": "invalid_client", "error_description": "AADSTS7000215"}),
                status=401,
                content_type="application/json",
            )
        body = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3599}
        return Response(json.dumps(body), content_type="application/json")

    def _record(self, request: Request) -> Response | None:
        body = request.get_json(silent=True) or {}
        self.calls.append((request.method, request.path, body))
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        if self.next_status:
            status, headers, *body = self.next_status.pop(0)
            error = {"error": {"code": "TooManyRequests", "message": "slow down"}}
            return Response(body[0] if body else json.dumps(error), status=status, headers=headers)
        return None

    def create(self, request: Request) -> Response:
        planned = self._record(request)
        if planned:
            return planned
        body = request.get_json()
        event_id = f"AAMk-{len(self.events) + 1}"
        self.events[event_id] = body
        return Response(json.dumps({"id": event_id, **body}), status=201)

    def patch(self, request: Request) -> Response:
        planned = self._record(request)
        if planned:
            return planned
        event_id = request.path.rsplit("/", 1)[1]
        self.events[event_id].update(request.get_json())
        return Response(json.dumps({"id": event_id}), status=200)

    def cancel(self, request: Request) -> Response:
        return self._record(request) or Response(status=202)

    def find(self, request: Request) -> Response:
        planned = self._record(request)
        if planned:
            return planned
        wanted = request.args["$filter"]
        found = [
            {"id": event_id}
            for event_id, body in self.events.items()
            if f"ep/value eq '{body['singleValueExtendedProperties'][0]['value']}'" in wanted
            and UID_PROPERTY in wanted
        ]
        return Response(json.dumps({"value": found}), content_type="application/json")

    def get_schedule(self, request: Request) -> Response:
        planned = self._record(request)
        if planned:
            return planned
        assert request.headers["Prefer"] == 'outlook.timezone="UTC"'
        body = request.get_json()
        value = []
        for email in body["schedules"]:
            if email == CHEN.email:
                value.append({"scheduleId": email, "error": {"message": "not in tenant"}})
                continue
            items = [
                {"status": "busy", "start": {"dateTime": "2025-03-12T09:00:00.0000000",
                 "timeZone": "UTC"}, "end": {"dateTime": "2025-03-12T10:00:00.0000000",
                 "timeZone": "UTC"}},
                {"status": "free", "start": {"dateTime": "2025-03-12T11:00:00.0000000",
                 "timeZone": "UTC"}, "end": {"dateTime": "2025-03-12T12:00:00.0000000",
                 "timeZone": "UTC"}},
            ]  # fmt: skip
            value.append({"scheduleId": email, "scheduleItems": items})
        return Response(json.dumps({"value": value}), content_type="application/json")


@pytest.fixture
def graph(https_server):
    return FakeGraph(https_server)


@pytest.fixture
def channel(graph, tls_files):
    return GraphChannel(graph.settings(), {}, timeout=5, verify=str(tls_files.certfile))


def test_create_update_cancel(graph, channel):
    invite = make_invite()
    assert channel.send(messages_for(invite)) == [None, None, None]  # one event per group
    assert channel.id_store == {invite.uid: "AAMk-1"}
    ((method, path, body),) = graph.calls
    assert (method, path) == ("POST", f"/v1.0/users/{ORGANISER}/events")
    assert body["subject"] == invite.summary
    assert body["start"] == {"dateTime": "2025-03-12T13:00:00", "timeZone": "UTC"}
    assert body["end"] == {"dateTime": "2025-03-12T13:30:00", "timeZone": "UTC"}
    assert body["attendees"] == [
        {"emailAddress": {"address": m.email, "name": m.name}, "type": "required"}
        for m in (ANA, BEN, CHEN)
    ]
    assert body["isOnlineMeeting"] is True
    assert body["onlineMeetingProvider"] == "teamsForBusiness"
    assert body["transactionId"] == transaction_id(invite.uid)
    assert body["body"]["contentType"] == "HTML" and invite.starter in body["body"]["content"]
    assert graph.token_requests[0]["grant_type"] == "client_credentials"
    assert graph.token_requests[0]["scope"] == "https://graph.microsoft.com/.default"
    assert graph.token_requests[0]["client_id"] == "client-123"

    moved = replace(invite, sequence=1, start=invite.start + timedelta(hours=1),
                    end=invite.end + timedelta(hours=1), attendees=(ANA, BEN))  # fmt: skip
    assert channel.send(messages_for(moved)) == [None, None]
    method, path, body = graph.calls[-1]
    assert (method, path) == ("PATCH", f"/v1.0/users/{ORGANISER}/events/AAMk-1")
    assert body["start"]["dateTime"] == "2025-03-12T14:00:00"
    assert len(body["attendees"]) == 2 and "transactionId" not in body

    cancelled = replace(moved, sequence=2, method="CANCEL")
    assert channel.send(messages_for(cancelled)) == [None, None]
    method, path, body = graph.calls[-1]
    assert (method, path) == ("POST", f"/v1.0/users/{ORGANISER}/events/AAMk-1/cancel")
    assert "cancelled" in body["comment"]
    assert channel.id_store == {}
    assert len(graph.token_requests) == 1  # the token is cached across batches


def test_429_with_retry_after_is_transient_then_succeeds(graph, channel):
    graph.next_status.append((429, {"Retry-After": "12"}))
    messages = messages_for(make_invite())
    outcomes = channel.send(messages)
    assert all(o is not None and o.transient and o.retry_after == 12.0 for o in outcomes)
    assert channel.id_store == {}
    assert channel.send(messages) == [None, None, None]
    assert [c[2]["transactionId"] for c in graph.calls] == [
        transaction_id(messages[0].invite.uid)
    ] * 2


def test_a_lost_id_store_is_recovered_from_the_uid_tag(graph, tls_files):
    first = GraphChannel(graph.settings(), {}, timeout=5, verify=str(tls_files.certfile))
    invite = make_invite()
    first.send(messages_for(invite)[:1])
    restarted = GraphChannel(graph.settings(), {}, timeout=5, verify=str(tls_files.certfile))
    assert restarted.send(messages_for(replace(invite, sequence=1))[:1]) == [None]
    assert [c[0] for c in graph.calls] == ["POST", "GET", "PATCH"]
    assert restarted.id_store == {invite.uid: "AAMk-1"}


def test_a_wrong_secret_is_permanent(graph, tls_files):
    channel = GraphChannel(graph.settings(client_secret="nope"), {}, timeout=5,
                           verify=str(tls_files.certfile))  # fmt: skip
    outcomes = channel.send(messages_for(make_invite()))
    assert all(o is not None and not o.transient and "invalid_client" in o.reason for o in outcomes)
    assert graph.calls == []


def test_fetch_busy_reads_get_schedule(graph, channel):
    start = datetime(2025, 3, 12, 0, 0, tzinfo=UTC)
    busy = channel.fetch_busy([ANA.email, BEN.email, CHEN.email], start, start + timedelta(days=1))
    nine, ten = datetime(2025, 3, 12, 9, tzinfo=UTC), datetime(2025, 3, 12, 10, tzinfo=UTC)
    assert busy == {ANA.email: [(nine, ten)], BEN.email: [(nine, ten)]}  # Chen: not visible
    ((method, path, body),) = graph.calls
    assert (method, path) == ("POST", f"/v1.0/users/{ORGANISER}/calendar/getSchedule")
    assert body["schedules"] == [ANA.email, BEN.email, CHEN.email]
    assert body["startTime"] == {"dateTime": "2025-03-12T00:00:00", "timeZone": "UTC"}
    assert body["endTime"] == {"dateTime": "2025-03-13T00:00:00", "timeZone": "UTC"}


def test_an_event_deleted_in_outlook_is_permanent_without_naming_the_mailbox(graph, channel):
    invite = make_invite()
    channel.send(messages_for(invite))
    graph.next_status.append((404, {}))
    (outcome,) = channel.send(messages_for(replace(invite, sequence=1))[:1])
    assert outcome is not None and not outcome.transient
    assert outcome.reason == (
        "Microsoft Graph: HTTP 404 TooManyRequests: the event was deleted from the organiser's "
        "calendar"
    )
    assert ORGANISER not in outcome.reason and invite.uid not in outcome.reason


def test_a_tenant_entra_does_not_know_is_permanent_and_names_the_settings(graph, tls_files):
    graph.server.expect_request(
        "/no-such-tenant/v2.0/.well-known/openid-configuration"
    ).respond_with_json(
        {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant 'no-such-tenant'"},
        status=400,
    )
    settings = graph.settings(tenant_id="no-such-tenant")
    channel = GraphChannel(settings, {}, timeout=5, verify=str(tls_files.certfile))
    outcomes = channel.send(messages_for(make_invite()))
    assert all(o is not None and not o.transient for o in outcomes)
    assert outcomes[0].reason == (
        "Microsoft Graph token: HTTP 400 invalid_tenant: "
        "check FIKA_GRAPH_TENANT_ID / FIKA_GRAPH_AUTHORITY"
    )
    assert graph.calls == []
