"""Named points in the jobs where a test can stop a process, to kill it exactly there.

Production code calls :func:`reach` at a few points ("round.before_commit", "outbox.claimed",
"outbox.sent"); nothing is installed outside tests, so each call is a dictionary lookup. The
crash tests run ``fika`` in a subprocess through a wrapper that installs a hook which announces
the point (a file) and then sleeps until the test sends SIGKILL.
"""

from __future__ import annotations

from collections.abc import Callable

_hooks: dict[str, Callable[[str], None]] = {}


def install(point: str, hook: Callable[[str], None]) -> None:
    """Call ``hook(point)`` whenever a process reaches ``point``."""
    _hooks[point] = hook


def clear() -> None:
    """Remove every hook."""
    _hooks.clear()


def reach(point: str) -> None:
    """Mark that the process reached ``point`` (runs the hook installed for it, if any)."""
    hook = _hooks.get(point)
    if hook is not None:
        hook(point)
