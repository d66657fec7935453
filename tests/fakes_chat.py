"""Contract fakes for Slack and Microsoft Teams, served on 127.0.0.1 by pytest-httpserver.

Slack and Teams live on the internet, so the tests talk to these instead. Each fake checks every
request the way the real API documents it (path, method, content type, bearer token, field
formats) and answers with the documented shapes, including the documented errors. A request that
breaks the contract fails the handler with an AssertionError; :meth:`check` re-raises it in the
test, so a contract violation can never hide behind a retried 500.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jsonschema import Draft6Validator
from jwt.algorithms import RSAAlgorithm
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.base import Attendee, Invite, Message
from tests.integrations import builders

# The shared folder sits beside the repository checkout (CI clones the repo next to a copy).
#: The official schema, copied into the repository's test data (tests/data/README.md: licence).
ADAPTIVE_CARD_SCHEMA = Path(__file__).resolve().parent / "data" / "adaptive-card-1.5.json"

SLACK_TOKEN = "xoxb-1111-2222-fakefakefake"
BOT_TOKEN = "eyJ0eXAi.fake-bot-framework-token"
BOT_SCOPE = "https://api.botframework.com/.default"
BOT_ISSUER = "https://api.botframework.com"
OPENID_PATH = "/botframework/v1/.well-known/openidconfiguration"
KEYS_PATH = "/botframework/v1/.well-known/keys"

START = dt.datetime(2025, 3, 11, 10, 0, tzinfo=dt.UTC)
ZONES = ("Europe/Stockholm", "America/New_York", "Asia/Tokyo", "UTC", "Europe/London")
LINKS = {
    "in": "https://fika.example.org/a/tok-in",
    "cant": "https://fika.example.org/a/tok-cant",
    "pause_week": "https://fika.example.org/a/tok-pause",
}


class FakeClock:
    """Time that only moves when the code sleeps: waits are checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# --- data -----------------------------------------------------------------------------------


def make_invite(members: int = 2, mode: str = "virtual", **changes: Any) -> Invite:
    """``builders.make_invite`` for ``members`` people in several zones and departments."""
    attendees = tuple(
        Attendee(
            name=f"Person {i}",
            email=f"person{i}@example.org",
            timezone=ZONES[i % len(ZONES)],
            department=("Sales", "Engineering", "Finance", "Support")[i % 4],
            site="Stockholm HQ" if mode == "in_person" else None,
        )
        for i in range(members)
    )
    fields: dict[str, Any] = dict(
        uid=f"fika-2025-03-11-{members}-{mode}@fika.example.org",
        start=START,
        end=START + dt.timedelta(minutes=15),
        summary="Fika: " + ", ".join(a.name for a in attendees),
        attendees=attendees,
        video_url="https://meet.jit.si/fika-abc123",
        mode=mode,
        site="Stockholm HQ" if mode == "in_person" else None,
        reasons=("You work in different departments", "One of you is in the office, one at home"),
        starter="What is something you learned this week?",
    )
    fields.update(changes)
    return builders.make_invite(**fields)


def make_message(members: int = 2, key: str = "round-1/group-1", **changes: Any) -> Message:
    """A group message (recipient None) with signed links, as web/ would fill them."""
    return Message(key=key, invite=make_invite(members, **changes), links=dict(LINKS))


# --- Block Kit ------------------------------------------------------------------------------


def check_plain_text(text: dict[str, Any], limit: int) -> None:
    """A plain_text object of 1..``limit`` characters."""
    assert text["type"] == "plain_text", text
    assert 0 < len(text["text"]) <= limit, f"plain_text 1..{limit}: {text['text']!r}"


def check_option(option: dict[str, Any]) -> None:
    """An option of a select or radio group (text <= 75, value <= 150)."""
    check_plain_text(option["text"], 75)
    assert 0 < len(option["value"]) <= 150, option


def check_element(element: dict[str, Any]) -> None:
    """An interactive element, as https://docs.slack.dev/reference/block-kit/block-elements."""
    kind = element["type"]
    assert kind in {"button", "datepicker", "static_select", "radio_buttons", "timepicker"}, kind
    assert 0 < len(element["action_id"]) <= 255
    if kind == "button":
        check_plain_text(element["text"], 75)
        assert len(element.get("value", "")) <= 2000
        assert element.get("style") in (None, "primary", "danger")
    if kind == "datepicker" and "initial_date" in element:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", element["initial_date"]), element
    if kind == "timepicker" and "initial_time" in element:
        assert re.fullmatch(r"\d{2}:\d{2}", element["initial_time"]), element
    if kind in {"static_select", "radio_buttons"}:
        options = element["options"]
        limit = 100 if kind == "static_select" else 10
        assert 0 < len(options) <= limit, f"{kind}: 1..{limit} options"
        for option in options:
            check_option(option)
        values = [o["value"] for o in options]
        assert len(values) == len(set(values)), "option values unique"
        if "initial_option" in element:
            assert element["initial_option"] in options, "initial_option is one of the options"
    if "placeholder" in element:
        check_plain_text(element["placeholder"], 150)


def check_block_kit(blocks: list[dict[str, Any]], *, limit: int = 50) -> None:
    """Assert the Block Kit limits Slack enforces with ``invalid_blocks`` (messages and modals
    hold at most 50 blocks, a Home tab 100)."""
    assert isinstance(blocks, list) and 0 < len(blocks) <= limit, f"1..{limit} blocks"
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), f"block_ids must be unique: {ids}"
    assert all(len(i) <= 255 for i in ids), "block_id <= 255 characters"
    for block in blocks:
        kind = block["type"]
        assert kind in {"header", "section", "actions", "context", "divider", "input"}, kind
        if kind == "input":
            check_plain_text(block["label"], 2000)
            check_element(block["element"])
            if "hint" in block:
                check_plain_text(block["hint"], 2000)
        if kind == "section" and "accessory" in block:
            check_element(block["accessory"])
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= 150
        if kind == "section":
            assert block["text"]["type"] in {"mrkdwn", "plain_text"}
            assert 0 < len(block["text"]["text"]) <= 3000
        if kind == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        if kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            action_ids = [e["action_id"] for e in block["elements"]]
            assert len(action_ids) == len(set(action_ids)), "action_ids unique in a block"
            for element in block["elements"]:
                check_element(element)


def check_view(view: dict[str, Any], kind: str) -> None:
    """A view object (https://docs.slack.dev/reference/views): a Home tab or a modal."""
    assert view["type"] == kind, view.get("type")
    check_block_kit(view["blocks"], limit=100 if kind == "home" else 50)
    assert len(view.get("private_metadata", "")) <= 3000
    assert len(view.get("callback_id", "")) <= 255
    if kind == "modal":
        check_plain_text(view["title"], 24)
        for key in ("submit", "close"):
            if key in view:
                check_plain_text(view[key], 24)
        assert view.get("callback_id"), "a modal Fika reads back names itself by callback_id"
        if any(b["type"] == "input" for b in view["blocks"]):
            assert "submit" in view, "a modal with inputs needs a submit button"


# --- Adaptive Cards -------------------------------------------------------------------------


def card_validator() -> Draft6Validator:
    """The Draft 6 validator for Adaptive Card 1.5; fails (never skips) without the schema."""
    if not ADAPTIVE_CARD_SCHEMA.is_file():
        pytest.fail(
            f"Adaptive Card schema missing: expected it at {ADAPTIVE_CARD_SCHEMA.resolve()}"
        )
    schema = json.loads(ADAPTIVE_CARD_SCHEMA.read_text(encoding="utf-8"))
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


def action_types(node: Any) -> list[str]:
    """Every ``type`` starting with ``Action.`` anywhere in a card (nested cards included)."""
    found: list[str] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node["type"])
        for value in node.values():
            found += action_types(value)
    elif isinstance(node, list):
        for value in node:
            found += action_types(value)
    return found


# --- Slack Web API --------------------------------------------------------------------------

#: Methods slack_sdk sends as JSON (they carry blocks or views); Slack accepts JSON with a token.
JSON_METHODS = {"chat.postMessage", "chat.update", "views.publish", "views.open"}


@dataclass
class Call:
    """One request as the fake understood it."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class FakeSlackApi:
    """users.lookupByEmail, conversations.open, chat.postMessage, chat.update, views.publish,
    views.open, users.info and conversations.members as Slack documents them.

    ``users`` maps email -> user id; unknown emails answer ``users_not_found``. ``queue(method,
    …)`` makes the next call of ``method`` answer with a canned status, body and headers, and
    ``rate_limit(method, calls, retry_after)`` makes the chosen calls of it (1 = the first) answer
    429 with ``Retry-After``. ``members`` maps channel id -> member ids (paged with cursors);
    ``accounts`` holds the users.info flags (``is_bot``, ``deleted``, ``is_restricted``…) per id.
    """

    def __init__(self, users: dict[str, str], token: str = SLACK_TOKEN):
        self.users = users
        self.token = token
        #: Profile fields that differ from the made-up ones, per Slack user id.
        self.profiles: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.channels: dict[str, list[str]] = {}
        #: conversations.members: channel id -> member user ids, in Slack's order.
        self.members: dict[str, list[str]] = {}
        #: users.info fields per user id on top of the made-up profile (is_bot, deleted, tz…).
        self.accounts: dict[str, dict[str, Any]] = {}
        self._cursors: dict[str, tuple[str, int]] = {}
        self._limited: dict[str, tuple[set[int], str]] = {}
        self._counts: dict[str, int] = {}
        self._canned: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self.server = HTTPServer(host="127.0.0.1", port=0)
        #: views.publish: Slack user id -> the Home view last published for them.
        self.homes: dict[str, dict[str, Any]] = {}
        #: views.open: the modals opened, in order.
        self.modals: list[dict[str, Any]] = []
        #: chat.postMessage and chat.update: (channel, ts) -> the message's current params.
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        #: trigger_ids an interaction handed out (a views.open must use one, and only once).
        self.triggers: set[str] = set()
        for method, handler in {
            "users.lookupByEmail": self._lookup,
            "conversations.open": self._open,
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "views.publish": self._publish,
            "views.open": self._open_view,
        }.items():
            self.server.expect_request(f"/api/{method}", method="POST").respond_with_handler(
                self._wrap(method, handler)
            )
        # Slack accepts these as a GET with query parameters or a form POST.
        for verb in ("GET", "POST"):
            self.server.expect_request("/api/users.info", method=verb).respond_with_handler(
                self._wrap("users.info", self._info)
            )
            self.server.expect_request(
                "/api/conversations.members", method=verb
            ).respond_with_handler(self._wrap("conversations.members", self._members))

        # Slack's response_url for interactive replies (one per test run is enough).
        self.responses: list[dict[str, Any]] = []
        self.server.expect_request("/respond", method="POST").respond_with_handler(self._respond)

    @property
    def api_url(self) -> str:
        return self.server.url_for("/api/")

    @property
    def response_url(self) -> str:
        return self.server.url_for("/respond")

    def _respond(self, request: Request) -> Response:
        assert request.headers.get("Content-Type", "").startswith("application/json")
        body = json.loads(request.get_data(as_text=True))
        assert body.get("response_type") in ("ephemeral", "in_channel"), body
        assert isinstance(body.get("text"), str) and body["text"], body
        self.responses.append(body)
        return Response("ok", status=200)

    def _info(self, params: dict[str, Any]) -> dict[str, Any]:
        assert set(params) == {"user"}, params
        assert re.fullmatch(r"[UW][A-Z0-9]+", params["user"]), params["user"]
        user_id = params["user"]
        account = self.accounts.get(user_id, {})
        email = next((e for e, u in self.users.items() if u == user_id), None)
        if email is None and not account:
            return {"ok": False, "error": "user_not_found"}
        profile: dict[str, Any] = {"real_name": account.get("real_name", ""), "title": ""}
        if email is not None:
            name = email.split("@")[0].replace(".", " ").title()
            profile = {"email": email, "real_name": name, "title": "Research"}
        user = {
            "id": user_id,
            "deleted": False,
            "is_bot": False,
            "is_app_user": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "tz": "Europe/Stockholm",
            **account,
            "profile": {**profile, **self.profiles.get(user_id, {})},
        }
        return {"ok": True, "user": user}

    def _members(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.members: ``limit`` 1..1000 (Slack's default 100), opaque cursors."""
        assert set(params) <= {"channel", "cursor", "limit"} and "channel" in params, params
        limit = int(params.get("limit", 100))
        assert 1 <= limit <= 1000, f"limit {limit} outside 1..1000"
        channel = params["channel"]
        if channel not in self.members:
            return {"ok": False, "error": "channel_not_found"}
        start = 0
        if "cursor" in params:
            assert params["cursor"], "an empty cursor is sent as no cursor"
            if params["cursor"] not in self._cursors:
                return {"ok": False, "error": "invalid_cursor"}
            cursor_channel, start = self._cursors[params["cursor"]]
            assert cursor_channel == channel, "a cursor belongs to its channel"
        ids = self.members[channel][start : start + limit]
        next_cursor = ""
        if start + limit < len(self.members[channel]):
            next_cursor = base64.b64encode(f"user:{channel}:{start + limit}".encode()).decode()
            self._cursors[next_cursor] = (channel, start + limit)
        return {"ok": True, "members": ids, "response_metadata": {"next_cursor": next_cursor}}

    def __enter__(self) -> FakeSlackApi:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def check(self) -> None:
        """Raise the first contract violation or handler error the fake saw."""
        self.server.check()

    def queue(
        self, method: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._canned.setdefault(method, []).append((status, body, headers or {}))

    def rate_limit(self, method: str, calls: set[int], retry_after: str = "1") -> None:
        """Answer these calls of ``method`` (counted from 1) with 429 and ``Retry-After``."""
        self._limited[method] = (set(calls), retry_after)

    def reset(self) -> None:
        """Forget calls and canned answers, so one running fake can serve many tests."""
        self.calls.clear()
        self._canned.clear()
        self._limited.clear()
        self._counts.clear()

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _wrap(self, method: str, handler):
        def respond(request: Request) -> Response:
            assert request.headers.get("Authorization") == f"Bearer {self.token}", (
                f"{method}: expected 'Authorization: Bearer xoxb-…'"
            )
            content_type = request.headers.get("Content-Type", "")
            if request.method == "GET":
                params = {k: v for k, v in request.args.items()}
            elif method in JSON_METHODS:
                # slack_sdk sends methods with blocks as JSON; Slack accepts JSON with a token.
                assert content_type.startswith("application/json"), content_type
                params = json.loads(request.get_data(as_text=True))
            else:
                assert content_type.startswith("application/x-www-form-urlencoded"), content_type
                form = parse_qs(request.get_data(as_text=True), strict_parsing=True)
                assert all(len(v) == 1 for v in form.values()), f"repeated fields: {form}"
                params = {k: v[0] for k, v in form.items()}
            self.calls.append(Call(method, params, dict(request.headers)))
            self._counts[method] = self._counts.get(method, 0) + 1
            limited, retry_after = self._limited.get(method, (set(), ""))
            if self._counts[method] in limited:
                body = {"ok": False, "error": "ratelimited"}
                return self._json(body, 429, {"Retry-After": retry_after})
            if self._canned.get(method):
                status, body, headers = self._canned[method].pop(0)
                return self._json(body, status, headers)
            return self._json(handler(params))

        return respond

    @staticmethod
    def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None):
        return Response(
            json.dumps(body), status=status, headers=headers, content_type="application/json"
        )

    def _lookup(self, params: dict[str, Any]) -> dict[str, Any]:
        assert set(params) == {"email"}, params
        assert re.fullmatch(r"[^@\s]+@[^@\s]+", params["email"]), params["email"]
        user_id = self.users.get(params["email"].lower())
        if user_id is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": user_id, "deleted": False, "is_bot": False}}

    def _open(self, params: dict[str, Any]) -> dict[str, Any]:
        assert set(params) == {"users"}, f"conversations.open takes users only here: {params}"
        assert re.fullmatch(r"U[A-Z0-9]+(,U[A-Z0-9]+)*", params["users"]), params["users"]
        ids = params["users"].split(",")
        assert len(ids) == len(set(ids)), f"duplicate users: {ids}"
        if len(ids) > 8:
            return {"ok": False, "error": "too_many_users"}
        if any(i not in self.users.values() for i in ids):
            return {"ok": False, "error": "user_not_found"}
        channel = "G" + "".join(sorted(i[1:] for i in ids))[:10] if len(ids) > 1 else "D" + ids[0]
        self.channels[channel] = ids
        return {"ok": True, "channel": {"id": channel}}

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        assert params.get("channel") in self.channels or params.get("channel") in self.members, (
            "post only to a conversation it opened or a channel it is a member of"
        )
        assert isinstance(params.get("text"), str) and params["text"], "text fallback required"
        check_block_kit(params["blocks"])
        ts = f"{len(self.calls)}.000100"
        self.messages[(params["channel"], ts)] = params
        return {"ok": True, "channel": params["channel"], "ts": ts}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.update: channel and ts of a message the bot posted; new text and blocks."""
        assert set(params) <= {"channel", "ts", "text", "blocks", "attachments", "metadata"}
        assert re.fullmatch(r"[CDG][A-Z0-9]+", params.get("channel", "")), params.get("channel")
        assert re.fullmatch(r"\d+\.\d{6}", params.get("ts", "")), params.get("ts")
        assert isinstance(params.get("text"), str) and params["text"], "text fallback required"
        check_block_kit(params["blocks"])
        key = (params["channel"], params["ts"])
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[key] = {**self.messages[key], **params}
        return {
            "ok": True,
            "channel": params["channel"],
            "ts": params["ts"],
            "text": params["text"],
        }

    def _publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """views.publish: a Home tab view for one user (no trigger needed)."""
        assert set(params) <= {"user_id", "view", "hash"}, params
        assert re.fullmatch(r"[UW][A-Z0-9]+", params.get("user_id", "")), params.get("user_id")
        view = params["view"]
        check_view(view, "home")
        self.homes[params["user_id"]] = view
        return {"ok": True, "view": {"id": "V" + params["user_id"], **view}}

    def _open_view(self, params: dict[str, Any]) -> dict[str, Any]:
        """views.open: a modal, opened with a trigger_id from an interaction (used once)."""
        assert set(params) <= {"trigger_id", "view"}, params
        trigger = params.get("trigger_id", "")
        assert trigger, "views.open needs the interaction's trigger_id"
        check_view(params["view"], "modal")
        if trigger not in self.triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        self.triggers.discard(trigger)
        self.modals.append(params["view"])
        return {"ok": True, "view": {"id": f"VMODAL{len(self.modals)}", **params["view"]}}

    def trigger(self) -> str:
        """A fresh trigger_id, as Slack puts in an interaction payload."""
        trigger_id = f"{len(self.triggers) + len(self.modals) + 1}.1111.abcdef"
        self.triggers.add(trigger_id)
        return trigger_id


# --- Microsoft Entra + Bot Framework connector ----------------------------------------------


class FakeBotFramework:
    """Entra's OpenID metadata and token endpoint plus the connector's conversation endpoints.

    One https server plays both hosts: ``authority`` is ``{base}/{tenant}`` and ``service_url`` is
    ``{base}/teams/``. Tokens are only issued for the client-credentials grant with the right
    app id, secret and the Bot Framework scope; the connector only accepts that bearer token.
    """

    def __init__(self, server: HTTPServer, app_id: str, app_password: str, tenant: str):
        self.app_id, self.app_password, self.tenant = app_id, app_password, tenant
        self.server = server  # an https pytest-httpserver (tests.servers.https_server)
        self.token_requests: list[dict[str, str]] = []
        self.created: list[dict[str, Any]] = []
        self.activities: list[tuple[str, dict[str, Any]]] = []
        # Canned connector answers, in order: (status, headers) or (status, headers, body).
        self.activity_status: list[tuple] = []
        self.token_answers: list[Response] = []  # canned token endpoint answers, in order
        self.card_validator = card_validator()
        s = self.server
        s.expect_request(
            f"/{tenant}/v2.0/.well-known/openid-configuration", method="GET"
        ).respond_with_handler(self._openid)
        s.expect_request(f"/{tenant}/oauth2/v2.0/token", method="POST").respond_with_handler(
            self._token
        )
        s.expect_request("/teams/v3/conversations", method="POST").respond_with_handler(
            self._create
        )
        s.expect_request(
            re.compile(r"^/teams/v3/conversations/[^/]+/activities$"), method="POST"
        ).respond_with_handler(self._activity)

        # The bot's side: the Bot Framework's OpenID metadata and signing keys, and the
        # connector's member reads (one member; a team's roster in pages).
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "fika-test-key-1"
        self.endorsements = ["msteams"]
        self.key_fetches = 0
        #: Connector members by user id ("29:…"): id, name, aadObjectId, email, userPrincipalName.
        self.members: dict[str, dict[str, Any]] = {}
        #: Team (conversation) id -> member user ids, in roster order.
        self.rosters: dict[str, list[str]] = {}
        #: Most members the fake returns per page, whatever pageSize asks (the service may too).
        self.page_limit = 500
        self.member_reads: list[tuple[str, str]] = []
        self.page_requests: list[dict[str, str]] = []
        #: Page requests (counted from 1) answered 503 with Retry-After, as a busy service does.
        self.failing_pages: set[int] = set()
        self._continuations: dict[str, tuple[str, int]] = {}
        s.expect_request(OPENID_PATH, method="GET").respond_with_handler(self._bot_openid)
        s.expect_request(KEYS_PATH, method="GET").respond_with_handler(self._keys)
        s.expect_request(
            re.compile(r"^/teams/v3/conversations/[^/]+/members/[^/]+$"), method="GET"
        ).respond_with_handler(self._member)
        s.expect_request(
            re.compile(r"^/teams/v3/conversations/[^/]+/pagedmembers$"), method="GET"
        ).respond_with_handler(self._paged_members)

    def check(self) -> None:
        self.server.check()

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    # --- the Bot Framework's side of incoming activities -----------------------------------

    @property
    def openid_url(self) -> str:
        return self.base + OPENID_PATH

    def jwk(self, key: rsa.RSAPrivateKey | None = None, kid: str | None = None) -> dict:
        """A public key as the Bot Framework publishes it (with its channel endorsements)."""
        jwk = json.loads(RSAAlgorithm.to_jwk((key or self.signing_key).public_key()))
        return {**jwk, "kid": kid or self.kid, "use": "sig", "endorsements": self.endorsements}

    def token(
        self,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        now: float | None = None,
        **claims: Any,
    ) -> str:
        """A connector token as the Bot Framework signs it; ``claims`` override or drop (None)."""
        now = time.time() if now is None else now
        body: dict[str, Any] = {
            "iss": BOT_ISSUER,
            "aud": self.app_id,
            "nbf": int(now) - 60,
            "exp": int(now) + 3600,
            "serviceurl": self.service_url,
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(
            body, key or self.signing_key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def _bot_openid(self, request: Request) -> Response:
        body = {
            "issuer": BOT_ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": self.base + KEYS_PATH,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }
        return Response(json.dumps(body), content_type="application/json")

    def _keys(self, request: Request) -> Response:
        self.key_fetches += 1
        return Response(json.dumps({"keys": [self.jwk()]}), content_type="application/json")

    def _member(self, request: Request) -> Response:
        """GET /v3/conversations/{conversationId}/members/{memberId}: one TeamsChannelAccount."""
        assert request.headers.get("Authorization") == f"Bearer {BOT_TOKEN}", "bearer token"
        _, _, _, _, conversation, _, user_id = request.path.split("/")
        self.member_reads.append((conversation, user_id))
        member = self.members.get(user_id)
        if member is None:
            body = {"error": {"code": "MemberNotFoundInConversation", "message": "not found"}}
            return Response(json.dumps(body), status=404, content_type="application/json")
        return Response(json.dumps(member), content_type="application/json")

    def _paged_members(self, request: Request) -> Response:
        """GET …/pagedmembers?pageSize=&continuationToken=: ``{members, continuationToken}``."""
        assert request.headers.get("Authorization") == f"Bearer {BOT_TOKEN}", "bearer token"
        args = {k: v for k, v in request.args.items()}
        assert set(args) <= {"pageSize", "continuationToken"}, args
        self.page_requests.append(args)
        if len(self.page_requests) in self.failing_pages:
            body = {"error": {"code": "ServiceUnavailable", "message": "try later"}}
            return Response(
                json.dumps(body),
                status=503,
                headers={"Retry-After": "5"},
                content_type="application/json",
            )
        team = request.path.split("/")[4]
        if "pageSize" in args:
            assert args["pageSize"].isdigit() and 1 <= int(args["pageSize"]) <= 500, args
        size = min(int(args.get("pageSize", 500)), self.page_limit)
        start = 0
        if "continuationToken" in args:
            assert args["continuationToken"], "no empty continuationToken"
            assert args["continuationToken"] in self._continuations, "unknown continuationToken"
            token_team, start = self._continuations.pop(args["continuationToken"])
            assert token_team == team, "a continuationToken belongs to its team"
        if team not in self.rosters:
            body = {"error": {"code": "ConversationNotFound", "message": "not found"}}
            return Response(json.dumps(body), status=404, content_type="application/json")
        ids = self.rosters[team][start : start + size]
        body: dict[str, Any] = {"members": [self.members[i] for i in ids]}
        if start + size < len(self.rosters[team]):
            token = base64.b64encode(f"{team}|{start + size}".encode()).decode()
            self._continuations[token] = (team, start + size)
            body["continuationToken"] = token
        return Response(json.dumps(body), content_type="application/json")

    @property
    def authority(self) -> str:
        return f"{self.base}/{self.tenant}"

    @property
    def service_url(self) -> str:
        return f"{self.base}/teams/"

    def _openid(self, request: Request) -> Response:
        root = f"{self.base}/{self.tenant}"
        return Response(
            json.dumps(
                {
                    "issuer": f"{root}/v2.0",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                }
            ),
            content_type="application/json",
        )

    def _token(self, request: Request) -> Response:
        assert request.content_type.startswith("application/x-www-form-urlencoded")
        form = {k: v for k, v in request.form.items()}
        self.token_requests.append(form)
        assert form.get("grant_type") == "client_credentials", form
        assert form.get("scope") == BOT_SCOPE, form
        if self.token_answers:
            return self.token_answers.pop(0)
        if form.get("client_id") != self.app_id or form.get("client_secret") != self.app_password:
            body = {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
                "error_codes": [7000215],
            }
            return Response(json.dumps(body), status=401, content_type="application/json")
        body = {"token_type": "Bearer", "expires_in": 3599, "access_token": BOT_TOKEN}
        return Response(json.dumps(body), content_type="application/json")

    def _authorised(self, request: Request) -> None:
        assert request.headers.get("Authorization") == f"Bearer {BOT_TOKEN}", "bearer token"
        assert request.content_type.startswith("application/json"), request.content_type

    def _create(self, request: Request) -> Response:
        self._authorised(request)
        body = request.get_json()
        self.created.append(body)
        assert body["isGroup"] is False, "proactive 1:1 only"
        assert body["bot"] == {"id": f"28:{self.app_id}"}, body["bot"]
        assert len(body["members"]) == 1 and body["members"][0]["id"].startswith("29:")
        assert body["tenantId"] == self.tenant == body["channelData"]["tenant"]["id"]
        conversation = "a:1" + body["members"][0]["id"][3:]
        return Response(
            json.dumps({"id": conversation}), status=201, content_type="application/json"
        )

    def _activity(self, request: Request) -> Response:
        self._authorised(request)
        conversation = request.path.split("/")[4]
        body = request.get_json()
        assert body["type"] == "message", body
        (attachment,) = body["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        errors = [e.message for e in self.card_validator.iter_errors(attachment["content"])]
        assert not errors, errors
        if self.activity_status:
            status, headers, *body = self.activity_status.pop(0)
            return Response(
                body[0] if body else "{}",
                status=status,
                headers=headers,
                content_type="application/json",
            )
        self.activities.append((conversation, body))
        return Response(
            json.dumps({"id": f"act-{len(self.activities)}"}),
            status=201,
            content_type="application/json",
        )


# --- Teams Workflows webhook ----------------------------------------------------------------

HOOK_PATH = "/workflows/0a1b/triggers/manual/paths/invoke"
HOOK_QUERY = "api-version=1&sig=TOP-SECRET-SIGNATURE"


class FakeWorkflowHook:
    """A Teams Workflows webhook: JSON envelope in, 202 Accepted out (or a canned answer)."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0)
        self.received: list[dict] = []
        self.canned: list[tuple] = []  # (status, headers) or (status, headers, body)
        self.validator = card_validator()
        self.server.expect_request(HOOK_PATH, method="POST").respond_with_handler(self._hook)

    @property
    def url(self) -> str:
        return self.server.url_for(HOOK_PATH) + "?" + HOOK_QUERY

    def _hook(self, request: Request) -> Response:
        assert request.query_string.decode() == HOOK_QUERY
        assert request.content_type == "application/json"
        envelope = json.loads(request.get_data(as_text=True))
        assert envelope["type"] == "message"
        (attachment,) = envelope["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert attachment["contentUrl"] is None
        assert not list(self.validator.iter_errors(attachment["content"]))
        if self.canned:
            status, headers, *body = self.canned.pop(0)
            return Response(body[0] if body else "", status=status, headers=headers)
        self.received.append(envelope)
        return Response("", status=202)
