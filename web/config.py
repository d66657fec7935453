"""The web shell's handle on the settings: the typed object ``create_app`` built.

``core.settings`` reads and checks every setting; the app keeps the result in its extensions,
and views hand it to the core's use cases. This is the only place that looks for it there.
"""

from __future__ import annotations

from flask import Flask, current_app

from core.runtime import Runtime
from core.settings import Settings

#: The key of the app's extensions that holds its :class:`Settings`.
EXTENSION = "fika.settings"


def current_settings() -> Settings:
    """The settings of the app handling this request (or this app context)."""
    return current_app.extensions[EXTENSION]


def runtime_of(app: Flask) -> Runtime:
    """The app's settings and app context, as the jobs (clock, worker) are handed them."""
    return Runtime(app.extensions[EXTENSION], app.app_context)
