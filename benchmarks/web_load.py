"""Load-test the people's pages under gunicorn (2 workers) on PostgreSQL, next to hello-world.

    python benchmarks/web_load.py [--duration 10] [--connections 16] [--rate 200] [--people 200]
                                  [--worker-class gthread|sync] [--threads 4]
                                  [--ratelimit-storage redis://127.0.0.1:6379/0]

In one run, on loopback:

1. a fresh PostgreSQL schema (``FIKA_BENCH_DATABASE_URL``, default the test server) with the
   tables, the default programme, ``--people`` people and a round planned for the next weekday;
2. ``gunicorn -w 2 "web:create_app()"`` on it (production mode, CSRF and rate limits on, the
   counters in Redis as with several workers in production; the form's limit is raised so the
   limiter runs but never answers 429), and ``gunicorn -w 2 "web_load:hello()"``, a bare Flask
   hello-world, under the same settings: ``gthread`` workers with 4 threads, as the Procfile's
   ``gunicorn.conf.py`` (``--worker-class sync`` for workers without threads or keep-alive);
3. for each of: the form GET, the form POST (a real CSRF token and its session cookie; every
   POST is a new person joining, as on launch day: the person and their preferences in one
   INSERT statement, ``core.changes.join_if_new``), "my coffee
   breaks" (a signed-in session) and hello-world: ``wrk`` at full speed (throughput,
   p50/p99), then a paced open-loop client at ``--rate`` requests per second (p50/p99 measured
   from each request's scheduled time, so a stall is not hidden by fewer requests).

Also, as the floor for each page: a bare Flask app whose only work is what the page cannot do
without, one CSRF token in a new session (``floor: CSRF token``), one raw psycopg SELECT
(``floor: 1 SELECT``) or one autocommitted INSERT (``floor: 1 INSERT``), see :func:`floor`;
each page is compared with its floor too.

Prints one table, with each server's CPU time per request at full speed (``CPU ms``: gunicorn's
master and workers, from ``/proc``; it hardly changes when other work shares the machine, unlike
throughput), the whole machine's busy share meanwhile (``host %``, every process on every core:
near 100 % means the page is held back by CPU, its own or PostgreSQL's, Redis's, wrk's or anyone
else's, not by waiting with cores idle) and each worker's busy share of a core (``workers %``:
"83+1" is a run that one worker served alone, see :func:`worker_shares`). The targets (issue
#22) are each page's share of its floor's throughput: form GET >= 75 %, form POST >= 50 %, /me
>= 50 %, and p99 <= 20 ms at 200/s. On a machine that other work keeps busy, compare runs of two
trees one after the other (``cd`` into each checkout and run its copy), not with numbers from
another day.
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "bench-" + uuid.uuid4().hex
#: In every address the form POSTs join, so that runs never share one: the per-address sign-in
#: limit (5 per 15 minutes) counts in Redis across runs, and a run that reused the previous
#: runs' addresses would measure 429 answers instead of joins.
RUN = uuid.uuid4().hex[:8]
NUMBER = "NUMBER"
sys.path[:0] = [str(ROOT)]


def hello():
    """The baseline: a bare Flask app answering one short string."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def index():
        return "Hello, World!"

    return app


FLOOR_TABLE = "bench_floor"


def floor():
    """The least a page that reads or writes the database can cost, for comparison.

    Bare Flask with one raw psycopg statement per request on a connection of the thread's own,
    in autocommit (one round trip): no ORM, pool, template, session or CSRF. ``GET /select``
    reads one row by key; ``POST /insert`` adds one row with a unique email, as a join adds a
    person. ``GET /token`` touches no database: it only gives each visitor a CSRF token (a
    Flask-WTF token in a new session cookie) in a fixed page as long as the opt-in form, as
    any page with a form must. No real page can be cheaper than these, so their share of
    hello-world's throughput is the ceiling for such pages.
    """
    import threading

    import psycopg
    from flask import Flask, request
    from flask_wtf.csrf import CSRFProtect, generate_csrf

    url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    local = threading.local()
    app = Flask("floor")
    app.secret_key = os.environ["FIKA_SECRET_KEY"]
    csrf = CSRFProtect(app)
    page = "<!doctype html>" + "x" * 32_000 + '<input name="csrf_token" value="SLOT">'

    @app.get("/token")
    def token():
        return page.replace("SLOT", generate_csrf())

    def connection() -> psycopg.Connection:
        if getattr(local, "conn", None) is None:
            local.conn = psycopg.connect(url, autocommit=True)
        return local.conn

    @app.get("/select")
    def select_one():
        row = connection().execute(f"SELECT name FROM {FLOOR_TABLE} WHERE id = %s", (1,)).fetchone()
        return f"Hello, {row[0]}!"

    @app.post("/insert")
    @csrf.exempt  # the floor of a write: no token to check
    def insert_one():
        connection().execute(
            f"INSERT INTO {FLOOR_TABLE} (name, email) VALUES (%s, %s)",
            (request.form["name"], request.form["email"]),
        )
        return "Joined"

    return app


@dataclass
class Target:
    """One endpoint to load: method, path, headers, body."""

    name: str
    port: int
    method: str
    path: str
    headers: dict[str, str]
    body: str = ""  # NUMBER in it becomes a number unique to each request

    def body_for(self, number: str) -> str:
        return self.body.replace(NUMBER, number)


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0  # wrk only: how many it completed


def process_cpu_seconds(server: subprocess.Popen) -> dict[int, float]:
    """User and system CPU time so far of a gunicorn master and of each of its workers, by pid
    (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        # after the name: state, ppid, ... utime (14th field of the line) and stime (15th)
        if int(entry) == server.pid or int(fields[1]) == server.pid:
            seconds[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def server_cpu_seconds(server: subprocess.Popen) -> float:
    """User and system CPU time of a gunicorn master and its workers so far (Linux ``/proc``).

    A page's CPU per request, unlike its throughput, hardly changes when other work shares
    the machine: the figure to compare between two trees on a busy machine.
    """
    return sum(process_cpu_seconds(server).values())


def worker_shares(server: subprocess.Popen, before: dict[int, float], seconds: float) -> str:
    """Each worker's CPU during a run as a share of one core, busiest first: "83+1" when one
    worker served the run alone.

    wrk's keep-alive connections stay with the worker that accepted them, and one gthread
    worker may accept all of them; its GIL then holds the page to one core while the other
    worker idles (throughput halves with the machine half idle).
    """
    after = process_cpu_seconds(server)
    shares = sorted(
        (after[pid] - before.get(pid, 0.0)) / seconds for pid in after if pid != server.pid
    )
    return "+".join(f"{share * 100:.0f}" for share in reversed(shares))


def host_cpu_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the whole machine so far, over every core (Linux ``/proc/stat``).

    The share busy during a run says whether a page is held back by the CPU (the server's,
    PostgreSQL's, Redis's, wrk's and anything else running) or waits with cores idle.
    """
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_database(base_url: str, people: int) -> tuple[str, str, str]:
    """A new schema with people and a round; returns (URL, schema, a signed-in session cookie)."""
    import sqlalchemy as sa

    from core.settings import normalise_database_url

    schema = f"bench_web_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(normalise_database_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = (
        sa.engine.make_url(normalise_database_url(base_url))
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    from datetime import UTC, datetime, time, timedelta

    from core.db import db
    from core.models import GroupMember, Person, Preference
    from core.programmes import ensure_default_programme
    from core.rounds import run_round
    from web import create_app
    from web.config import current_settings

    app = create_app(_app_settings(url, 0) | {"INSTANCE_PATH": tempfile.mkdtemp()})
    with app.app_context():
        db.create_all()
        programme = ensure_default_programme(current_settings().timezone)
        departments = ["Sales", "Research", "Legal", "People", "Finance", "Design", "Ops"]
        for i in range(people):
            person = Person(
                email=f"p{i}@example.org",
                name=f"Person {i:04d}",
                department=departments[i % len(departments)],
                timezone="Europe/Stockholm",
                home_office="Stockholm" if i % 3 else None,
                work_start=time(8),
                work_end=time(17),
            )
            person.preference = Preference()
            db.session.add(person)
        db.session.commit()
        day = datetime.now(UTC).date() + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        run_round(current_settings(), programme, day)
        person_id = db.session.scalar(sa.select(GroupMember.person_id).limit(1))
        db.session.execute(sa.text(f"CREATE TABLE {FLOOR_TABLE} (id serial PRIMARY KEY, "
                                   "name text NOT NULL, email text NOT NULL UNIQUE)"))  # fmt: skip
        db.session.execute(
            sa.text(f"INSERT INTO {FLOOR_TABLE} (name, email) VALUES ('Ana', 'a@x')")
        )
        db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps({"person_id": person_id})
        db.engine.dispose()
    return url, schema, cookie


def _app_settings(url: str, port: int) -> dict:
    return {
        "FIKA_ENV": "production",
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": url,
        "FIKA_BASE_URL": f"http://127.0.0.1:{port}",
    }


def gunicorn_options(worker_class: str, threads: int) -> list[str]:
    """The server settings both apps get: 2 workers of ``worker_class`` (threads for gthread)."""
    options = ["-w", "2", "-k", worker_class]
    return options + (["--threads", str(threads)] if worker_class == "gthread" else [])


def start_gunicorn(
    app_spec: str, port: int, env: dict[str, str], chdir: Path, options: list[str]
) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", *options, "-b", f"127.0.0.1:{port}",
               "--chdir", str(chdir), "--log-level", "warning", app_spec]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"gunicorn {app_spec} did not start on port {port}")


def get(port: int, path: str, headers: dict[str, str] | None = None):
    # The first request waits for a worker to import the app: slow on a busy machine.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response, body


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def form_post_target(port: int) -> Target:
    """A real CSRF token and the session cookie that carries its secret, from the form GET.

    Each POST joins a new person: ``NUMBER`` in the email becomes a number of its own.
    """
    response, body = get(port, "/")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
    cookie = response.getheader("Set-Cookie").split(";")[0]
    fields = {"name": "Load Test", "email": f"load-{NUMBER}@{RUN}.example.org", "department": "Ops",
              "office": "Stockholm", "timezone": "Europe/Stockholm"}  # fmt: skip
    data = urlencode({"csrf_token": token, **fields})
    headers = {"Cookie": cookie, **FORM_HEADERS}
    return Target("form POST", port, "POST", "/", headers, data)


def check(target: Target, expected: int = 200) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=60)
    body = target.body_for("check") or None
    conn.request(target.method, target.path, body=body, headers=target.headers)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    if response.status != expected:
        raise SystemExit(f"{target.name}: expected {expected}, got {response.status}: {text[:300]}")


def run_wrk(target: Target, duration: int, connections: int) -> Result:
    """Full-speed throughput and latency percentiles from wrk."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    body = target.body.replace("\\", "\\\\").replace('"', '\\"')
    script.write(f'wrk.method = "{target.method}"\nwrk.body = "{body}"\n')
    for key, value in target.headers.items():
        script.write(f'wrk.headers["{key}"] = "{value}"\n')
    if NUMBER in target.body:  # each thread numbers its requests: "wrk-<thread>-<n>"
        script.write(
            "local threads = 0\n"
            "function setup(thread) threads = threads + 1; thread:set('tid', threads) end\n"
            "local n = 0\n"
            "function request()\n"
            "  n = n + 1\n"
            f"  local body = string.gsub(wrk.body, '{NUMBER}', 'wrk-' .. tid .. '-' .. n)\n"
            "  return wrk.format(nil, nil, nil, body)\n"
            "end\n"
        )
    script.write(
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("P50 %d\\nP99 %d\\nERR %d\\n", latency:percentile(50),'
        " latency:percentile(99), summary.errors.status + summary.errors.connect"
        " + summary.errors.read + summary.errors.write + summary.errors.timeout))\n"
        "end\n"
    )
    script.close()
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "-s", script.name,
               f"http://127.0.0.1:{target.port}{target.path}"]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p50 = int(re.search(r"^P50 (\d+)", output, re.M).group(1)) / 1000
    p99 = int(re.search(r"^P99 (\d+)", output, re.M).group(1)) / 1000
    errors = int(re.search(r"^ERR (\d+)", output, re.M).group(1))
    return Result(rps, p50, p99, errors, requests)


def run_paced(target: Target, rate: int, duration: int, workers: int = 32) -> Result:
    """Open loop: a request is due every 1/rate s; latency counts from when it was due."""
    due: queue.Queue[tuple[int, float] | None] = queue.Queue()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=10)
        while (item := due.get()) is not None:
            number, scheduled = item
            try:
                body = target.body_for(f"paced-{number}") or None
                conn.request(target.method, target.path, body=body, headers=target.headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=10)
                ok = False
            elapsed = time.perf_counter() - scheduled
            with lock:
                latencies.append(elapsed)
                errors[0] += 0 if ok else 1
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    total = rate * duration
    for i in range(total):
        when = start + i / rate
        pause = when - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        due.put((i, when))
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Result(len(ordered) / elapsed, statistics.median(ordered) * 1000, p99 * 1000, errors[0])


def joined_people(url: str) -> int:
    """How many people the form POSTs created (each was a new person)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        joined = "email LIKE 'load-wrk-%' OR email LIKE 'load-paced-%'"  # not check()'s person
        count = conn.scalar(sa.text(f"SELECT count(*) FROM person WHERE {joined}"))
    engine.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--rate", type=int, default=200, help="paced requests per second")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument(
        "--ratelimit-storage",
        default="redis://127.0.0.1:6379/0",
        help="FIKA_RATELIMIT_STORAGE_URI: with 2 workers, production shares counters in Redis",
    )
    parser.add_argument(
        "--worker-class",
        default="gthread",
        choices=["sync", "gthread"],
        help="gunicorn worker class, the same for Fika and hello-world",
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    args = parser.parse_args()
    options = gunicorn_options(args.worker_class, args.threads)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    base = os.environ.get("FIKA_BENCH_DATABASE_URL", DEFAULT_PG)
    url, schema, cookie = prepare_database(base, args.people)
    fika_port, hello_port, floor_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIKA_")}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=url,
        FIKA_SECRET_KEY=SECRET,
        FIKA_BASE_URL=f"http://127.0.0.1:{fika_port}",
        FIKA_INSTANCE_PATH=tempfile.mkdtemp(prefix="fika-bench-"),
        FIKA_RATELIMIT_FORM="1000000 per minute",
        FIKA_RATELIMIT_STORAGE_URI=args.ratelimit_storage,
    )
    servers = [
        start_gunicorn("web:create_app()", fika_port, env, ROOT, options),
        start_gunicorn("web_load:hello()", hello_port, env, HERE, options),
        start_gunicorn("web_load:floor()", floor_port, env, HERE, options),
    ]
    try:
        signed_in = {"Cookie": f"session={cookie}"}
        targets = [
            Target("hello-world", hello_port, "GET", "/", {}),
            Target("form GET", fika_port, "GET", "/", {}),
            form_post_target(fika_port),
            Target("my coffee breaks", fika_port, "GET", "/me", signed_in),
            Target("floor: CSRF token", floor_port, "GET", "/token", {}),
            Target("floor: 1 SELECT", floor_port, "GET", "/select", {}),
            Target("floor: 1 INSERT", floor_port, "POST", "/insert", FORM_HEADERS,
                   urlencode({"name": "Load", "email": f"floor-{NUMBER}@example.org"})),
        ]  # fmt: skip
        for target in targets:
            check(target)
        print(f"gunicorn {' '.join(options)}, PostgreSQL schema {schema}, {args.people} people, "
              f"rate limits in {args.ratelimit_storage}, "
              f"wrk -t2 -c{args.connections} {args.duration}s; paced {args.rate}/s for "
              f"{args.duration}s; {os.cpu_count()} CPUs")  # fmt: skip
        header = (
            f"{'endpoint':<18} {'wrk req/s':>10} {'vs hello':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'err':>5} {'CPU ms':>7} {'host %':>6} {'workers %':>9} | {'@rate p50':>9} "
            f"{'p99 ms':>8} {'err':>5}"
        )
        by_port = {fika_port: servers[0], hello_port: servers[1], floor_port: servers[2]}
        print(header)
        print("-" * len(header))
        rps: dict[str, float] = {}
        for target in targets:
            server = by_port[target.port]
            before, (busy, ticks) = server_cpu_seconds(server), host_cpu_ticks()
            per_process, started = process_cpu_seconds(server), time.monotonic()
            full = run_wrk(target, args.duration, args.connections)
            split = worker_shares(server, per_process, time.monotonic() - started)
            # the server's CPU time per request at full speed (its master and workers)
            cpu_ms = (server_cpu_seconds(by_port[target.port]) - before) / full.requests * 1000
            # the machine's busy share meanwhile (all processes, all cores)
            busy_after, ticks_after = host_cpu_ticks()
            host = (busy_after - busy) / max(1, ticks_after - ticks)
            paced = run_paced(target, args.rate, args.duration)
            rps[target.name] = full.rps
            print(
                f"{target.name:<18} {full.rps:>10.0f} {full.rps / rps['hello-world']:>8.0%} "
                f"{full.p50_ms:>8.1f} {full.p99_ms:>8.1f} {full.errors:>5} {cpu_ms:>7.2f} "
                f"{host:>6.0%} {split:>9} | "
                f"{paced.p50_ms:>9.1f} {paced.p99_ms:>8.1f} {paced.errors:>5}"
            )
        print(f"form POST: {joined_people(url)} new people joined during the run")
        floors = {"form GET": "floor: CSRF token", "form POST": "floor: 1 INSERT",
                  "my coffee breaks": "floor: 1 SELECT"}  # fmt: skip
        for page, least in floors.items():
            print(f"{page}: {rps[page] / rps[least]:.0%} of {least}'s throughput")
    finally:
        for server in servers:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        import sqlalchemy as sa

        from core.settings import normalise_database_url

        admin = sa.create_engine(normalise_database_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
