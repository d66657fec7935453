"""One table of HTTP failures, run against every HTTP channel through its real code path.

Each target is one request of one channel (its API, its token endpoint, its free/busy read)
meeting its local contract fake: FakeGraph and FakeGoogle (test_graph.py, test_google.py), the
Slack, Teams Workflows and Bot Framework fakes (tests/fakes_chat.py), and pytest-httpserver for
CalDAV (the real Radicale cannot be made to answer 503; test_caldav.py uses it for the rest).
The fake answers with the case's status and headers, or the channel is pointed at a port where
nothing listens or a server that never answers.

The error bodies are hostile on purpose: they quote the fake's URL with a query string, a
person's address and the bearer token, the way real services echo requests back. None of it
may reach a reason, which the admin UI shows.

Slack's channel and webhook run with ``max_retries=0`` here: with retries, slack_sdk's own
handler sleeps through a 429's Retry-After in-process before Fika's policy sees the answer
(that retry is pinned in test_slack_channel.py).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Response

from integrations.base import DeliveryError
from integrations.caldav import CalDavChannel
from integrations.google import GoogleChannel, GoogleSettings
from integrations.graph import GraphChannel
from integrations.slack import SlackChannel, post_announcement
from integrations.slack_members import SlackMembers
from integrations.teams import TeamsBotChannel, TeamsWorkflowChannel
from tests import fakes_chat
from tests.fakes_chat import FakeBotFramework, FakeSlackApi, FakeWorkflowHook, make_message
from tests.integrations import test_google
from tests.integrations.builders import ANA, BEN, make_invite, messages_for
from tests.integrations.test_graph import FakeGraph
from tests.servers import free_port

DATE = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)  # free/busy window
CODE = "FikaTestCode"  # the service error code the fakes' bodies carry


def in_seconds(delta: float) -> Callable[[], str]:
    """A Retry-After HTTP-date ``delta`` seconds after the moment the fake is told to answer."""
    return lambda: format_datetime(datetime.now(UTC) + timedelta(seconds=delta), usegmt=True)


@dataclass(frozen=True)
class Case:
    """One failure and what every channel must make of it."""

    id: str
    status: int | None  # None: no HTTP answer at all (see ``network``)
    headers: dict[str, str | Callable[[], str]] = field(default_factory=dict)
    transient: bool = True
    retry_after: float | None = None
    network: str | None = None  # "connection refused" or "timeout"
    code: str = CODE


HOSTILE_CODE = "https://{server}/errors?token=leak"  # an "error code" that is really a URL

CASES = [
    Case("429 Retry-After seconds", 429, {"Retry-After": "120"}, retry_after=120.0),
    Case("429 without Retry-After", 429),
    Case("429 unreadable Retry-After", 429, {"Retry-After": "soon"}),
    Case("429 Retry-After zero", 429, {"Retry-After": "0"}, retry_after=0.0),
    Case("429 Retry-After a day is capped", 429, {"Retry-After": "86400"}, retry_after=3600.0),
    Case("429 negative Retry-After", 429, {"Retry-After": "-30"}, retry_after=0.0),
    # HTTP-dates count from the answer's Date, which the fakes' server sets to its clock.
    Case("503 Retry-After HTTP-date", 503, {"Retry-After": in_seconds(90)}, retry_after=90.0),
    Case(
        "503 Retry-After date in the past", 503, {"Retry-After": in_seconds(-7200)}, retry_after=0.0
    ),
    Case(
        "503 Retry-After date far ahead is capped",
        503,
        {"Retry-After": in_seconds(2 * 86400)},
        retry_after=3600.0,
    ),
    Case("500", 500),
    Case("502", 502),
    Case("504", 504, {"Retry-After": "15"}, retry_after=15.0),
    Case("408", 408),
    Case("423", 423),
    Case("425", 425),
    Case("507", 507),
    Case("509", 509, {"Retry-After": "60"}, retry_after=60.0),
    Case("501 is permanent", 501, transient=False),
    Case("505 is permanent", 505, transient=False),
    Case("400 ignores Retry-After", 400, {"Retry-After": "30"}, transient=False),
    Case("401", 401, transient=False),
    Case("403", 403, transient=False),
    Case("404", 404, transient=False),
    Case("422", 422, transient=False),
    Case("a URL posing as an error code is dropped", 503, code=HOSTILE_CODE),
    Case("connection refused", None, network="connection refused"),
    Case("timeout", None, network="timeout"),
]


class Target:
    """One request of one channel. Subclasses plan the fake's answer and send for real."""

    label = ""  # how the channel's reasons for this request start
    codes = True  # whether the fake's error body carries a code the channel reports
    server: Any = None  # the fake's pytest-httpserver
    secrets: tuple[str, ...] = ()  # tokens and passwords the channel holds

    def answer(self, status: int, headers: dict[str, str], code: str) -> None:
        raise NotImplementedError

    def send(self) -> DeliveryError | None:
        raise NotImplementedError

    def unreachable(self, base_url: str) -> DeliveryError | None:
        """Send with the request under test pointed at ``base_url`` (nothing useful there)."""
        raise NotImplementedError

    def hostile(self) -> str:
        """Error text quoting what must never reach a reason."""
        return (
            f"denied: POST {self.server.url_for('/v1/things')}?sig=TOP-SECRET-SIGNATURE "
            f"for {ANA.email} with Bearer {' '.join(self.secrets)}"
        )

    def json_error(self, status: int, headers: dict[str, str], body: Any) -> Response:
        return Response(
            json.dumps(body), status=status, headers=headers, content_type="application/json"
        )


def only_outcome(outcomes: list[DeliveryError | None]) -> DeliveryError | None:
    """Members of a group share one outcome; the table needs it once."""
    assert len({id(o) for o in outcomes}) == 1 or all(o is None for o in outcomes), outcomes
    return outcomes[0]


# --------------------------------------------------------------------- Microsoft Graph


class GraphTarget(Target):
    label = "Microsoft Graph"

    def __init__(self, request: pytest.FixtureRequest):
        self.server = request.getfixturevalue("https_server")
        self.fake = FakeGraph(self.server)
        self.verify = str(request.getfixturevalue("tls_files").certfile)
        self.secrets = ("graph-token-1", "s3cret")

    def channel(self, **settings) -> GraphChannel:
        return GraphChannel(self.fake.settings(**settings), {}, timeout=5, verify=self.verify)

    def short_channel(self, **settings) -> GraphChannel:
        return GraphChannel(self.fake.settings(**settings), {}, timeout=0.5, verify=self.verify)

    def body(self, code: str) -> str:
        return json.dumps({"error": {"code": code, "message": self.hostile()}})

    def answer(self, status, headers, code):
        self.fake.next_status.append((status, headers, self.body(code)))

    def send(self):
        return only_outcome(self.channel().send(messages_for(make_invite())))

    def unreachable(self, base_url):
        return only_outcome(
            self.short_channel(base_url=f"{base_url}/v1.0").send(messages_for(make_invite()))
        )


class GraphFreeBusyTarget(GraphTarget):
    def send(self):
        return self.busy(self.channel())

    def unreachable(self, base_url):
        return self.busy(self.short_channel(base_url=f"{base_url}/v1.0"))

    @staticmethod
    def busy(channel: GraphChannel) -> DeliveryError | None:
        try:
            channel.fetch_busy([ANA.email, BEN.email], DATE, DATE + timedelta(days=1))
        except DeliveryError as error:
            return error
        return None


class GraphTokenTarget(GraphTarget):
    label = "Microsoft Graph token"

    def answer(self, status, headers, code):
        body = {"error": code, "error_description": self.hostile(), "error_uri": self.hostile()}
        self.fake.token_answers.append(self.json_error(status, headers, body))

    def unreachable(self, base_url):
        return only_outcome(
            self.short_channel(authority=f"{base_url}/").send(messages_for(make_invite()))
        )


# --------------------------------------------------------------------- Google Calendar


class GoogleTarget(Target):
    label = "Google Calendar"

    def __init__(self, request: pytest.FixtureRequest):
        self.server = request.getfixturevalue("httpserver_ipv4")
        rsa_key = request.getfixturevalue("rsa_key")
        self.fake = test_google.FakeGoogle(self.server, rsa_key.public_key())
        self.key = test_google.service_account_for(rsa_key, self.server)
        self.secrets = (test_google.TOKEN,)

    def channel(self, timeout: float = 5, token_uri: str | None = None, base_url: str = ""):
        key = dict(self.key, token_uri=token_uri or self.key["token_uri"])
        base_url = base_url or self.server.url_for("/calendar/v3")
        settings = GoogleSettings.load(json.dumps(key), test_google.SUBJECT, base_url=base_url)
        return GoogleChannel(settings, timeout=timeout)

    def answer(self, status, headers, code):
        reasons = [{"domain": "global", "reason": code, "message": self.hostile()}]
        error = {"code": status, "message": self.hostile(), "status": "FAILED", "errors": reasons}
        self.fake.planned.append(self.json_error(status, headers, {"error": error}))

    def send(self):
        return only_outcome(self.channel().send(messages_for(make_invite())))

    def unreachable(self, base_url):
        channel = self.channel(0.5, base_url=f"{base_url}/calendar/v3")
        return only_outcome(channel.send(messages_for(make_invite())))


class GoogleFreeBusyTarget(GoogleTarget):
    def send(self):
        return GraphFreeBusyTarget.busy(self.channel())  # type: ignore[arg-type]

    def unreachable(self, base_url):
        return GraphFreeBusyTarget.busy(self.channel(0.5, base_url=f"{base_url}/calendar/v3"))  # type: ignore[arg-type]


class GoogleTokenTarget(GoogleTarget):
    label = "Google Calendar token endpoint"

    def answer(self, status, headers, code):
        body = {"error": code, "error_description": self.hostile()}
        self.fake.token_planned.append(self.json_error(status, headers, body))

    def unreachable(self, base_url):
        channel = self.channel(0.5, token_uri=f"{base_url}/token")
        return only_outcome(channel.send(messages_for(make_invite())))


# ----------------------------------------------------------------------------- CalDAV


class CalDavTarget(Target):
    label = "CalDAV"
    codes = False  # CalDAV errors are XML or text, without a code worth reporting

    def __init__(self, request: pytest.FixtureRequest):
        self.server = request.getfixturevalue("httpserver_ipv4")
        self.secrets = ("caldav-password",)
        self.planned: list[Response] = []
        path = f"/cal/{make_invite().uid}.ics"
        self.server.expect_request(path, method="PUT").respond_with_handler(
            lambda request: self.planned.pop(0)
        )

    def channel(self, url: str, timeout: float = 5) -> CalDavChannel:
        return CalDavChannel(url, "fika", "caldav-password", timeout=timeout)

    def answer(self, status, headers, code):
        self.planned.append(Response(self.hostile(), status=status, headers=headers))

    def send(self):
        return only_outcome(
            self.channel(self.server.url_for("/cal/")).send(messages_for(make_invite()))
        )

    def unreachable(self, base_url):
        return only_outcome(self.channel(f"{base_url}/cal/", 0.5).send(messages_for(make_invite())))


# ------------------------------------------------------------------------------ Teams


class TeamsWebhookTarget(Target):
    label = "teams webhook"

    def __init__(self, request: pytest.FixtureRequest):
        self.hook: FakeWorkflowHook = request.getfixturevalue("hook")
        self.server = self.hook.server
        self.secrets = ("TOP-SECRET-SIGNATURE",)

    def answer(self, status, headers, code):
        body = json.dumps({"error": {"code": code, "message": self.hostile()}})
        self.hook.canned.append((status, headers, body))

    def send(self):
        channel = TeamsWorkflowChannel(self.hook.url, timeout=5)
        try:
            return only_outcome(channel.send([make_message(2)]))
        finally:
            channel.close()

    def unreachable(self, base_url):
        url = f"{base_url}{fakes_chat.HOOK_PATH}?{fakes_chat.HOOK_QUERY}"
        channel = TeamsWorkflowChannel(url, timeout=0.5)
        try:
            return only_outcome(channel.send([make_message(2)]))
        finally:
            channel.close()


BOT = ("11111111-aaaa-bbbb-cccc-222222222222", "app-secret", "tenant-1")


class TeamsBotTarget(Target):
    label = "teams bot send"

    def __init__(self, request: pytest.FixtureRequest):
        self.server = request.getfixturevalue("https_server")
        self.fake = FakeBotFramework(self.server, *BOT)
        self.verify = str(request.getfixturevalue("tls_files").certfile)
        self.secrets = (fakes_chat.BOT_TOKEN, BOT[1])

    def deliver(
        self, service_url: str = "", authority: str = "", timeout: float = 5
    ) -> DeliveryError | None:
        with requests.Session() as session:
            session.trust_env = False  # requests would let REQUESTS_CA_BUNDLE beat verify
            session.verify = self.verify
            channel = TeamsBotChannel(
                *BOT,
                service_url or self.fake.service_url,
                {"person0@example.org": "a:conv-0"},
                authority=authority or self.fake.authority,
                session=session,
                timeout=timeout,
            )
            # One member: a permanent failure for one person is the whole message's outcome.
            return only_outcome(channel.send([make_message(1)]))

    def answer(self, status, headers, code):
        body = json.dumps({"error": {"code": code, "message": self.hostile()}})
        self.fake.activity_status.append((status, headers, body))

    def send(self):
        return self.deliver()

    def unreachable(self, base_url):
        return self.deliver(service_url=f"{base_url}/teams/", timeout=0.5)


class TeamsBotTokenTarget(TeamsBotTarget):
    label = "teams bot token"

    def answer(self, status, headers, code):
        body = {"error": code, "error_description": self.hostile(), "error_codes": [7000215]}
        self.fake.token_answers.append(self.json_error(status, headers, body))

    def unreachable(self, base_url):
        return self.deliver(authority=f"{base_url}/{BOT[2]}", timeout=0.5)


# ------------------------------------------------------------------------------ Slack


class SlackTarget(Target):
    label = "conversations.open"

    def __init__(self, request: pytest.FixtureRequest):
        self.fake: FakeSlackApi = request.getfixturevalue("slack")
        self.server = self.fake.server
        self.secrets = (fakes_chat.SLACK_TOKEN,)

    def channel(self, api_url: str, timeout: int = 5) -> SlackChannel:
        users = {f"person{i}@example.org": f"U0{i}AAAA" for i in range(2)}
        return SlackChannel(
            fakes_chat.SLACK_TOKEN,
            api_url=api_url,
            user_ids=users,
            max_retries=0,
            sleep=lambda _: None,
            timeout=timeout,
        )

    def answer(self, status, headers, code):
        body = {"ok": False, "error": code, "response_metadata": {"messages": [self.hostile()]}}
        self.fake.queue("conversations.open", status, body, headers)

    def send(self):
        return only_outcome(self.channel(self.fake.api_url).send([make_message(2)]))

    def unreachable(self, base_url):
        return only_outcome(self.channel(f"{base_url}/api/", 1).send([make_message(2)]))


class SlackMembersTarget(SlackTarget):
    """The channel member sync (integrations.slack_members): 429s not waited out here."""

    label = "conversations.members"

    def lister(self, api_url: str, timeout: int = 5) -> SlackMembers:
        return SlackMembers(
            fakes_chat.SLACK_TOKEN,
            api_url,
            max_rate_limit_retries=0,
            max_retries=0,
            sleep=lambda _: None,
            timeout=timeout,
        )

    def answer(self, status, headers, code):
        body = {"ok": False, "error": code, "response_metadata": {"messages": [self.hostile()]}}
        self.fake.queue("conversations.members", status, body, headers)

    def sync(self, lister: SlackMembers) -> DeliveryError | None:
        try:
            list(lister.members("C0FIKA01"))
        except DeliveryError as error:
            return error
        return None

    def send(self):
        return self.sync(self.lister(self.fake.api_url))

    def unreachable(self, base_url):
        return self.sync(self.lister(f"{base_url}/api/", 1))


class SlackWebhookTarget(Target):
    label = "slack webhook"

    def __init__(self, request: pytest.FixtureRequest):
        self.server = request.getfixturevalue("httpserver_ipv4")
        self.secrets = ("B0secretpart",)
        self.planned: list[Response] = []
        self.server.expect_request("/services/T0/B0secretpart", method="POST").respond_with_handler(
            lambda request: self.planned.pop(0)
        )

    def answer(self, status, headers, code):
        code = code.format(server=f"127.0.0.1:{self.server.port}")
        self.planned.append(Response(code, status=status, headers=headers))  # a plain-text code

    def post(self, url: str, timeout: int) -> DeliveryError | None:
        try:
            post_announcement(url, "Today's coffee breaks", timeout=timeout, max_retries=0)
        except DeliveryError as error:
            return error
        return None

    def send(self):
        return self.post(self.server.url_for("/services/T0/B0secretpart"), 5)

    def unreachable(self, base_url):
        return self.post(f"{base_url}/services/T0/B0secretpart", 1)


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def running_hook() -> Iterator[FakeWorkflowHook]:
    """One Workflows fake for the module: stopping a server costs half a second."""
    fake = FakeWorkflowHook()
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
def hook(running_hook: FakeWorkflowHook) -> Iterator[FakeWorkflowHook]:
    running_hook.canned.clear()
    running_hook.received.clear()
    yield running_hook
    running_hook.server.check()


@pytest.fixture(scope="module")
def running_slack() -> Iterator[FakeSlackApi]:
    with FakeSlackApi({}) as fake:
        yield fake


@pytest.fixture
def slack(running_slack: FakeSlackApi) -> Iterator[FakeSlackApi]:
    running_slack.reset()
    yield running_slack
    running_slack.check()


TARGETS: dict[str, type[Target]] = {
    "graph": GraphTarget,
    "graph free/busy": GraphFreeBusyTarget,
    "graph token": GraphTokenTarget,
    "google": GoogleTarget,
    "google free/busy": GoogleFreeBusyTarget,
    "google token": GoogleTokenTarget,
    "caldav": CalDavTarget,
    "teams webhook": TeamsWebhookTarget,
    "teams bot": TeamsBotTarget,
    "teams bot token": TeamsBotTokenTarget,
    "slack": SlackTarget,
    "slack members": SlackMembersTarget,
    "slack webhook": SlackWebhookTarget,
}


@pytest.fixture(params=list(TARGETS))
def target(request) -> Target:
    return TARGETS[request.param](request)


@pytest.fixture
def dead_end() -> Iterator[Callable[[str], str]]:
    """A base URL where nothing listens, or where a server accepts and never answers.

    The silent one closes after ten seconds, so a request without a timeout fails (and the test
    with it) instead of hanging the run.
    """
    listeners: list[socket.socket] = []

    def make(kind: str) -> str:
        if kind == "connection refused":
            return f"https://127.0.0.1:{free_port()}"
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        listeners.append(silent)
        threading.Timer(10, silent.close).start()
        return f"https://127.0.0.1:{silent.getsockname()[1]}"

    yield make
    for listener in listeners:
        listener.close()


# -------------------------------------------------------------------------------- tests

EMAIL = re.compile(r"[^\s@]+@[^\s@]+")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_http_channel_follows_the_one_policy(target: Target, case: Case, dead_end):
    if case.network:
        outcome = target.unreachable(dead_end(case.network))
    else:
        code = case.code.format(server=f"127.0.0.1:{target.server.port}")
        started = time.monotonic()
        headers = {k: v() if callable(v) else v for k, v in case.headers.items()}
        target.answer(case.status, headers, code)
        outcome = target.send()
    elapsed = time.monotonic() - started if not case.network else 0.0

    assert isinstance(outcome, DeliveryError)
    assert outcome.transient is case.transient
    if case.retry_after is None:
        assert outcome.retry_after is None
    elif not any(callable(v) for v in case.headers.values()):
        assert outcome.retry_after == case.retry_after
    else:
        # An HTTP-date has whole seconds and counts from the server's Date, which is stamped
        # when it answers: as much later than the header was made as the exchange took.
        assert case.retry_after - elapsed - 1.01 <= outcome.retry_after <= case.retry_after + 1.01
    assert outcome.reason.startswith(f"{target.label}: ")
    if case.network:
        assert outcome.reason == f"{target.label}: network error ({case.network})"
    else:
        assert f"HTTP {case.status}" in outcome.reason
        if case.code == CODE:
            assert (CODE in outcome.reason) is target.codes
    assert_nothing_leaks(outcome.reason, target)


def assert_nothing_leaks(reason: str, target: Target) -> None:
    """No URL, host:port, query string, address, token or password in what the admin reads."""
    assert "://" not in reason and "?" not in reason and "/" not in reason.split(": ", 1)[1]
    assert "127.0.0.1" not in reason and "localhost" not in reason
    assert str(target.server.port) not in reason
    assert not EMAIL.search(reason), reason
    for secret in (*target.secrets, "TOP-SECRET", "Bearer", "sig="):
        assert secret not in reason


def test_the_table_covers_every_http_channel():
    """A new HTTP channel (or request) shows up here, or this fails."""
    channels = {name.split()[0] for name in TARGETS}
    assert channels == {"graph", "google", "caldav", "teams", "slack"}
    assert {"graph token", "google token", "teams bot token", "slack webhook"} <= set(TARGETS)
