"""Benchmark the outbox drain: workers sending real invites into a local SMTP server.

    python benchmarks/drain_bench.py [--people 6000] [--repeat 3] [--drain 5000]
                                     [--delay-ms 100] [--connections 1,8,20,40]
                                     [--relay-count 3000] [--fair-pending 2000]
                                     [--database-url postgresql://postgres@127.0.0.1:5432/test]

A seeded organisation (benchmarks/orgs.py) of ``--people`` is inserted into a PostgreSQL schema
of its own and one round is run (``core.rounds.run_round``): one email Delivery per person, each
the real invite (text, HTML, the ``text/calendar`` part and the ``invite.ics`` attachment).
Every drain re-queues some of those rows and runs real workers: spawned processes, each with
its own app, released together by a barrier, each calling ``core.dispatch.send_due`` as ``fika
worker`` does. The SMTP server is aiosmtpd in a process of its own, as a relay would be; it
waits ``delay`` ms per message before accepting it, and counts what it received (messages,
those with a calendar part, and per sender address: each worker sends from its own).

1. Pace (no delay): what the server accepts from a bare client sending one pre-built invite on
   one connection, against one worker draining ``--drain`` rows, with the default
   FIKA_OUTBOX_CONNECTIONS and with 1; and the same worker with the ``email`` package's
   object model instead of ``integrations.mime``. Medians of ``--repeat`` runs.
2. A relay taking ``--delay-ms`` per message: one worker with each of ``--connections``
   (``--relay-count`` messages each, 1 connection gets fewer: it is slow), the rate and the
   projected time for 50,000 invites; then 3 workers with the largest setting.
3. Fair share: 3 workers with the default setting (or ``--fair-connections``),
   ``--fair-pending`` rows pending, against the same relay: what each worker sent, and the
   total rate against one worker's.

The script also runs against older trees whose ``send_due`` takes no ``connections``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import multiprocessing
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import sqlalchemy as sa  # noqa: E402
from round_bench import schema, seed_people  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
DAY = dt.date(2027, 2, 1)
SENDERS = 8  # per-sender counters the server keeps (worker i sends from w<i>@example.org)


# --- the SMTP server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _smtp_server(port: int, delay_ms, received, calendars, by_sender, ready) -> None:
    """aiosmtpd on 127.0.0.1: waits ``delay_ms`` per message, then accepts and counts it."""
    import asyncio

    from aiosmtpd.controller import Controller

    class Relay:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            if delay_ms.value:
                await asyncio.sleep(delay_ms.value / 1000)
            sender = envelope.mail_from or ""
            with received.get_lock():
                received.value += 1
                if b"Content-Type: text/calendar; method=" in envelope.original_content:
                    calendars.value += 1
                if sender.startswith("w") and sender[1:2].isdigit():
                    by_sender[int(sender[1])] += 1
            return "250 OK"

    controller = Controller(Relay(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


class Server:
    """The SMTP server process and its shared counters."""

    def __init__(self, context):
        self.delay_ms = context.Value("i", 0)
        self.received = context.Value("i", 0)
        self.calendars = context.Value("i", 0)
        self.by_sender = context.Array("i", SENDERS)
        ready = context.Event()
        self.port = free_port()
        self.process = context.Process(
            target=_smtp_server,
            args=(
                self.port,
                self.delay_ms,
                self.received,
                self.calendars,
                self.by_sender,
                ready,
            ),
            daemon=True,
        )
        self.process.start()
        ready.wait(30)

    def reset(self, delay_ms: int) -> None:
        self.delay_ms.value = delay_ms
        with self.received.get_lock():
            self.received.value = self.calendars.value = 0
            for i in range(SENDERS):
                self.by_sender[i] = 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


# --- workers ------------------------------------------------------------------------------------


def config_for(url: str, port: int, sender: str) -> dict:
    return {
        "FIKA_ENV": "test",
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": f"/tmp/fika-drain-bench-{os.getpid()}",
        "FIKA_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "FIKA_MAIL_FROM": f"Fika <{sender}>",
        "FIKA_OUTBOX_DIR": None,
    }


def app_with_round(url: str, port: int, people: int):
    """An app on ``url`` sending to ``port``, its tables made, ``people`` seeded and one round
    run: one email invite Delivery per person, due now."""
    from core.db import db
    from core.programmes import ensure_default_programme
    from core.rounds import run_round
    from web import create_app
    from web.config import current_settings

    app = create_app(config_for(url, port, "fika@example.org"))
    with app.app_context():
        db.create_all()
        seed_people(people)
        programme = ensure_default_programme(current_settings().timezone)
        programme.holiday_country = ""
        db.session.commit()
        outcome = run_round(current_settings(), programme, DAY)
        assert outcome.created, outcome.message
        db.session.remove()
    return app


def _worker(index, url, port, connections, renderer, barrier, results) -> None:
    """One worker process: its own app; waits at the barrier, drains, reports (sent, s)."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    from core.channels import configured_channels
    from core.dispatch import send_due
    from web import create_app
    from web.config import current_settings

    if renderer == "email":
        import integrations.email

        integrations.email.render_email = render_with_email_package
    app = create_app(config_for(url, port, f"w{index}@example.org"))
    with app.app_context():
        channels = configured_channels(current_settings())
        options = {}
        if "connections" in inspect.signature(send_due).parameters:
            options["connections"] = connections
        barrier.wait()
        started, cpu = time.perf_counter(), time.process_time()
        counts = send_due(channels, **options)
        results.put((index, counts.sent, time.perf_counter() - started, time.process_time() - cpu))


def drain(context, url, server, *, workers, connections, renderer="mime") -> dict:
    """Run ``workers`` worker processes on what is due; wall time from their release, and
    the workers' CPU time per message."""
    barrier = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(i, url, server.port, connections, renderer, barrier, results),
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    barrier.wait(120)
    started = time.perf_counter()
    outcomes = sorted(results.get(timeout=3600) for _ in processes)
    seconds = time.perf_counter() - started
    for process in processes:
        process.join(30)
    sent = [s for _, s, _, _ in outcomes]
    return {
        "sent": sent,
        # the workers' CPU time (all their threads) per message sent
        "cpu_ms": sum(c for *_, c in outcomes) / max(sum(sent), 1) * 1000,
        "seconds": seconds,
        "rate": sum(sent) / seconds,
        "received": server.received.value,
        "calendars": server.calendars.value,
        "by_sender": list(server.by_sender[:workers]),
    }


def queue_due(engine, count: int) -> None:
    """Make the first ``count`` email deliveries due now, unsent; the others wait a day."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        ids = conn.execute(sa.text("SELECT id FROM delivery ORDER BY id")).scalars().all()
        cutoff = ids[min(count, len(ids)) - 1]
        conn.execute(
            sa.text(
                "UPDATE delivery SET status = 'pending', attempts = 0, sent_at = NULL, "
                "last_error = NULL, next_attempt_at = CASE WHEN id <= :cutoff THEN :now "
                "ELSE :later END"
            ),
            {"cutoff": cutoff, "now": now, "later": now + dt.timedelta(days=1)},
        )


# --- the bare client ----------------------------------------------------------------------------


def prebuilt_invite(app) -> bytes:
    """The first delivery's invite, rendered once by the channel's own renderer."""
    from core.db import db
    from core.models import Delivery
    from integrations.email import render_email
    from integrations.payload import message_from_dict

    with app.app_context():
        payload = db.session.scalar(sa.select(Delivery.payload).order_by(Delivery.id).limit(1))
    return render_email(message_from_dict(payload), "bare@example.org")


def bare_client(port: int, raw: bytes, count: int, connections: int = 1) -> float:
    """Messages per second the server accepts from plain smtplib clients sending ``raw``."""
    import smtplib

    def send(n: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for _ in range(n):
                smtp.sendmail("bare@example.org", ["a@example.org"], raw)

    threads = [
        threading.Thread(target=send, args=(count // connections,)) for _ in range(connections)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (count // connections) * connections / (time.perf_counter() - started)


# --- the email package, for comparison ----------------------------------------------------------


def render_with_email_package(
    message, mail_from, mail_from_name="Fika", *, date=None, calendar=None
) -> bytes:
    """The same invite as ``integrations.email.render_email``, built with the ``email``
    package's object model (EmailMessage, its content manager and generator)."""
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import format_datetime, formataddr

    from integrations.email import calendar_for, message_id, subject_for
    from integrations.invite_text import answers_html, answers_text, render_html, render_text

    invite = message.invite
    links = message.links if invite.method == "REQUEST" else {}
    calendar = calendar or calendar_for(message)
    text = render_text(invite, message.recipient) + answers_text(links, message.unsubscribe_url)
    html = render_html(invite, message.recipient).replace(
        "</body></html>", answers_html(links, message.unsubscribe_url) + "</body></html>"
    )
    email = EmailMessage()
    email["Subject"] = subject_for(message)
    email["From"] = formataddr((mail_from_name, mail_from))
    email["To"] = ", ".join(formataddr((a.name, a.email)) for a in message.recipients)
    email["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    email["Message-ID"] = message_id(message.key, mail_from.rpartition("@")[2])
    email["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(text, cte="quoted-printable")
    email.add_alternative(html, subtype="html", cte="quoted-printable")
    email.add_alternative(
        calendar, maintype="text", subtype="calendar", params={"method": invite.method}
    )
    email.add_attachment(calendar, maintype="application", subtype="ics", filename="invite.ics")
    return email.as_bytes(policy=SMTP)


# --- the report ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drain", type=int, default=5000)
    parser.add_argument("--delay-ms", type=int, default=100)
    parser.add_argument("--connections", default="1,8,20,40")
    parser.add_argument("--relay-count", type=int, default=3000)
    parser.add_argument("--fair-pending", type=int, default=2000)
    parser.add_argument(
        "--fair-connections", default="", help="connections per worker in part 3 (default: 10)"
    )
    parser.add_argument("--skip", default="", help="comma list of parts to skip: pace,relay,fair")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FIKA_BENCH_DATABASE_URL")
        or os.environ.get("FIKA_TEST_DATABASE_URL")
        or DEFAULT_URL,
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    import logging

    from core.db import db

    logging.basicConfig(level=logging.WARNING)
    try:
        from core.settings import DEFAULT_CONNECTIONS
    except ImportError:  # an older tree: one connection per worker
        DEFAULT_CONNECTIONS = 1  # noqa: N806
    context = multiprocessing.get_context("spawn")
    server = Server(context)
    try:
        with schema(args.database_url) as url:
            app = app_with_round(url, server.port, args.people)
            engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT count(*) FROM delivery")).scalar()
            print(f"{rows} invites (one round of {args.people} people), default connections "
                  f"per worker: {DEFAULT_CONNECTIONS}")  # fmt: skip

            def run(count: int, delay_ms: int, **options) -> dict:
                queue_due(engine, count)
                server.reset(delay_ms)
                result = drain(context, url, server, **options)
                assert sum(result["sent"]) == count == result["received"], result
                assert result["calendars"] == count, result
                return result

            if "pace" not in skip:
                raw = prebuilt_invite(app)
                print(f"\n1. pace, no delay ({len(raw)} bytes per invite; medians of "
                      f"{args.repeat}, {args.drain} messages each)")  # fmt: skip
                bare, bare_many, worker, single, package = [], [], [], [], []
                cpu: dict[str, list[float]] = {"worker": [], "single": [], "package": []}
                for _ in range(args.repeat):
                    server.reset(0)
                    bare.append(bare_client(server.port, raw, args.drain))
                    bare_many.append(bare_client(server.port, raw, args.drain, DEFAULT_CONNECTIONS))
                    for rates, key, options in (
                        (worker, "worker", {"connections": DEFAULT_CONNECTIONS}),
                        (single, "single", {"connections": 1}),
                        (
                            package,
                            "package",
                            {"connections": DEFAULT_CONNECTIONS, "renderer": "email"},
                        ),
                    ):
                        result = run(args.drain, 0, workers=1, **options)
                        rates.append(result["rate"])
                        cpu[key].append(result["cpu_ms"])
                floor = statistics.median(bare)
                for label, rates, key in (
                    ("bare client, pre-built invite, 1 connection", bare, ""),
                    (
                        f"bare client, pre-built invite, {DEFAULT_CONNECTIONS} connections",
                        bare_many,
                        "",
                    ),  # fmt: skip
                    (
                        f"one worker, {DEFAULT_CONNECTIONS} connections (mime writer)",
                        worker,
                        "worker",
                    ),
                    ("one worker, 1 connection (mime writer)", single, "single"),
                    (
                        f"one worker, {DEFAULT_CONNECTIONS} connections (email package)",
                        package,
                        "package",
                    ),
                ):
                    median = statistics.median(rates)
                    # Each run's rate against the bare client's of the same repetition.
                    ratio = statistics.median(r / b for r, b in zip(rates, bare, strict=True))
                    spent = f"{statistics.median(cpu[key]):5.2f} ms CPU/msg" if key else " " * 16
                    print(
                        f"  {label:<52} {median:>6.0f}/s  {median / floor:>4.0%} of bare"
                        f" (per run {ratio:>4.0%})  {spent}"
                        f"   ({', '.join(f'{r:.0f}' for r in rates)})"
                    )

            if "relay" not in skip:
                print(f"\n2. a relay that takes {args.delay_ms} ms per message")
                settings = [int(c) for c in args.connections.split(",")]
                for connections in settings:
                    count = min(args.relay_count, max(50, connections * 100))
                    result = run(count, args.delay_ms, workers=1, connections=connections)
                    print(
                        f"  1 worker,  {connections:>3} connections: {count:>5} in "
                        f"{result['seconds']:6.1f} s = {result['rate']:6.1f}/s; 50,000 in "
                        f"{50000 / result['rate'] / 60:6.1f} min"
                    )
                connections = max(settings)
                count = args.relay_count
                result = run(count, args.delay_ms, workers=3, connections=connections)
                print(
                    f"  3 workers, {connections:>3} connections each: {count:>5} in "
                    f"{result['seconds']:6.1f} s = {result['rate']:6.1f}/s; 50,000 in "
                    f"{50000 / result['rate'] / 60:6.1f} min (sent {result['sent']})"
                )

            if "fair" not in skip:
                pending = args.fair_pending
                each = int(args.fair_connections or DEFAULT_CONNECTIONS)
                print(f"\n3. fair share: {pending} pending, relay {args.delay_ms} ms, "
                      f"{each} connections per worker")  # fmt: skip
                one = run(pending, args.delay_ms, workers=1, connections=each)
                three = run(pending, args.delay_ms, workers=3, connections=each)
                print(
                    f"  1 worker:  {one['seconds']:6.1f} s = {one['rate']:6.1f}/s, "
                    f"{one['cpu_ms']:.2f} ms CPU/msg"
                )
                print(
                    f"  3 workers: {three['seconds']:6.1f} s = {three['rate']:6.1f}/s, "
                    f"{three['rate'] / one['rate']:.2f}x one worker, "
                    f"{three['cpu_ms']:.2f} ms CPU/msg; "
                    f"each sent {three['sent']} "
                    f"(the server received {three['by_sender']} from each)"
                )
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
