"""``fika worker``: drain the outbox in a loop (or once), through the configured channels.

On PostgreSQL any number of workers may run: each claims a few rows at a time with ``FOR UPDATE
SKIP LOCKED``, so they share the queue. Each keeps ``FIKA_OUTBOX_CONNECTIONS`` SMTP connections
busy at once. On SQLite exactly one may run, so the worker holds an exclusive lock on a file next to
the database for as long as it runs; a second one stops at once with a message saying why.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from core.channels import configured_channels
from core.db import db
from core.dispatch import DispatchCounts, RetryPolicy, next_due, send_due
from core.events import log_event
from core.runtime import Runtime

log = logging.getLogger("fika.worker")


class WorkerBusy(RuntimeError):
    """Another worker already runs on this SQLite database."""


@contextmanager
def single_worker(database_url: str):
    """On SQLite, hold ``<database>.worker.lock`` exclusively while the worker runs."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    path = Path(f"{url.database}.worker.lock")
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerBusy(
                f"another worker is running on {url.database}; SQLite allows one "
                "(use PostgreSQL for several)"
            ) from None
        yield
    finally:
        os.close(handle)  # closing releases the lock


def run_worker(
    runtime: Runtime,
    *,
    once: bool = False,
    interval: float = 5.0,
    stop: threading.Event | None = None,
    started: threading.Event | None = None,
) -> DispatchCounts:
    """Send due deliveries until stopped; with ``once``, one pass that sends what is due.

    ``started`` is set after the first pass (``fika serve`` waits for it before its last lines).

    Between passes it sleeps until the next row falls due, but never longer than ``interval``
    (rows written by other processes appear without notice).
    """
    settings = runtime.settings
    policy = RetryPolicy.of(settings)
    with single_worker(settings.database_url), runtime.unit_of_work():
        channels = configured_channels(settings)
        try:
            if once:
                return send_due(channels, policy=policy, connections=settings.outbox_connections)
            return _loop(
                channels,
                policy,
                settings.outbox_connections,
                interval,
                stop or _stop_on_signals(),
                started,
            )
        finally:
            for channel in channels.values():
                close = getattr(channel, "close", None)
                if callable(close):
                    close()


def _loop(
    channels,
    policy: RetryPolicy,
    connections: int,
    interval: float,
    stop: threading.Event,
    started: threading.Event | None = None,
) -> DispatchCounts:
    total = DispatchCounts()
    log_event(log, "worker.started", channels=",".join(sorted(channels)))
    while not stop.is_set():
        wait = interval
        try:
            total += send_due(channels, policy=policy, connections=connections)
            due = next_due()
            db.session.commit()
            if due is not None:
                wait = min(interval, max(0.05, (due - datetime.now(UTC)).total_seconds()))
        except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker
            log.exception("outbox pass failed; retrying in %.0fs", interval)
            db.session.rollback()
        if started is not None:
            started.set()  # after the first pass, so its lines come before the caller's
        stop.wait(wait)
    log_event(log, "worker.stopped", sent=total.sent, retrying=total.retrying, dead=total.dead)
    return total


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM/SIGINT, so a deploy stops the worker between batches."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop
