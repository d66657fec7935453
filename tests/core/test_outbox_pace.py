"""The outbox at a relay's pace: several connections per worker, several workers, one queue.

Real parts: aiosmtpd on loopback (waiting a set time per message, as hosted relays do), the
worker's own code path (``run_worker``, spawned worker processes) and PostgreSQL for the
workers that race for rows.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import db
from core.models import Delivery
from core.programmes import ensure_default_programme
from core.rounds import run_round
from core.settings import DEFAULT_CONNECTIONS, SettingsError, load_settings
from jobs.worker import run_worker
from tests.core.helpers import add_person
from tests.jobs import drainers
from tests.jobs.test_crash import uid_of
from web import create_app
from web.config import current_settings, runtime_of

MONDAY = date(2027, 1, 4)
ROOT = Path(__file__).resolve().parents[2]


def queue_invites(app, people: int) -> list[str]:
    """``people`` people and Monday's round: one email invite each, waiting. Their addresses."""
    with app.app_context():
        emails = [f"p{i}@example.org" for i in range(people)]
        for i, email in enumerate(emails):
            add_person(email, ["Sales", "Legal", "Ops"][i % 3])
        settings = current_settings()
        assert run_round(settings, ensure_default_programme(settings.timezone), MONDAY).created
        assert Counter(db.session.scalars(select(Delivery.status))) == {"pending": people}
    return emails


def test_eight_connections_send_every_invite_exactly_once_at_once(make_app, smtp_server, app):
    mail = make_app(
        FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None, FIKA_OUTBOX_CONNECTIONS="8"
    )
    emails = queue_invites(mail, 48)
    smtp_server.handler.delay = 0.03
    counts = run_worker(runtime_of(mail), once=True)
    assert (counts.sent, counts.retrying, counts.dead) == (48, 0, 0)
    received = smtp_server.messages
    assert Counter(m.rcpt_tos[0] for m in received) == dict.fromkeys(emails, 1)
    assert all(uid_of(m) for m in received)  # each the real invite, calendar part and all
    assert smtp_server.handler.peak == 8  # eight connections were sending together
    with mail.app_context():
        assert Counter(db.session.scalars(select(Delivery.status))) == {"sent": 48}


def test_one_connection_sends_one_message_at_a_time(make_app, smtp_server, app):
    mail = make_app(
        FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None, FIKA_OUTBOX_CONNECTIONS="1"
    )
    queue_invites(mail, 6)
    smtp_server.handler.delay = 0.02
    assert run_worker(runtime_of(mail), once=True).sent == 6
    assert len(smtp_server.messages) == 6 and smtp_server.handler.peak == 1


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_workers_on_postgresql_each_send_a_fair_share(app, make_app, app_config, smtp_server):
    """Three worker processes released together on 240 invites through a relay that takes
    20 ms a message: each claims a few rows at a time, so each sends its share."""
    emails = queue_invites(make_app(FIKA_SMTP_URL=smtp_server.url(), FIKA_OUTBOX_DIR=None), 240)
    smtp_server.handler.delay = 0.02
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    workers = [
        context.Process(
            target=drainers.run, args=(i, app_config, smtp_server.url(), 2, barrier, results)
        )
        for i in range(3)
    ]
    for worker in workers:
        worker.start()
    try:
        sent = dict(results.get(timeout=120) for _ in workers)
    finally:
        for worker in workers:
            worker.join(30)
    assert sum(sent.values()) == 240
    assert all(n >= 40 for n in sent.values()), sent  # a third is 80; nobody takes it all
    by_sender = Counter(m.mail_from for m in smtp_server.messages)
    assert by_sender == {f"w{i}@example.org": sent[i] for i in range(3)}
    assert Counter(m.rcpt_tos[0] for m in smtp_server.messages) == dict.fromkeys(emails, 1)
    with app.app_context():
        assert Counter(db.session.scalars(select(Delivery.status))) == {"sent": 240}


@pytest.mark.parametrize("bad", ["0", "-2", "four", "2.5", "101", "٣"])
def test_bad_connections_setting_names_the_variable(tmp_path, bad):
    with pytest.raises(SettingsError, match="FIKA_OUTBOX_CONNECTIONS: expected a whole number"):
        load_settings({"FIKA_OUTBOX_CONNECTIONS": bad}, str(tmp_path))
    with pytest.raises(SettingsError, match="FIKA_OUTBOX_CONNECTIONS"):  # set by the app's config
        create_app(
            {"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path), "FIKA_OUTBOX_CONNECTIONS": bad}
        )


def test_connections_setting_is_read_with_its_default(tmp_path):
    def read(value: str | None) -> int:
        env = {} if value is None else {"FIKA_OUTBOX_CONNECTIONS": value}
        return load_settings(env, str(tmp_path))["FIKA_OUTBOX_CONNECTIONS"]

    assert read(None) == read("") == read(" ") == DEFAULT_CONNECTIONS == 10
    assert read("25") == 25 and read(" 1 ") == 1 and read("100") == 100


def test_worker_with_a_bad_connections_setting_exits_2_naming_it(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FIKA_ENV": "test",
        "FIKA_INSTANCE_PATH": str(tmp_path),
        "FIKA_OUTBOX_CONNECTIONS": "lots",
    }
    result = subprocess.run(
        [sys.executable, "-m", "fika", "worker", "--once"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("fika: FIKA_OUTBOX_CONNECTIONS: expected a whole number from 1 to 100")
    assert "'lots'" in line and result.stdout == ""
