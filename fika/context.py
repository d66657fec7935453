"""What every ``fika`` command shares: its one-line failure and the app it works on.

``fika.cli`` and ``fika.admin_commands`` both import this; neither imports the other's
internals, so there is no import circle.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import ScriptInfo

from core.runtime import Runtime
from core.settings import SettingsError

#: Where a command's app is kept for the rest of the invocation (the root context's meta).
APP_KEY = "fika.app"


class Failure(click.ClickException):
    """A one-line error with exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: D102 - one line, no "Error:" decoration
        click.echo(f"fika: {self.format_message()}", err=True)


def make_app(overrides: dict | None = None) -> Flask:
    """The app from settings, or a one-line Failure naming the bad setting."""
    from integrations.base import ConfigError
    from web import create_app

    try:
        return create_app(overrides)
    except (SettingsError, ConfigError) as exc:
        raise Failure(str(exc)) from None


def app_for(ctx: click.Context) -> Flask:
    """The app of this invocation, built once; its database connections close with it.

    ``ScriptInfo`` builds it (Flask-Migrate's ``fika db`` commands find it there too).
    """
    root = ctx.find_root()
    app = root.meta.get(APP_KEY)
    if app is None:
        app = ctx.ensure_object(ScriptInfo).load_app()
        root.meta[APP_KEY] = app
        root.call_on_close(lambda: _close(app))
    return app


def runtime_for(ctx: click.Context) -> Runtime:
    """The settings and app context the jobs run with."""
    from web.config import runtime_of

    return runtime_of(app_for(ctx))


def _close(app: Flask) -> None:
    from core.db import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
