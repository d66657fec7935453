"""Time a 10,000-row CSV import (``core.people_import``) on SQLite and PostgreSQL.

Prints the median of three fresh imports per database. PostgreSQL comes from
FIKA_TEST_DATABASE_URL (default: the local test server); each run uses a schema of its own.

    python benchmarks/import_people.py [ROWS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa

from core.db import db
from core.people_import import check_csv
from core.settings import normalise_database_url
from web import create_app

DEPARTMENTS = ["Sales", "Research", "Legal", "People", "Finance", "Design", "Ops"]


def people_csv(n: int) -> bytes:
    """N people in seven departments; one in three remote; a manager for 49 of every 50."""
    lines = ["email,name,department,office,timezone,work_start,work_end,manager_email"]
    for i in range(n):
        manager = f"p{i // 50 * 50}@example.org" if i % 50 else ""
        office = "" if i % 3 == 0 else "Stockholm"
        lines.append(
            f"p{i}@example.org,Person {i},{DEPARTMENTS[i % 7]},{office},Europe/Berlin,"
            f"09:00,17:00,{manager}"
        )
    return ("\n".join(lines) + "\n").encode()


def import_once(url: str, data: bytes, rows: int) -> float:
    """Seconds for one import (validate, compare, write, commit) into an empty database."""
    app = create_app(
        {
            "FIKA_ENV": "test",
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": tempfile.mkdtemp(),
        }
    )
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        report, _ = check_csv(data, "UTC", dry_run=False)
        db.session.commit()
        elapsed = time.perf_counter() - started
        assert report.ok and report.created == rows, report.summary()
        db.session.remove()
        db.engine.dispose()
    return elapsed


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    data = people_csv(rows)
    base = normalise_database_url(
        os.environ.get("FIKA_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    )
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    for kind in ("sqlite", "postgresql"):
        times = []
        for _ in range(3):
            if kind == "sqlite":
                url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
                times.append(import_once(url, data, rows))
                continue
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
            try:
                times.append(import_once(url.render_as_string(hide_password=False), data, rows))
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        print(f"{kind}: {rows} rows, median {statistics.median(times):.2f} s of {len(times)} runs")
    admin.dispose()


if __name__ == "__main__":
    main()
