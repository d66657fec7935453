"""``fika serve``: the web app under gunicorn, with the clock and outbox worker beside it.

For a single host on SQLite: one gunicorn worker process with threads serves the web, and the
clock and the outbox worker run as threads in that same process, so exactly one of each runs.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from core.runtime import Runtime


class _SingleHost(BaseApplication):
    def __init__(self, app: Flask, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def _start_background(runtime: Runtime) -> None:
    """Clock and worker threads, started inside the one gunicorn worker after it forks."""
    from jobs.clock import build_scheduler, catch_up
    from jobs.worker import run_worker

    catch_up(runtime, datetime.now(UTC))
    build_scheduler(runtime, background=True).start()

    def work() -> None:
        run_worker(runtime, stop=threading.Event())

    threading.Thread(target=work, name="fika-worker", daemon=True).start()


def serve_forever(app: Flask, runtime: Runtime, host: str, port: int) -> None:
    """Serve until interrupted; prints the URL first."""
    click.echo(f"Fika is serving on http://{host}:{port}/  (Ctrl+C to stop)")
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": 8,
        "accesslog": "-",
        "post_worker_init": lambda worker: _start_background(runtime),
    }
    _SingleHost(app, options).run()
