"""``fika worker``: drain the outbox in a loop (or once), through the configured channels."""

from __future__ import annotations

import logging
import signal
import threading

from flask import Flask

from jobs.outbox import DispatchCounts, send_due
from web.channels import configured_channels

log = logging.getLogger("fika.worker")


def run_worker(
    app: Flask, *, once: bool = False, interval: float = 5.0, stop: threading.Event | None = None
) -> DispatchCounts:
    """Send due deliveries every ``interval`` seconds until stopped; with ``once``, one pass."""
    channels = configured_channels(app.config)
    if once:
        return send_due(channels)
    stop = stop or _stop_on_signals()
    total = DispatchCounts()
    log.info("worker started channels=%s", ",".join(sorted(channels)))
    while not stop.is_set():
        try:
            total += send_due(channels)
        except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker
            log.exception("outbox pass failed; retrying in %.0fs", interval)
            from web.extensions import db

            db.session.rollback()
        stop.wait(interval)
    return total


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM/SIGINT, so a deploy stops the worker between batches."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop
