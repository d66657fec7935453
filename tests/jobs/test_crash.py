"""Killing a process at the worst moment loses nothing and duplicates nothing.

Real ``fika`` processes (``python -m tests.jobs.crashing``, the fika command with a fault point
armed) are stopped with SIGKILL exactly where a crash hurts most: after the SMTP server
accepted the messages but before the outbox marked them sent, after rows were claimed but before
anything was sent, and while a round's transaction is still open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import func, select

from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import Delivery, Round
from core.programmes import ensure_default_programme
from core.rounds import run_round
from tests.conftest import settings_of
from tests.core.helpers import add_person
from web.config import current_settings

ROOT = Path(__file__).resolve().parents[2]
MONDAY = "2027-01-04"
LEASE = 1.0


def environment(app_config: dict, smtp_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIKA_")}
    env.update(
        DATABASE_URL=app_config["SQLALCHEMY_DATABASE_URI"],
        FIKA_ENV="test",
        FIKA_SECRET_KEY=app_config["SECRET_KEY"],
        FIKA_INSTANCE_PATH=app_config["INSTANCE_PATH"],
        FIKA_BASE_URL=app_config["FIKA_BASE_URL"],
        FIKA_SMTP_URL=smtp_url,
        FIKA_MAIL_FROM="Fika <fika@example.org>",
        # A killed worker's rows fall due again when its lease runs out: a second here.
        FIKA_OUTBOX_LEASE=str(LEASE),
        FIKA_OUTBOX_CONNECTIONS="1",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def fika(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fika", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def kill_at(env: dict, point: str, mark: Path, *args: str) -> None:
    """Run fika until it reaches ``point``, then SIGKILL it."""
    env = dict(env, FIKA_CRASH_AT=point, FIKA_CRASH_MARK=str(mark))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.crashing", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not mark.exists():
            if process.poll() is not None:
                pytest.fail(f"fika exited before {point}: {process.stderr.read().decode()}")
            assert time.monotonic() < deadline, f"fika never reached {point}"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL


def planned(app, people: int = 2) -> None:
    with app.app_context():
        for i in range(people):
            add_person(f"p{i}@example.org", ["Sales", "Legal"][i % 2])


def round_to_send(app, make_app, app_config, smtp_server, people: int = 2, connections: int = 1):
    """``people`` people and Monday's round, written as the clock process would; its
    deliveries wait.

    Returns the environment for ``fika`` processes (``connections`` SMTP connections per
    worker) and an in-process app that mails to ``smtp_server``."""
    planned(app, people)
    env = environment(app_config, smtp_server.url(), FIKA_OUTBOX_CONNECTIONS=str(connections))
    mail = make_app(FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None)
    with mail.app_context():
        run_round(
            current_settings(),
            ensure_default_programme(current_settings().timezone),
            date.fromisoformat(MONDAY),
        )
    return env, mail


def uid_of(mail) -> str:
    for part in mail.message.walk():
        if part.get_content_type() == "text/calendar":
            return str(icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")[0]["UID"])
    raise AssertionError("no calendar part")


@pytest.mark.slow
def test_killed_after_the_server_accepted_resends_only_that_message_the_same(
    app, make_app, app_config, smtp_server, tmp_path
):
    env, mail = round_to_send(app, make_app, app_config, smtp_server)
    kill_at(env, "outbox.sent", tmp_path / "mark", "worker", "--once")
    (first,) = smtp_server.messages  # the server accepted the first message ...
    with app.app_context():  # ... but it was never marked: the worker died before recording
        assert db.session.scalars(select(Delivery.status)).all() == ["pending", "pending"]
    time.sleep(LEASE)  # the dead worker's lease on both rows runs out
    result = fika(env, "worker", "--once")
    assert result.returncode == 0 and "sent 2" in result.stdout, result.stderr
    with mail.app_context():  # and nothing is left to send a third time
        assert send_due(configured_channels(settings_of(mail))).sent == 0
    messages = smtp_server.messages
    assert Counter(m.rcpt_tos[0] for m in messages) == {first.rcpt_tos[0]: 2, **{
        r: 1 for r in ("p0@example.org", "p1@example.org") if r != first.rcpt_tos[0]}}  # fmt: skip
    copies = [m for m in messages if m.rcpt_tos == first.rcpt_tos]
    assert len({m.message["Message-ID"] for m in copies}) == 1  # the same message twice
    assert len({uid_of(m) for m in copies}) == 1  # which calendars fold into one event


@pytest.mark.slow
def test_killed_with_four_connections_resends_at_most_the_four_in_flight(
    app, make_app, app_config, smtp_server, tmp_path
):
    """Four connections: when the worker stops before recording an accepted message, the other
    three connections may each have one more accepted, and none sends a second."""
    env, mail = round_to_send(app, make_app, app_config, smtp_server, people=12, connections=4)
    smtp_server.handler.delay = 0.01
    kill_at(env, "outbox.sent", tmp_path / "mark", "worker", "--once")
    time.sleep(0.1)  # anything still in flight lands before we count
    before = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert 1 <= sum(before.values()) <= 4 and set(before.values()) == {1}
    with app.app_context():
        assert Counter(db.session.scalars(select(Delivery.status))) == {"pending": 12}
    time.sleep(LEASE)
    result = fika(env, "worker", "--once")
    assert result.returncode == 0 and "sent 12" in result.stdout, result.stderr
    copies = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert set(copies) == {f"p{i}@example.org" for i in range(12)}
    assert {r: n - 1 for r, n in copies.items() if n > 1} == dict(before)  # only those resent
    for recipient in before:
        twice = [m for m in smtp_server.messages if m.rcpt_tos == [recipient]]
        assert len({m.message["Message-ID"] for m in twice}) == 1


@pytest.mark.slow
def test_killed_after_claiming_before_sending_sends_each_once_after_restart(
    app, make_app, app_config, smtp_server, tmp_path
):
    env, mail = round_to_send(app, make_app, app_config, smtp_server)
    started = datetime.now(UTC)
    kill_at(env, "outbox.claimed", tmp_path / "mark", "worker", "--once")
    assert smtp_server.messages == []
    with app.app_context():  # the dead worker's lease holds them until it runs out
        leased = db.session.scalars(select(Delivery.next_attempt_at)).all()
    assert len(leased) == 2 and min(leased) >= started + timedelta(seconds=LEASE)
    time.sleep(LEASE)
    assert "sent 2" in fika(env, "worker", "--once").stdout
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "p0@example.org",
        "p1@example.org",
    ]


@pytest.mark.slow
def test_round_killed_before_commit_leaves_nothing_to_send(
    app, make_app, app_config, smtp_server, tmp_path
):
    planned(app)
    env = environment(app_config, smtp_server.url())
    kill_at(env, "round.before_commit", tmp_path / "mark", "round", "--date", MONDAY)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Round)) == 0
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
    mail = make_app(FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None)
    with mail.app_context():
        channels = configured_channels(settings_of(mail))
        assert send_due(channels).sent == 0 and smtp_server.messages == []
        # Nothing half-done blocks the next run: the round is made and sent once.
        assert run_round(
            current_settings(),
            ensure_default_programme(current_settings().timezone),
            date.fromisoformat(MONDAY),
        ).created
        assert send_due(channels).sent == 2
    assert len(smtp_server.messages) == 2


@pytest.mark.slow
def test_five_kills_of_a_worker_on_a_slow_relay_resend_at_most_what_was_in_flight(
    app, make_app, app_config, smtp_server, tmp_path
):
    """100 invites through a relay that takes 20 ms a message, on four connections; the worker
    is SIGKILLed five times partway. Each kill resends at most the messages in flight."""
    connections = 4
    env, mail = round_to_send(
        app, make_app, app_config, smtp_server, people=100, connections=connections
    )
    with mail.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 100
    smtp_server.handler.delay = 0.02
    kills = 0
    while kills < 5:
        arrived = len(smtp_server.messages)
        worker = subprocess.Popen(
            [sys.executable, "-m", "fika", "worker", "--interval", "0.1"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while len(smtp_server.messages) < arrived + 8 and time.monotonic() < deadline:
            time.sleep(0.01)  # let it send a few, then kill it mid-batch
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        kills += 1
        time.sleep(LEASE)
    result = fika(env, "worker", "--once")
    assert result.returncode == 0, result.stderr
    with app.app_context():
        statuses = Counter(db.session.scalars(select(Delivery.status)))
    assert statuses == {"sent": 100}
    copies = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert set(copies) == {f"p{i}@example.org" for i in range(100)}  # everyone got theirs
    # A connection sends its next message only once its last outcome is committed: a kill
    # resends at most one message per connection, the ones in flight.
    assert sum(copies.values()) - 100 <= kills * connections
