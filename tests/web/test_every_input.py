"""Every route of the web app, every form and query parameter: bad input never gets a 5xx.

The routes come from ``app.url_map`` and their parameters from the app itself (the forms and
links on its pages, and the names its views read; see ``tests/web/every_input.py``), so a new
route or field is fuzzed without anyone adding it here. Each route is requested as whoever it
is for: the admin (``/admin``), a bearer token (``/api``), signed-in or anonymous visitors
(everything else), Slack with a valid signature (``/slack``), and single sign-on against a local
provider. Values are text with control characters (NUL included), huge text, and huge or odd
numbers, in the path, the query string, the form body and uploaded files. JSON bodies are left
to schemathesis, which reads their shape from ``/api/openapi.json``
(``tests/web/test_api_schemathesis.py``).

Each route gets a sweep (one parameter at a time takes each of a few hostile values while the
others stay valid, so validation lets the bad one through as far as it goes) and then a few
dozen random mixes from hypothesis, derandomised so that every run tries the same inputs.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import re
import tempfile
import time
from datetime import time as clock
from hashlib import sha256
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from core.api_tokens import create_token
from core.db import db
from core.links import Links
from core.models import GroupMember, Person, Preference
from core.programmes import ensure_default_programme
from core.signin import issue_link
from tests.conftest import drop_shell_settings, fresh_database, skip_without_postgresql
from tests.core.helpers import add_person
from tests.fakes_chat import SLACK_TOKEN, FakeSlackApi
from tests.web.admin_support import ADMIN_EMAIL, past_round_with_dead_letter
from tests.web.every_input import (
    HUGE,
    SWEEP,
    Parameters,
    RecordingRequest,
    Route,
    hostile_text,
    recording,
    routes_of,
)
from tests.web.test_account_oidc import CLIENT_ID, Provider
from tests.web.test_account_oidc import SECRET as OIDC_SECRET
from web.config import current_settings

pytestmark = pytest.mark.slow

SLACK_SECRET = "fuzz-signing-secret"
PERSON_EMAIL = "ana.berg@example.org"
API_PERSON_EMAIL = "api.person@example.org"  # the one the API's routes read, change and erase

#: Routes not fuzzed here, each with the reason (reported as a skip, never left out silently).
EXCLUDED: dict[str, str] = {}

#: Random mixes per route, on top of the sweep.
EXAMPLES = 12

#: CSV files that once crashed the import, and their kin: a cell over the csv module's limit
#: (131,072 characters), NUL, bytes that are not UTF-8, an unclosed quote, a header alone.
HOSTILE_FILES = [
    b"email,name,department\nana@example.org," + b"x" * 2_000_000 + b",Sales\n",
    b'email,name,department\nana@example.org,"' + b"y" * 300_000,
    b"email,name,department\nnul@example.org,N\x00L,Sales\n",
    b"email,name,department\n\xff\xfe@example.org,Bad,Sales\n",
    b"email,name\x00,department\n",
    b"\x00" * 1000,
    b"",
]
GOOD_FILE = b"email,name,department\nfuzz.import@example.org,Fuzz Import,Sales\n"


def _routes() -> list[Route]:
    """The app's routes, read once when the tests are collected (no database needed)."""
    from web import create_app

    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as env:
        drop_shell_settings(env)
        app = create_app(
            {"FIKA_ENV": "test", "SECRET_KEY": "x", "INSTANCE_PATH": folder,
             "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/routes.sqlite3"}
        )  # fmt: skip
        return routes_of(app)


ROUTES = _routes()


class Site:
    """The app under fuzz, the data its routes need, and how to call it as anyone."""

    def __init__(self, app):
        self.app = app
        self.params = Parameters()
        self.errors = _ErrorLog()
        app.logger.addHandler(self.errors)
        with app.app_context():
            self.path_values = self._seed()

    def _seed(self) -> dict[str, list[str]]:
        """People, a past round with a dead letter, tokens, signed links; the path values."""
        settings = current_settings()
        programme = ensure_default_programme(settings.timezone)
        add_person(ADMIN_EMAIL, "People")
        ana = add_person(PERSON_EMAIL, "Research")
        add_person(API_PERSON_EMAIL, "Sales")
        round_id, delivery_id = past_round_with_dead_letter(programme)
        self.group_id = db.session.scalar(
            select(GroupMember.group_id).where(GroupMember.person_id == ana.id)
        )
        self.ids = {ADMIN_EMAIL: None, PERSON_EMAIL: ana.id}
        revocable, _ = create_token("fuzz: may be revoked", "test")
        _, self.api_secret = create_token("fuzz", "test")
        db.session.commit()
        links = Links(settings)
        sign_in = urlsplit(issue_link(settings, ana, "/me")).path.rsplit("/", 1)[1]

        def last(url: str) -> str:
            return urlsplit(url).path.rsplit("/", 1)[1]

        group = self.group_id
        return {
            "group_id": [str(group)],
            "round_id": [str(round_id)],
            "delivery_id": [str(delivery_id)],
            "token_id": [str(revocable.id)],
            "programme_id": [str(programme.id)],
            "email": [quote(API_PERSON_EMAIL)],
            "filename": ["fika.css"],
            "chat.answer:token": [last(u) for u in links.actions(group, ana.id).values()],
            "checkin.answer:token": [last(u) for u in links.checkin(group, ana.id).values()],
            "checkin.pause:token": [last(u) for u in links.pause_offer(ana.id).values()],
            "unsubscribe.confirm:token": [last(links.unsubscribe(ana.id))],
            "unsubscribe.unsubscribe:token": [last(links.unsubscribe(ana.id))],
            "account.magic_link:token": [sign_in],
            "admin.confirm_import:token": [self._checked_upload()],
        }

    def _signed_in_id(self, email: str) -> int:
        """The id of the person with ``email``, brought back if a request erased them.

        /me/delete and the API's DELETE erase people, and the fuzz sends them valid requests
        too. The person comes back with the same id and seat, so the signed links among the
        path values still name someone.
        """
        person = db.session.scalar(select(Person).where(Person.email == email))
        if person is not None:
            return person.id
        person = Person(id=self.ids[email], email=email, name="Back Again", department="Research",
                        timezone="UTC", work_start=clock(9), work_end=clock(17))  # fmt: skip
        person.preference = Preference()
        db.session.add(person)
        db.session.flush()
        if email == PERSON_EMAIL:
            db.session.add(GroupMember(group_id=self.group_id, person_id=person.id))
        db.session.commit()
        self.ids[email] = person.id
        return person.id

    def _checked_upload(self) -> str:
        """A file checked in the admin, waiting for its "Import" click: its token."""
        response = self.client("admin").post(
            "/admin/people/import", data={"file": (io.BytesIO(GOOD_FILE), "people.csv")}
        )
        return re.search(r"/admin/people/import/([0-9a-f]{32})", response.get_data(True))[1]

    def client(self, who: str):
        """A test client signed in as ``who``: "admin", "person" or "anonymous"."""
        client = self.app.test_client()
        email = {"admin": ADMIN_EMAIL, "person": PERSON_EMAIL}.get(who)
        if email is not None:
            with self.app.app_context():
                person_id = self._signed_in_id(email)
            with client.session_transaction() as session:
                session["person_id"] = person_id
        return client

    def identities(self, route: Route) -> list[str]:
        """Who requests a route: whoever it is for (the admin's pages check access first)."""
        if route.rule.startswith("/admin"):
            return ["admin"]
        if route.rule.startswith("/api"):
            return ["token"]
        if route.rule.startswith("/slack"):
            return ["slack"]
        return ["person", "anonymous"]

    def path_samples(self, route: Route, name: str) -> list[str]:
        values = self.path_values.get(f"{route.endpoint}:{name}") or self.path_values.get(name)
        return values or ["1"]

    def call(self, route: Route, who: str, path: dict, query: dict, form: dict):
        """One request; the response."""
        # A 429 would hide what the view does with the input: every request starts afresh.
        self.app.extensions["fika_limiter"].reset()
        headers = {}
        if who == "token":
            headers["Authorization"] = f"Bearer {self.api_secret}"
        client = self.client(who if who in ("admin", "person") else "anonymous")
        files = {k: v for k, v in form.items() if isinstance(v, tuple)}
        data: object = form
        if who == "slack":
            body = urlencode(form, doseq=True)
            timestamp = str(int(time.time()))
            digest = hmac.new(
                SLACK_SECRET.encode(), f"v0:{timestamp}:{body}".encode(), sha256
            ).hexdigest()
            headers |= {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}",
                        "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
            data = body
        elif files:
            # Encoded here, in memory: the test client spools a big body to a file it never
            # closes (a ResourceWarning).
            fields = MultiDict()
            for name, value in form.items():
                if isinstance(value, tuple):
                    value = FileStorage(io.BytesIO(value[0]), filename=value[1], name=name)
                fields.setlist(name, value if isinstance(value, list) else [value])
            boundary, data = encode_multipart(fields)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        kwargs = {"data": data} if route.method != "GET" else {}
        response = client.open(
            route.path(path),
            method=route.method,
            query_string=urlencode(query, doseq=True),
            headers=headers,
            **kwargs,
        )
        response.get_data()  # read it whole, then let go of the file behind a static one
        response.close()
        return response

    def check(self, route: Route, who: str, path: dict, query: dict, form: dict) -> None:
        """Request, and fail with what was sent and what the server logged if it was a 5xx."""
        self.errors.last = None
        response = self.call(route, who, path, query, form)
        if response.status_code >= 500:
            raise AssertionError(
                f"{route} as {who} answered {response.status_code}\n"
                f"  path {_short(path)}\n  query {_short(query)}\n  form {_short(form)}\n"
                f"  server: {self.errors.last or response.get_data(True)[:300]}"
            )

    # --- what a valid request looks like ---------------------------------------------------

    def valid(self, route: Route) -> tuple[dict, dict, dict]:
        """Path, query and form values that pages offer (the first sample of each)."""
        path = {name: self.path_samples(route, name)[0] for name, _ in route.converters}
        query = {n: p.samples[0] for n, p in self.params.query_of(route).items() if p.samples}
        form = {}
        for name, param in self.params.form_of(route).items():
            if param.file:
                form[name] = (GOOD_FILE, "people.csv")
            elif param.multiple:
                form[name] = list(param.samples)
            elif param.samples:
                form[name] = param.samples[0]
        form |= PLAUSIBLE_FORM.get(route.endpoint, {})
        return path, query, form

    def discover(self) -> None:
        """Learn parameters from every page, then from what views read, until nothing is new."""
        for route in ROUTES:
            if route.method != "GET":
                continue
            for who in self.identities(route):
                path, query, _ = self.valid(route)
                response = self.call(route, who, path, query, {})
                if response.mimetype == "text/html":
                    self.params.learn_page(self.app, route.path(path), response.get_data(True))
        self.app.request_class = RecordingRequest
        try:
            for _ in range(3):
                new = False
                for route in ROUTES:
                    for who in self.identities(route):
                        with recording() as reads:
                            self.call(route, who, *self.valid(route))
                        new = self.params.learn_reads(route, reads) or new
                if not new:
                    break
        finally:
            self.app.request_class = type(self.app).request_class


#: Values that get a form without a page of its own past its first check.
PLAUSIBLE_FORM = {
    "chat.slack_commands": {"user_id": "UANA1", "text": "status"},
    "chat.slack_actions": {
        "payload": json.dumps(
            {
                "type": "block_actions",
                "user": {"id": "UANA1"},
                "actions": [{"action_id": "fika_in", "value": "no-such-uid"}],
            }
        )  # fmt: skip
    },
}


class _ErrorLog(logging.Handler):
    """The last exception the app logged (``web.errors`` logs every unexpected one)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            self.last = f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:300]}"
        else:
            self.last = record.getMessage()[:300]


def _short(values: dict) -> str:
    def cut(value):
        if isinstance(value, tuple):
            return (cut(value[0]), cut(value[1]))
        text = repr(value)
        return text if len(text) <= 80 else f"{text[:60]}…({len(value)} long)"

    return "{" + ", ".join(f"{k!r}: {cut(v)}" for k, v in values.items()) + "}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, pg_available, tmp_path_factory):
    """The app on a fresh database, with Slack and single sign-on against local fakes."""
    from web import create_app

    skip_without_postgresql(request.param, pg_available)
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    oidc = HTTPServer(host="127.0.0.1", port=0)
    oidc.start()
    provider = Provider(oidc, {"sub": "u-1", "email": PERSON_EMAIL, "email_verified": True})
    with (
        fresh_database(request.param, folder) as url,
        FakeSlackApi({PERSON_EMAIL: "UANA1"}) as slack,
        pytest.MonkeyPatch.context() as env,
    ):
        drop_shell_settings(env)
        app = create_app(
            {
                "FIKA_ENV": "test",
                "TESTING": True,
                "SECRET_KEY": "fuzz-secret-key",
                "SQLALCHEMY_DATABASE_URI": url,
                "INSTANCE_PATH": str(folder / "instance"),
                "FIKA_OUTBOX_DIR": str(folder / "outbox"),
                "FIKA_BASE_URL": "https://fika.example.org",
                "FIKA_TIMEZONE": "Europe/Stockholm",
                "FIKA_ADMIN_EMAILS": ADMIN_EMAIL,
                "FIKA_SLACK_BOT_TOKEN": SLACK_TOKEN,
                "FIKA_SLACK_SIGNING_SECRET": SLACK_SECRET,
                "FIKA_SLACK_API_URL": slack.api_url,
                "FIKA_OIDC_ISSUER": provider.issuer,
                "FIKA_OIDC_CLIENT_ID": CLIENT_ID,
                "FIKA_OIDC_CLIENT_SECRET": OIDC_SECRET,
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            db.create_all()
        fuzzed = Site(app)
        fuzzed.discover()
        try:
            yield fuzzed
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            oidc.clear()
            oidc.stop()


def test_every_route_is_fuzzed_or_excluded_with_a_reason():
    """A route can only be left out by naming it, with a reason, in EXCLUDED."""
    assert {str(r) for r in ROUTES} >= set(EXCLUDED), "EXCLUDED names a route that is gone"
    assert all(reason.strip() for reason in EXCLUDED.values())
    assert len(ROUTES) > 40  # the app's routes were found


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_no_input_gets_a_server_error(site, route):
    if str(route) in EXCLUDED:
        pytest.skip(EXCLUDED[str(route)])
    path, query, form = site.valid(route)
    query_params = site.params.query_of(route)
    form_params = site.params.form_of(route)
    for who in site.identities(route):
        site.check(route, who, path, query, form)
        # The sweep: each parameter in turn gets each hostile value, the others stay valid.
        for name, _ in route.converters:
            for value in [*SWEEP, "a" * 5000]:
                site.check(route, who, path | {name: quote(value, safe="")}, query, form)
        for name in query_params:
            for value in [*SWEEP, "9" * HUGE]:
                site.check(route, who, path, query | {name: value}, form)
        for name, param in form_params.items():
            values = HOSTILE_FILES if param.file else [*SWEEP, "9" * HUGE]
            for value in values:
                sent = (value, "people.csv") if param.file else value
                site.check(route, who, path, query, form | {name: sent})
        if form_params and not any(p.file for p in form_params.values()):
            site.check(route, who, path, query, {})  # nothing at all
        if any(p.file for p in form_params.values()):
            name = next(n for n, p in form_params.items() if p.file)
            site.check(route, who, path, query, form | {name: (GOOD_FILE, "\x00\n/../x.csv")})

    # Random mixes: several parameters bad at once, values of every kind.
    def draw_params(params: dict, huge: int) -> st.SearchStrategy[dict]:
        def value(param):
            good = st.sampled_from(param.samples or [""])
            if param.file:
                return st.sampled_from([*HOSTILE_FILES, GOOD_FILE]).map(lambda b: (b, "f.csv"))
            one = st.one_of(good, hostile_text(huge))
            return st.lists(one, max_size=3) if param.multiple else one

        return st.fixed_dictionaries({}, optional={n: value(p) for n, p in params.items()})

    path_strategy = st.fixed_dictionaries(
        {
            name: st.one_of(
                st.sampled_from(site.path_samples(route, name)),
                hostile_text(5_000).map(lambda v: quote(v, safe="")),
            )
            for name, _ in route.converters
        }
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        who=st.sampled_from(site.identities(route)),
        path_values=path_strategy,
        query_values=draw_params(query_params, HUGE),
        form_values=draw_params(form_params, HUGE),
    )
    def any_mix(who, path_values, query_values, form_values):
        site.check(route, who, path | path_values, query | query_values, form | form_values)

    any_mix()


def test_the_fuzz_reaches_the_forms(site):
    """The discovery found the fields of the main forms, so the sweep really sends them."""
    params = site.params
    assert {"name", "email", "department", "office", "timezone"} <= set(
        params.form["optin.join", "POST"]
    )
    assert {"timezone", "topics", "q", "avoid"} <= set(params.form["account.preferences", "POST"])
    assert {"q", "page", "department", "status"} <= set(params.query["admin.people"])
    assert {"next"} <= set(params.query["account.sign_in"])
    assert {"limit", "offset", "q"} <= set(params.query["api.list_people"])
    assert params.form["admin.import_people", "POST"]["file"].file
    assert {"user_id", "text"} <= set(params.form["chat.slack_commands", "POST"])
