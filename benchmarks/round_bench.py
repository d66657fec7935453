"""Benchmark a full round on PostgreSQL and the outbox worker draining into a local SMTP server.

    python benchmarks/round_bench.py [--sizes 10000,50000] [--repeat 3] [--drain 10000]
                                     [--cli 50000]
                                     [--database-url postgresql://postgres@127.0.0.1:5432/test]

Per size: a seeded organisation (benchmarks/orgs.py: uneven departments, 3-6 offices in
several zones, managers, avoid lists) is inserted into a schema of its own, then
``core.rounds.run_round`` runs for ``--repeat`` consecutive weekdays (so later rounds carry
history) and is timed end to end, with its phases: load (``taking_part``: who is in the round), plan
(``pairing.plan_round``), persist (Round, Groups, seats and one email Delivery per person, in
one transaction). With ``--cli N``, at size N the command ``fika round`` then runs as an admin
or a cron job runs it (a new process, the next weekday, its default output) and is timed end to
end, with the peak resident memory of that process. Then one worker (``core.dispatch.send_due``,
one process, with the default FIKA_OUTBOX_CONNECTIONS) drains ``--drain`` email deliveries into
an aiosmtpd server on 127.0.0.1, timed. Times are medians; each size also prints the median CPU
seconds of a round, of this process and of its PostgreSQL backend (when the server runs on this
machine: on a busy machine they say more than wall time). The schema is dropped at the end.
The drain's own benchmark, with a relay that waits per message and several workers, is
drain_bench.py.

Targets on the reference machine (issue 22): a full round in at most 3 s for 10,000 people and
10 s for 50,000; ``fika round`` for 50,000 in at most 15 s end to end; draining at least 200
emails per second with one worker. The drain is also read against what the SMTP
server alone accepts (one pre-built message sent 2,000 times on one connection), since on two
cores the server's process, not the worker, sets the pace.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import socket
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import sqlalchemy as sa  # noqa: E402

from web.config import current_settings  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
FIRST_DAY = dt.date(2027, 2, 1)


class Phases:
    """Wall time spent in named functions, by wrapping them where ``core.rounds`` looks them up."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._originals: list[tuple[object, str, object]] = []

    def restore(self) -> None:
        for module, name, original in reversed(self._originals):
            setattr(module, name, original)
        self._originals.clear()

    def wrap(self, module, name: str, phase: str) -> None:
        original = getattr(module, name)
        self._originals.append((module, name, original))

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)


def server_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds of the PostgreSQL backend ``pid`` so far, when the server runs on this
    machine (read from /proc); None otherwise. On a busy machine, CPU time (this process's
    and its backend's) says more than wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def schema(base_url: str):
    """A fresh PostgreSQL schema; yields a URL whose search_path points at it; drops it after."""
    from core.settings import normalise_database_url

    base = normalise_database_url(base_url)
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def seed_people(n: int) -> None:
    """Insert ``n`` people with preferences in bulk (Core executemany)."""
    from orgs import make_org

    from core.db import db
    from core.models import Person, Preference

    org = make_org(n, seed=1)["participants"]
    ids = {p["id"]: i + 1 for i, p in enumerate(org)}
    now = dt.datetime.now(dt.UTC)
    people, preferences = [], []
    for p in org:
        start, end = (dt.time.fromisoformat(h) for h in p["work_hours"])
        people.append(
            {
                "id": ids[p["id"]],
                "email": f"{p['id']}@example.org",
                "name": f"Person {p['id']}",
                "department": p["department"],
                "manager_id": None,
                "timezone": p["timezone"],
                "work_start": start,
                "work_end": end,
                "home_office": p["site"],
                "created_at": now,
                "updated_at": now,
            }
        )
        preferences.append(
            {
                "person_id": ids[p["id"]],
                "active": True,
                "mode": p["mode"],
                "weekday_sites": {},
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "reminders": True,
                "topics": p.get("topics", []),
                "avoid": [ids[a] for a in p.get("avoid", [])],
            }
        )
    db.session.execute(sa.insert(Person), people)
    managers = [
        {"id": ids[p["id"]], "manager_id": ids[p["manager"]]} for p in org if p.get("manager")
    ]
    db.session.execute(sa.update(Person), managers)  # ORM bulk UPDATE by primary key
    db.session.execute(sa.insert(Preference), preferences)
    db.session.execute(sa.text(f"SELECT setval('person_id_seq', {n})"))
    db.session.commit()


def bench_cli_round(url: str, day: dt.date, smtp_port: int) -> tuple[float, float, str, float]:
    """``fika round --date day`` in a new process: wall seconds, its peak RSS in MB, its
    summary, and its CPU seconds (user + system)."""
    import resource
    import subprocess

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FIKA_") and key != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=url,
        FIKA_ENV="test",
        FIKA_INSTANCE_PATH=f"/tmp/fika-bench-{os.getpid()}",
        FIKA_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        FIKA_MAIL_FROM="Fika <fika@example.org>",
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "fika", "round", "--date", day.isoformat()],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    # ru_maxrss of waited-for children: the largest of them, in KiB on Linux.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = children.ru_maxrss / 1024
    cpu = children.ru_utime + children.ru_stime - before
    return seconds, peak, done.stdout, cpu


def weekdays() -> list[dt.date]:
    """The weekdays of the benchmark's rounds, from FIRST_DAY on."""
    return [d for d in (FIRST_DAY + dt.timedelta(i) for i in range(28)) if d.weekday() < 5]


def bench_rounds(
    app, n: int, repeat: int
) -> tuple[list[float], list[dict], int, list[tuple[float, float | None]]]:
    """Run ``repeat`` rounds on consecutive weekdays; return times, phases, deliveries, and
    each round's CPU seconds (this process's, its PostgreSQL backend's or None)."""
    import core.rounds as rounds
    from core.db import db
    from core.models import Delivery
    from core.programmes import ensure_default_programme

    totals, phases, cpu = [], [], []
    days = weekdays()
    with app.app_context():
        seed_people(n)
        programme = ensure_default_programme(current_settings().timezone)
        programme.holiday_country = ""
        db.session.commit()
        for day in days[:repeat]:
            timer = Phases()
            timer.wrap(rounds, "taking_part", "load")
            timer.wrap(rounds, "history", "load")
            timer.wrap(rounds, "plan_round", "plan")
            timer.wrap(rounds, "_persist_groups", "persist")
            backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
            server = server_cpu_seconds(backend)
            own = time.process_time()
            started = time.perf_counter()
            outcome = rounds.run_round(current_settings(), programme, day)
            totals.append(time.perf_counter() - started)
            after = server_cpu_seconds(backend)
            server = None if server is None or after is None else after - server
            cpu.append((time.process_time() - own, server))
            assert outcome.created and len(outcome.people) == n, outcome.message
            timer.restore()
            phases.append(timer.seconds)
            db.session.remove()
        deliveries = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery))
    return totals, phases, deliveries, cpu


def bench_drain(app, count: int) -> tuple[float, int]:
    """One worker sends ``count`` due email deliveries into a local SMTP server."""
    from core.channels import configured_channels
    from core.db import db
    from core.dispatch import send_due
    from core.models import Delivery

    with app.app_context():
        # Only the first ``count`` rows are due now; the rest wait.
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        due = db.session.scalars(
            sa.select(Delivery.id).where(Delivery.status == "pending").order_by(Delivery.id)
        ).all()
        db.session.execute(
            sa.update(Delivery).where(Delivery.id.in_(due[count:])).values(next_attempt_at=later)
        )
        db.session.commit()
        channels = configured_channels(current_settings())
        started = time.perf_counter()
        counts = send_due(channels, connections=current_settings().outbox_connections)
        seconds = time.perf_counter() - started
    return seconds, counts.sent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _smtp_sink(port: int, received, ready) -> None:
    """An aiosmtpd server on 127.0.0.1 that accepts and counts every message."""
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def bench_smtp_ceiling(port: int, count: int = 2000) -> float:
    """What the SMTP server alone accepts: one pre-built invite sent ``count`` times on one
    connection (no outbox, no building). The worker's drain rate is read against this."""
    import smtplib

    from integrations.base import Attendee, Invite, Message
    from integrations.email import render_email

    start = dt.datetime(2027, 2, 1, 9, tzinfo=dt.UTC)
    people = (Attendee("A", "a@example.org", "UTC"), Attendee("B", "b@example.org", "UTC"))
    invite = Invite(
        uid="ceiling@fika", sequence=0, method="REQUEST", start=start,
        end=start + dt.timedelta(minutes=15), summary="Fika: A and B", organizer_name="Fika",
        organizer_email="fika@example.org", attendees=people, video_url="https://v.example/x",
    )  # fmt: skip
    raw = render_email(Message("ceiling", invite, people[0]), "fika@example.org")
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        started = time.perf_counter()
        for _ in range(count):
            smtp.sendmail("fika@example.org", ["a@example.org"], raw)
        return count / (time.perf_counter() - started)


class NullChannel:
    """Accepts every message without building it: what the outbox itself costs per row."""

    name = "email"

    def send(self, messages):
        return [None] * len(messages)


def bench_outbox_overhead(app, count: int) -> float:
    """Re-queue the ``count`` sent rows and drain them through :class:`NullChannel`."""
    from core.db import db
    from core.dispatch import send_due
    from core.models import Delivery

    with app.app_context():
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.status == "sent")
            .values(status="pending", attempts=0, next_attempt_at=dt.datetime.now(dt.UTC))
        )
        db.session.commit()
        started = time.perf_counter()
        sent = send_due({"email": NullChannel()}).sent
        seconds = time.perf_counter() - started
    assert sent == count, sent
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drain", type=int, default=10000)
    parser.add_argument(
        "--cli", type=int, default=50000, help="size at which to time `fika round` (0: never)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FIKA_BENCH_DATABASE_URL")
        or os.environ.get("FIKA_TEST_DATABASE_URL")
        or DEFAULT_URL,
    )
    args = parser.parse_args()

    import logging

    from core.db import db
    from web import create_app

    logging.basicConfig(level=logging.WARNING)

    # The SMTP server runs in its own process, as a mail relay would: in ours it would take the
    # worker's interpreter lock for every message it parses.
    context = multiprocessing.get_context("spawn")
    received = context.Value("i", 0)
    ready = context.Event()
    port = _free_port()
    server = context.Process(target=_smtp_sink, args=(port, received, ready), daemon=True)
    server.start()
    ready.wait(30)
    print(f"{'people':>7} {'round s':>8} {'load':>6} {'plan':>6} {'persist':>7} {'rows/s':>8}")
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            with schema(args.database_url) as url:
                app = create_app(
                    {
                        "FIKA_ENV": "test",
                        "SECRET_KEY": "bench",
                        "SQLALCHEMY_DATABASE_URI": url,
                        "INSTANCE_PATH": f"/tmp/fika-bench-{os.getpid()}",
                        "FIKA_SMTP_URL": f"smtp://127.0.0.1:{port}",
                        "FIKA_MAIL_FROM": "Fika <fika@example.org>",
                        "FIKA_OUTBOX_DIR": None,
                    }
                )
                with app.app_context():
                    db.create_all()
                totals, phases, deliveries, cpu = bench_rounds(app, n, args.repeat)
                median = statistics.median(totals)
                rows = deliveries / len(totals) + n  # deliveries + seats per round (+ groups)
                print(
                    f"{n:>7} {median:>8.2f} "
                    + " ".join(
                        f"{statistics.median(p.get(k, 0.0) for p in phases):>6.2f}"
                        for k in ("load", "plan")
                    )
                    + f" {statistics.median(p.get('persist', 0.0) for p in phases):>7.2f}"
                    + f" {rows / median:>8.0f}"
                    + f"   (rounds: {', '.join(f'{t:.2f}' for t in totals)} s)"
                )
                servers = [c[1] for c in cpu if c[1] is not None]
                print(
                    f"{'':>7} CPU s, median: {statistics.median(c[0] for c in cpu):.2f} this "
                    "process"
                    + (
                        f" + {statistics.median(servers):.2f} its PostgreSQL backend"
                        if len(servers) == len(cpu)
                        else ""
                    )
                )
                if args.cli and n == args.cli:
                    day = weekdays()[args.repeat]  # the weekday after the timed rounds
                    seconds, peak, output, used = bench_cli_round(url, day, port)
                    summary = [line for line in output.splitlines() if line][:3]
                    print(
                        f"fika round, {n} people, end to end: {seconds:.2f} s "
                        f"({used:.2f} s CPU), peak RSS {peak:.0f} MB; "
                        f"it printed {len(output.splitlines())} lines:"
                    )
                    for line in summary:
                        print(f"    {line}")
                if args.drain and n >= args.drain:
                    seconds, sent = bench_drain(app, args.drain)
                    print(
                        f"drain: {sent} emails in {seconds:.2f} s = {sent / seconds:.0f} emails/s "
                        f"with one worker (server received {received.value})"
                    )
                    ceiling = bench_smtp_ceiling(port)
                    print(
                        f"the SMTP server alone (pre-built message, one connection): "
                        f"{ceiling:.0f} emails/s; the worker reaches {sent / seconds / ceiling:.0%}"
                    )
                    overhead = bench_outbox_overhead(app, sent)
                    print(
                        f"outbox alone (claim, decode, mark; no email built): {sent} rows in "
                        f"{overhead:.2f} s = {sent / overhead:.0f} rows/s"
                    )
                    args.drain = 0
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
    finally:
        server.terminate()
        server.join(10)


if __name__ == "__main__":
    main()
