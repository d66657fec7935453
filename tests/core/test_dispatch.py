"""Delivering the outbox: retries with back-off, dead letters with reasons, resending."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug import Request, Response

from core.channels import configured_channels
from core.db import db
from core.dispatch import RetryPolicy, dead_letters, resend, retry_delay, send_due
from core.models import Delivery
from core.programmes import ensure_default_programme
from core.rounds import run_round
from fika.tables import status_report
from jobs.worker import WorkerBusy, run_worker, single_worker
from tests.conftest import settings_of
from tests.core.helpers import add_person
from web.config import current_settings, runtime_of

MONDAY = date(2027, 1, 4)


def round_for(app, n: int = 2) -> None:
    with app.app_context():
        for i in range(n):
            add_person(f"p{i}@example.org", ["Sales", "Legal"][i % 2])
        assert run_round(
            current_settings(), ensure_default_programme(current_settings().timezone), MONDAY
        ).created


def rows(channel: str) -> list[Delivery]:
    return list(
        db.session.scalars(
            select(Delivery).where(Delivery.channel == channel).order_by(Delivery.id)
        )
    )


@pytest.fixture
def mail_app(make_app, smtp_server):
    """An app that emails through the local SMTP server (and keeps no outbox folder copy)."""
    return make_app(FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None)


def test_smtp_451_is_retried_later_and_then_delivered(app, mail_app, smtp_server):
    round_for(mail_app, 2)
    smtp_server.fail_next("451 4.3.0 Mailbox busy, try later")
    t0 = datetime.now(UTC)
    with mail_app.app_context():
        channels = configured_channels(settings_of(mail_app))
        assert sorted(channels) == ["email"]
        counts = send_due(channels, now=t0)
        assert (counts.sent, counts.retrying, counts.dead) == (1, 1, 0)
        (retrying,) = [r for r in rows("email") if r.status == "retrying"]
        assert "SMTP 451" in retrying.last_error and retrying.attempts == 1
        wait = retrying.next_attempt_at - t0
        assert timedelta(seconds=15) <= wait <= timedelta(seconds=30)  # base 30 s, jittered
        assert send_due(channels, now=t0 + timedelta(seconds=10)).sent == 0  # not yet due
        assert send_due(channels, now=retrying.next_attempt_at).sent == 1
        db.session.refresh(retrying)
        assert (retrying.status, retrying.attempts, retrying.last_error) == ("sent", 2, None)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "p0@example.org",
        "p1@example.org",
    ]


def test_smtp_550_is_dead_with_its_reason_listed_and_resendable(app, mail_app, smtp_server):
    round_for(mail_app, 2)
    smtp_server.fail_next("550 5.1.1 No such user here", at="RCPT")
    now = datetime.now(UTC)
    with mail_app.app_context():
        channels = configured_channels(settings_of(mail_app))
        counts = send_due(channels, now=now)
        assert (counts.sent, counts.dead) == (1, 1)
        (dead,) = dead_letters()
        assert dead.status == "dead" and dead.attempts == 1
        assert dead.last_error == "SMTP 550: 5.1.1 No such user here"
        report = status_report(now)
        assert "dead 1" in report and f"delivery {dead.id} round {dead.round_id}" in report
        assert "No such user" in report
        sent = next(r for r in rows("email") if r.status == "sent")
        assert resend(sent.id) is None  # only dead letters: a sent one would be a duplicate
        again = resend(dead.id, now=now)
        assert again is not None and (again.status, again.attempts) == ("pending", 0)
        assert send_due(channels, now=now).sent == 1
        assert dead_letters() == []
    delivered = [m.message for m in smtp_server.messages]
    assert len(delivered) == 2 and len({m["Message-ID"] for m in delivered}) == 2


def test_transient_failures_give_up_after_max_attempts(app, make_app, smtp_server):
    capped = make_app(
        FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None, FIKA_OUTBOX_MAX_ATTEMPTS=2
    )
    policy = RetryPolicy.of(settings_of(capped))
    round_for(capped, 2)
    smtp_server.fail_next("452 4.3.1 Insufficient storage", times=4, at="RCPT")
    now = datetime.now(UTC)
    with capped.app_context():
        channels = configured_channels(settings_of(capped))
        send_due(channels, policy=policy, now=now)
        send_due(channels, policy=policy, now=now + timedelta(hours=2))
        statuses = sorted((r.status, r.last_error) for r in rows("email"))
    assert statuses == [("dead", "gave up: SMTP 452: 4.3.1 Insufficient storage")] * 2


def test_retry_delay_doubles_with_jitter_and_respects_retry_after():
    import random

    rng = random.Random(1)
    for attempt in range(1, 8):
        delay = retry_delay(attempt, None, rng, base=30)
        assert 15 * 2 ** (attempt - 1) <= delay <= min(30 * 2 ** (attempt - 1), 3600)
    assert retry_delay(1, 120, rng, base=30) == 120


def test_http_429_then_500_then_200_is_delivered_with_the_delays(app, make_app, httpserver):
    """A Teams Workflows webhook (real HTTP on 127.0.0.1) throttles, fails, then accepts."""
    seen: list[float] = []
    replies = [
        Response("slow down", status=429, headers={"Retry-After": "1"}),
        Response("oops", status=500),
        Response("", status=202),
    ]

    def handler(request: Request) -> Response:
        assert request.json["type"] == "message"
        card = request.json["attachments"][0]["content"]
        if "coffee with" not in card["fallbackText"]:
            return Response("", status=202)  # the round's channel announcement, not the outbox
        seen.append(time.monotonic())
        return replies[len(seen) - 1]

    httpserver.expect_request("/workflow", method="POST").respond_with_handler(handler)
    hooked = make_app(
        FIKA_TEAMS_WEBHOOK_URL=httpserver.url_for("/workflow"), FIKA_OUTBOX_BASE_DELAY=0.3
    )
    round_for(hooked, 2)
    stop = threading.Event()

    def work():
        run_worker(runtime_of(hooked), interval=0.05, stop=stop)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        deadline = time.monotonic() + 15
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        worker.join(10)
    assert len(seen) == 3
    assert seen[1] - seen[0] >= 1.0  # Retry-After: 1
    assert seen[2] - seen[1] >= 0.3  # second attempt: 0.3 * 2 * [0.5, 1]
    with hooked.app_context():
        (teams,) = rows("teams")
        assert (teams.status, teams.attempts, teams.last_error) == ("sent", 3, None)


def test_sent_rows_are_logged_with_round_and_delivery_ids_at_debug(app, caplog):
    round_for(app, 2)
    with app.app_context(), caplog.at_level(logging.DEBUG, logger="fika.outbox"):
        send_due(configured_channels(settings_of(app)))
        first = rows("outbox")[0]
    assert (
        f"event=delivery.sent delivery={first.id} round={first.round_id} group={first.group_id} "
        "kind=invite channel=outbox attempts=1"
    ) in caplog.text


def test_at_info_a_pass_logs_one_summary_instead_of_a_line_per_message(app, caplog):
    round_for(app, 4)
    with app.app_context(), caplog.at_level(logging.INFO, logger="fika.outbox"):
        send_due(configured_channels(settings_of(app)))
        again = send_due(configured_channels(settings_of(app)))  # nothing due: no line
    assert again.sent == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "fika.outbox"]
    assert lines == ["event=delivery.summary sent=4 retrying=0 dead=0"]


def test_a_second_worker_on_sqlite_refuses_to_start(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with (
            single_worker(settings_of(app).database_url),
            single_worker(settings_of(app).database_url),
        ):  # PostgreSQL: any number may run
            return
    with single_worker(settings_of(app).database_url):
        with pytest.raises(WorkerBusy, match="another worker is running"):
            with single_worker(settings_of(app).database_url):
                pass
    with single_worker(settings_of(app).database_url):  # released when the first one stops
        pass


class Exploding:
    """A channel whose client library raises with a URL and a token in its message."""

    name = "outbox"

    def send(self, messages):
        raise ValueError("POST https://hooks.example/T0/B0/s3cret?token=xoxb-123 failed")


def test_a_channel_that_raises_fails_its_batch_without_its_message_reaching_admins(app):
    round_for(app, 2)
    with app.app_context():
        assert send_due({"outbox": Exploding()}).retrying == 2
        reasons = {r.last_error for r in db.session.scalars(select(Delivery))}
    assert reasons == {"outbox: unexpected ValueError (see the worker's log)"}


class RendersAhead:
    """A streaming channel that builds each message ahead (``prepare``), as email does; at each
    send it notes which rows the outbox has committed as sent, read on a connection of its own."""

    name = "outbox"
    concurrent = True

    def __init__(self, engine):
        self.engine = engine  # the lanes' threads have no app context
        self.prepared: list[str] = []
        self.sends: list[tuple[int, str, set[str]]] = []

    def prepare(self, message):
        self.prepared.append(message.key)
        return ("rendered", message)

    def stream(self, items):
        for tag, message in items:
            assert tag == "rendered"  # the lane hands over what prepare built
            with self.engine.connect() as connection:
                sent = set(
                    connection.scalars(select(Delivery.key).where(Delivery.status == "sent"))
                )
            self.sends.append((threading.get_ident(), message.key, sent))
            yield None


@pytest.mark.parametrize("connections", [1, 3])
def test_a_lane_that_renders_ahead_still_sends_only_after_its_last_outcome_commits(
    app, connections
):
    """Rendering the next message overlaps the commit of the last; sending it does not: a
    killed worker still resends at most one message per connection."""
    round_for(app, 12)
    with app.app_context():
        channel = RendersAhead(db.engine)
        assert send_due({"outbox": channel}, connections=connections).sent == 12
        assert Counter(r.status for r in rows("outbox")) == {"sent": 12}
    assert sorted(channel.prepared) == sorted(key for _, key, _ in channel.sends)
    assert len(set(channel.prepared)) == 12
    earlier: dict[int, list[str]] = {}
    for lane, key, committed in channel.sends:
        assert set(earlier.get(lane, [])) <= committed, key
        assert key not in committed
        earlier.setdefault(lane, []).append(key)
    assert len(earlier) <= connections


def test_a_claim_that_fails_ends_the_pass_with_its_error(app, monkeypatch):
    """A claim may run on a thread of its own (PostgreSQL): its failure still reaches the
    caller, as an inline claim's does, and the pass does not wait for rows never claimed."""
    import core.dispatch as dispatch

    round_for(app, 6)
    real, calls = dispatch._claim, []

    def second_fails(*args):
        calls.append(threading.current_thread().name)
        if len(calls) > 1:
            raise RuntimeError("connection to the database lost")
        return real(*args)

    monkeypatch.setattr(dispatch, "_claim", second_fails)
    with app.app_context():
        channels = configured_channels(settings_of(app))
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="database lost"):
            send_due(channels, batch=2)
        assert time.monotonic() - started < 5
        assert Counter(r.status for r in rows("outbox"))["pending"] >= 4
    assert len(calls) == 2
