"""Worker processes for the fair-share test: each builds its own app, waits at a barrier, then
drains the outbox once as ``fika worker --once`` does, and reports what it sent.

Spawned by multiprocessing (so this module must import cleanly in a fresh interpreter).
"""

from __future__ import annotations

import os


def run(index: int, config: dict, smtp_url: str, connections: int, barrier, results) -> None:
    """Worker ``index`` sends as ``w<index>@example.org``; puts (index, sent) on ``results``."""
    os.environ.update(
        DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
        FIKA_ENV="test",
        FIKA_SECRET_KEY=config["SECRET_KEY"],
        FIKA_INSTANCE_PATH=config["INSTANCE_PATH"],
        FIKA_SMTP_URL=smtp_url,
        FIKA_MAIL_FROM=f"Fika <w{index}@example.org>",
        FIKA_OUTBOX_CONNECTIONS=str(connections),
    )
    from jobs.worker import run_worker
    from web import create_app
    from web.config import runtime_of

    app = create_app()
    runtime = runtime_of(app)
    barrier.wait(120)
    try:
        results.put((index, run_worker(runtime, once=True).sent))
    finally:
        with app.app_context():
            from core.db import db

            db.engine.dispose()
