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
from core.settings import served_base_url

#: Settings of newer gunicorn releases, left out on older ones.
OPTIONAL = frozenset({"control_socket_disable"})


class _SingleHost(BaseApplication):
    def __init__(self, app: Flask, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key in OPTIONAL and key not in self.cfg.settings:
                continue  # an older gunicorn without this setting
            self.cfg.set(key, value)

    def load(self):
        return self.application


#: How long the start-up waits for the worker's first pass before printing its last lines.
WORKER_START_TIMEOUT = 10.0


def _start_background(runtime: Runtime) -> threading.Event:
    """Clock and worker threads, started inside the one gunicorn worker after it forks.

    Returns an event set once the worker has made its first pass.
    """
    from jobs.clock import build_scheduler, catch_up
    from jobs.worker import run_worker

    catch_up(runtime, datetime.now(UTC))
    build_scheduler(runtime, background=True).start()
    started = threading.Event()

    def work() -> None:
        run_worker(runtime, stop=threading.Event(), started=started)

    threading.Thread(target=work, name="fika-worker", daemon=True).start()
    return started


def _ready(runtime: Runtime, last_lines: list[str]) -> None:
    """Start the background jobs, then print ``last_lines`` (the demo's sign-in links)."""
    started = _start_background(runtime)
    started.wait(WORKER_START_TIMEOUT)
    for line in last_lines:
        click.echo(line)


def serve_forever(
    app: Flask,
    runtime: Runtime,
    host: str,
    port: int,
    *,
    last_lines: list[str] | None = None,
    verbose: bool = False,
) -> None:
    """Serve until interrupted; prints the URL first and ``last_lines`` once all is running.

    Gunicorn's own start-up lines show only with ``verbose`` (FIKA_LOG_LEVEL=debug); the access
    log always does.
    """
    address = served_base_url(host, port, environ={})  # an address a browser here can open
    click.echo(f"Fika is serving on {address}/  (Ctrl+C to stop)")
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": 8,
        "accesslog": "-",
        "loglevel": "info" if verbose else "warning",
        # One process on one host: nothing drives gunicorn from outside, so no control socket.
        "control_socket_disable": True,
        "post_worker_init": lambda worker: _ready(runtime, last_lines or []),
    }
    _SingleHost(app, options).run()
