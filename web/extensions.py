"""Flask extensions of the web shell, created once at import and bound in ``create_app``.

The database handle itself lives in the core (``core.db``): jobs and the command line share it.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask_wtf import CSRFProtect


class Migrations:
    """Flask-Migrate for the app, imported only when a migration first needs it.

    Importing Flask-Migrate imports Alembic, a large part of every ``fika`` command's start-up,
    while only the migrations use it (``fika db …``, ``fika demo``, the ``flask db`` commands,
    ``flask_migrate.upgrade()`` in an app context). :meth:`init_app` leaves, where Flask-Migrate
    looks for its configuration (``app.extensions["migrate"]``) and its ``flask db`` group,
    stand-ins that bind the real Flask-Migrate on first use, with the same arguments.
    """

    def init_app(self, app: Flask, db: Any, **options: Any) -> None:
        """Register the migrations of ``db`` (``options`` as for ``Migrate.init_app``)."""
        app.extensions["migrate"] = _Unbound(app, db, options)
        app.cli.add_command(_MigrationCommands(app))


def bind_migrations(app: Flask) -> Any:
    """Flask-Migrate's configuration of ``app`` (``app.extensions["migrate"]``), bound now."""
    config = app.extensions["migrate"]
    if isinstance(config, _Unbound):
        config = config.bind()
    return config


class _Unbound:
    """Stands in ``app.extensions["migrate"]`` until something reads it, then binds."""

    def __init__(self, app: Flask, db: Any, options: dict[str, Any]):
        self.app, self.db, self.options = app, db, options

    def bind(self) -> Any:
        from flask_migrate import Migrate

        Migrate().init_app(self.app, self.db, **self.options)  # replaces this stand-in
        return self.app.extensions["migrate"]

    def __getattr__(self, name: str) -> Any:
        # Only reached for what this object lacks: Flask-Migrate's own attributes.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.bind(), name)


class _MigrationCommands(click.Group):
    """The ``flask db`` group, delegating to Flask-Migrate's own once it is asked for."""

    def __init__(self, app: Flask):
        super().__init__("db", help="Perform database migrations.")
        self.app = app

    def _real(self) -> click.Group:
        bind_migrations(self.app)
        from flask_migrate.cli import db

        return db

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self._real().get_params(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        return self._real().invoke(ctx)


migrations = Migrations()
csrf = CSRFProtect()
