"""Structured log lines: one line per event, ``event=<name> key=value …``, easy to grep and ship.

Every line about a round carries ``round=<id>`` and every line about a message ``delivery=<id>``
(plus its round), so an operator can follow one break from planning to the last retry.
"""

from __future__ import annotations

import logging
from typing import Any


def _format(value: Any) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in "\"'=" for c in text):
        return repr(text)
    return text


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with ``fields`` (None values left out) as one ``key=value`` line."""
    parts = [f"event={event}"]
    parts.extend(f"{key}={_format(value)}" for key, value in fields.items() if value is not None)
    logger.log(level, " ".join(parts))
