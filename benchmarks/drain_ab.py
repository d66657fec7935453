"""Two trees' outbox workers, alternating on one SMTP server, one database and the same rows.

    python benchmarks/drain_ab.py --before /tmp/baseline [--after .] [--people 1000]
        [--count 1000] [--repeat 3] [--delay-ms 0] [--connections 10] [--workers 1]

A busy machine changes absolute rates from one minute to the next, so the two trees run one
after the other in each repetition (the order swapped every time) and each prints its workers'
CPU time per message next to its rate. Each worker is a process of its own tree's interpreter
(``<tree>/.venv/bin/python``) calling that tree's ``core.dispatch.send_due``; the server, the
database and the round come from ``benchmarks/drain_bench.py``. With ``--delay-ms 0`` each
repetition also measures the bare client (pre-built invite, one connection).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import drain_bench as bench  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from round_bench import schema  # noqa: E402

#: One worker: its tree first on the path; waits for a line on stdin, drains, prints JSON.
WORKER = """
import json, logging, sys, time
root, url, port, connections, index = sys.argv[1:6]
sys.path[:0] = [root, root + "/benchmarks"]
logging.basicConfig(level=logging.WARNING)
import drain_bench
from core.channels import configured_channels
from core.dispatch import send_due
from web import create_app
from web.config import current_settings
app = create_app(drain_bench.config_for(url, int(port), f"w{index}@example.org"))
with app.app_context():
    channels = configured_channels(current_settings())
    print("ready", flush=True)
    sys.stdin.readline()
    wall, cpu = time.perf_counter(), time.process_time()
    sent = send_due(channels, connections=int(connections)).sent
    print(json.dumps({"sent": sent, "wall": time.perf_counter() - wall,
                      "cpu": time.process_time() - cpu}), flush=True)
"""


def drain(tree: Path, url: str, server, engine, args) -> dict:
    """Release ``--workers`` workers of ``tree`` on ``--count`` due rows; rate and CPU/msg."""
    bench.queue_due(engine, args.count)
    server.reset(args.delay_ms)
    python = tree / ".venv" / "bin" / "python"
    workers = [
        subprocess.Popen(
            [
                str(python),
                "-c",
                WORKER,
                str(tree),
                url,
                str(server.port),
                str(args.connections),
                str(i),
            ],  # fmt: skip
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tree,
        )
        for i in range(args.workers)
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outcomes = [json.loads(worker.stdout.readline()) for worker in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.wait(30)
    sent = [o["sent"] for o in outcomes]
    received = (server.received.value, server.calendars.value)
    assert sum(sent) == args.count and received == (args.count,) * 2, (sent, received)
    cpu = sum(o["cpu"] for o in outcomes) / args.count * 1000
    return {"rate": args.count / seconds, "cpu_ms": cpu, "sent": sent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=HERE.parent)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=bench.DEFAULT_URL)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}

    server = bench.Server(multiprocessing.get_context("spawn"))
    try:
        with schema(args.database_url) as url:
            app = bench.app_with_round(url, server.port, args.people)
            raw = bench.prebuilt_invite(app)
            engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
            results: dict[str, list[dict]] = {"bare": [], "before": [], "after": []}
            for repetition in range(args.repeat):
                if args.delay_ms == 0:
                    server.reset(0)
                    rate = bench.bare_client(server.port, raw, args.count)
                    results["bare"].append({"rate": rate, "cpu_ms": 0.0, "sent": []})
                order = ["before", "after"] if repetition % 2 == 0 else ["after", "before"]
                for name in order:
                    results[name].append(drain(trees[name], url, server, engine, args))
                line = "  ".join(f"{k} {v[-1]['rate']:.0f}/s" for k, v in results.items() if v)
                print(f"repetition {repetition}: {line}  (load {os.getloadavg()[0]:.1f})")
            print(
                f"medians of {args.repeat}: {args.count} invites, relay {args.delay_ms} ms, "
                f"{args.workers} worker(s) x {args.connections} connections"
            )
            for name in ("bare", "before", "after"):
                runs = results[name]
                if not runs:
                    continue
                rate = statistics.median(r["rate"] for r in runs)
                text = f"  {name:<7} {rate:7.1f}/s"
                if name != "bare":
                    text += f"  {statistics.median(r['cpu_ms'] for r in runs):.2f} ms CPU/msg"
                    if results["bare"]:
                        ratios = [
                            r["rate"] / b["rate"]
                            for r, b in zip(runs, results["bare"], strict=True)
                        ]
                        text += f"  {statistics.median(ratios):.0%} of the bare client"
                    if args.workers > 1:
                        text += f"  each sent {runs[-1]['sent']}"
                print(text)
            engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
