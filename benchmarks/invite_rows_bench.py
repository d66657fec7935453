"""CPU time of building a round's invites and outbox rows, without a database.

    python benchmarks/invite_rows_bench.py [--people 50000] [--repeat 3]

``core.invites.build_invite`` and ``Outbox.invite_rows`` for every pair of a round of
``--people`` people (one email row each, with its signed links), as ``core.rounds`` runs them
before the COPY. Prints the median CPU seconds of this process: run it in two trees one after
the other to compare, since on a shared machine wall time says little.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from core.invites import build_invite
    from core.outbox import Outbox
    from core.participants import Candidate, CandidatePreference
    from web import create_app
    from web.config import current_settings

    app = create_app(
        {
            "FIKA_ENV": "test",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "INSTANCE_PATH": "/tmp/fika-invite-rows-bench",
            "FIKA_SMTP_URL": "smtp://127.0.0.1:2525",
            "FIKA_MAIL_FROM": "Fika <fika@example.org>",
            "FIKA_OUTBOX_DIR": None,
        }
    )
    preference = CandidatePreference(True, "either", {}, ["mon"], None, [], [], None, None, [])
    people = [
        Candidate(
            i,
            f"p{i}@example.org",
            f"Person {i}",
            "Sales",
            None,
            "Europe/Stockholm",
            dt.time(9),
            dt.time(17),
            "Stockholm",
            None,
            preference,
        )  # fmt: skip
        for i in range(1, args.people + 1)
    ]
    now = dt.datetime(2027, 2, 1, 8, tzinfo=dt.UTC)
    seconds, rows = [], []
    with app.app_context():
        settings = current_settings()
        for _ in range(args.repeat):
            started = time.process_time()
            outbox, rows = Outbox(settings), []
            for g in range(args.people // 2):
                members = people[2 * g : 2 * g + 2]
                group = SimpleNamespace(
                    id=g + 1, round_id=1, uid=f"fika-{g:032x}", sequence=0, status="scheduled",
                    start_at=now, end_at=now, mode="video", site=None,
                    video_url="https://meet.jit.si/x", reasons=["a"], starter="s",
                )  # fmt: skip
                invite = build_invite(settings, group, members, "REQUEST", "Fika", now)
                rows += outbox.invite_rows(invite, group, members, now)
            seconds.append(time.process_time() - started)
    print(
        f"{len(rows)} rows for {args.people} people: median {statistics.median(seconds):.2f} s CPU"
        f" ({', '.join(f'{s:.2f}' for s in seconds)})"
    )


if __name__ == "__main__":
    main()
