"""Values a web process keeps for a few seconds: what every visitor's page shows, rarely changed.

The opt-in form is the page everyone opens; what it shows besides the form (the programmes to
choose, the offices people named) changes a few times a year. :func:`kept` holds such a value per
app for a number of seconds, so those page views read nothing from the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app

T = TypeVar("T")

_lock = threading.Lock()  # one thread loads at a time; the others wait for its value


@dataclass(frozen=True)
class _Kept:
    value: object
    until: float  # time.monotonic() after which it is loaded again
    generation: int  # the caller's generation when it was loaded


def kept(key: str, seconds: float, load: Callable[[], T], generation: int = 0) -> T:
    """``load()``, kept in this app for ``seconds``, and only while ``generation`` is the same.

    A caller that knows when its value changed in this process passes a counter it bumps then
    (read before loading, so a change during the load makes the next call load again). One
    thread loads while the others wait for its value: the threads of a worker never load the
    same thing side by side, nor hold more than one extra database connection between them.
    """
    store = current_app.extensions.setdefault("fika_kept", {})
    entry = store.get(key)
    if not _fresh(entry, generation):
        with _lock:
            entry = store.get(key)
            if not _fresh(entry, generation):
                entry = _Kept(load(), time.monotonic() + seconds, generation)
                store[key] = entry
    return entry.value  # type: ignore[return-value]


def _fresh(entry: _Kept | None, generation: int) -> bool:
    return entry is not None and entry.generation == generation and time.monotonic() < entry.until
