"""Where one outbox worker's CPU goes: cProfile of ``send_due`` on drain_bench's round.

    python benchmarks/drain_profile.py [--people 2000] [--connections 10] [--top 40]
                                       [--out /tmp/drain.prof]

Runs the round of ``benchmarks/drain_bench.py`` (one email invite per person, an aiosmtpd
server in its own process, no delay) and drains it twice in this process, profiling every
thread (the lanes, the claims and the worker's own) by each thread's CPU time, so time spent
waiting for the server or the database is left out. Prints the CPU per message (inflated by
the profiler: compare shares, not absolute numbers) and the functions by cumulative CPU.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import multiprocessing
import pstats
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import drain_bench as bench  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from round_bench import schema  # noqa: E402

PROFILES: list[cProfile.Profile] = []


def _profiled_run(run):
    def wrapper(self) -> None:
        profile = cProfile.Profile(time.thread_time_ns, 1e-9)
        PROFILES.append(profile)
        profile.enable()
        try:
            run(self)
        finally:
            profile.disable()

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--out", default="")
    parser.add_argument("--database-url", default=bench.DEFAULT_URL)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.disable(logging.INFO)
    server = bench.Server(multiprocessing.get_context("spawn"))
    threading.Thread.run = _profiled_run(threading.Thread.run)
    try:
        with schema(args.database_url) as url:
            app = bench.app_with_round(url, server.port, args.people)
            engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
            from core.channels import configured_channels
            from core.dispatch import send_due
            from web import create_app
            from web.config import current_settings

            worker = create_app(bench.config_for(url, server.port, "w0@example.org"))
            with worker.app_context():
                channels = configured_channels(current_settings())
                for _ in range(2):  # the first warms imports and caches; the second is kept
                    bench.queue_due(engine, args.people)
                    server.reset(0)
                    PROFILES.clear()
                    profile = cProfile.Profile(time.thread_time_ns, 1e-9)
                    PROFILES.append(profile)
                    cpu = time.process_time()
                    profile.enable()
                    sent = send_due(channels, connections=args.connections).sent
                    profile.disable()
                    cpu = time.process_time() - cpu
            print(f"{sent} sent, {cpu / sent * 1000:.3f} ms CPU per message (profiled)")
            stats = pstats.Stats(PROFILES[0])
            for other in PROFILES[1:]:
                stats.add(other)
            if args.out:
                stats.dump_stats(args.out)
            stats.sort_stats("cumulative").print_stats(args.top)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
