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
from datetime import date
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
        PYTHONPATH=str(ROOT),
        **extra,
    )
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


def round_to_send(app, make_app, app_config, smtp_server):
    """Two people and Monday's round, written as the clock process would; its deliveries wait.

    Returns the environment for ``fika`` processes and an in-process app that mails to
    ``smtp_server``."""
    planned(app)
    env = environment(app_config, smtp_server.url())
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
def test_killed_after_the_server_accepted_resends_the_same_message_once(
    app, make_app, app_config, smtp_server, tmp_path
):
    env, mail = round_to_send(app, make_app, app_config, smtp_server)
    kill_at(env, "outbox.sent", tmp_path / "mark", "worker", "--once")
    first = list(smtp_server.messages)
    assert len(first) == 2  # accepted by the server ...
    with app.app_context():  # ... but never marked: the worker died before its commit
        assert db.session.scalars(select(Delivery.status)).all() == ["pending", "pending"]
    result = fika(env, "worker", "--once")
    assert result.returncode == 0 and "sent 2" in result.stdout, result.stderr
    with mail.app_context():  # and nothing is left to send a third time
        assert send_due(configured_channels(settings_of(mail))).sent == 0
    messages = smtp_server.messages
    assert Counter(m.rcpt_tos[0] for m in messages) == {"p0@example.org": 2, "p1@example.org": 2}
    for recipient in ("p0@example.org", "p1@example.org"):
        copies = [m for m in messages if m.rcpt_tos == [recipient]]
        assert len({m.message["Message-ID"] for m in copies}) == 1  # the same message twice
        assert len({uid_of(m) for m in copies}) == 1  # which calendars fold into one event


@pytest.mark.slow
def test_killed_after_claiming_before_sending_sends_each_once_after_restart(
    app, make_app, app_config, smtp_server, tmp_path
):
    env, mail = round_to_send(app, make_app, app_config, smtp_server)
    kill_at(env, "outbox.claimed", tmp_path / "mark", "worker", "--once")
    assert smtp_server.messages == []
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
