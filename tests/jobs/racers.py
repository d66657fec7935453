"""Processes for the race tests: each builds its own app and, at every barrier, runs its part.

Spawned by multiprocessing (so this module must import cleanly in a fresh interpreter). A
"clock" racer calls the clock's job function, a "round" racer runs the ``fika round`` command
in-process; both report how many times they lost the insert race (``event=round.raced``).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from web.config import runtime_of


class _RaceCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.raced = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("event=round.raced"):
            self.raced += 1


def run(role: str, config: dict, barrier, tasks, results) -> None:
    """Serve tasks ``(programme_id, programme name, date, now)`` until a None arrives."""
    env = {
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "FIKA_ENV": "test",
        "FIKA_SECRET_KEY": config["SECRET_KEY"],
        "FIKA_INSTANCE_PATH": config["INSTANCE_PATH"],
        "FIKA_OUTBOX_DIR": config["FIKA_OUTBOX_DIR"],
    }
    os.environ.update(env)
    from fika.cli import cli
    from jobs.clock import fire
    from web import create_app

    counter = _RaceCounter()
    logging.getLogger("fika.round").addHandler(counter)
    logging.getLogger("fika.round").setLevel(logging.INFO)
    app = create_app(dict(config))
    while (task := tasks.get()) is not None:
        programme_id, name, day, now = task
        before = counter.raced
        barrier.wait(timeout=60)
        try:
            if role == "clock":
                fire(runtime_of(app), programme_id, now=datetime.fromisoformat(now))
            else:
                cli.main(["round", "--programme", name, "--date", day], standalone_mode=False)
            results.put((role, counter.raced - before, None))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results.put((role, 0, repr(exc)))
