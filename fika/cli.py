"""``fika``: serve, demo, round, plan, clock, worker, status and db.

Errors a person can act on exit with status 2 and one line naming the problem; no tracebacks.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import click
from flask import Flask
from flask.cli import ScriptInfo
from flask_migrate.cli import db as db_group

from core.settings import SettingsError
from fika.admin_commands import admin_group, import_command


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Fika runs hybrid coffee breaks: opt-in, matching, invites and chat messages."""
    ctx.obj = ScriptInfo(create_app=lambda: make_app(ctx.meta.get("fika.overrides")))


def _app(ctx: click.Context) -> Flask:
    """The app for this invocation; its database connections close when the command ends."""
    info = ctx.ensure_object(ScriptInfo)
    fresh = info._loaded_app is None
    app = info.load_app()
    if fresh:
        ctx.find_root().call_on_close(lambda: _close(app))
    return app


def _close(app: Flask) -> None:
    from core.db import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _parse_date(value: str | None, option: str = "--date") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Failure(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def upgrade_database(app: Flask, revision: str = "head") -> None:
    """Apply migrations and make sure the default programme exists."""
    from flask_migrate import upgrade

    from web.programmes import ensure_default_programme

    with app.app_context():
        upgrade(revision=revision)
        ensure_default_programme()


@cli.group("db")
def db_command() -> None:
    """Database schema: apply migrations (``upgrade``), see where you are, make new ones."""


@db_command.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to ``revision`` and make sure the default programme exists."""
    upgrade_database(_app(ctx), revision)
    click.echo("database is up to date")


for _name in ("downgrade", "current", "history", "heads", "migrate", "check", "stamp"):
    db_command.add_command(db_group.commands[_name])


@cli.command()
@click.option("--people", default=40, show_default=True, type=click.IntRange(2, 100_000))
@click.option(
    "--seed", default=7, show_default=True, type=int, help="Seed of the demo organisation."
)
@click.pass_context
def demo(ctx: click.Context, people: int, seed: int) -> None:
    """Create a demo organisation, run today's round and print its groups."""
    from fika.demo import run_demo

    ctx.meta["fika.overrides"] = {"FIKA_ENV": "demo"} if _demo_default() else None
    app = _app(ctx)
    upgrade_database(app)
    with app.app_context():
        click.echo(run_demo(people, seed))


def _demo_default() -> bool:
    """``fika demo`` runs in demo mode unless FIKA_ENV says otherwise."""
    import os

    return "FIKA_ENV" not in os.environ


@cli.command("round")
@click.option(
    "--programme", "programme_name", default=None, help="Programme name (default: the first)."
)
@click.option(
    "--date", "day", default=None, help="YYYY-MM-DD (default: today in the programme's zone)."
)
@click.option("--dry-run", is_flag=True, help="Show the groups without saving or sending anything.")
@click.option("--seed", default=None, type=int)
@click.pass_context
def round_command(
    ctx: click.Context, programme_name: str | None, day: str | None, dry_run: bool, seed: int | None
) -> None:
    """Run (or preview) one round; a second run for the same programme and date does nothing."""
    from zoneinfo import ZoneInfo

    from core.rounds import preview_round, run_round
    from fika.tables import groups_table
    from web.programmes import find_programme

    parsed = _parse_date(day)
    app = _app(ctx)
    with app.app_context():
        programme = find_programme(programme_name)
        if programme is None:
            what = (
                f"no programme named {programme_name!r}" if programme_name else "no programme yet"
            )
            raise Failure(f"--programme: {what} (run `fika db upgrade` first)")
        when = parsed or datetime.now(UTC).astimezone(ZoneInfo(programme.timezone)).date()
        outcome = (preview_round if dry_run else run_round)(programme, when, seed=seed)
        click.echo(outcome.message)
        if outcome.plan is not None:
            click.echo(groups_table(outcome.plan, outcome.people, when))


@cli.command()
def plan() -> None:
    """Read a plan request (JSON) on stdin, print the plan (JSON) on stdout."""
    from pairing import RequestError, plan_json

    try:
        text = sys.stdin.read()
        click.echo(plan_json(text))
    except RequestError as exc:
        raise Failure(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise Failure(f"stdin: not UTF-8 text ({exc.reason})") from None


@cli.command()
@click.option("--once", is_flag=True, help="Send what is due now and exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.pass_context
def worker(ctx: click.Context, once: bool, interval: float) -> None:
    """Deliver the outbox: invites, updates and messages, with retries."""
    from jobs.worker import WorkerBusy, run_worker

    app = _app(ctx)
    try:
        with app.app_context():
            counts = run_worker(app, once=once, interval=interval)
    except WorkerBusy as exc:
        raise Failure(str(exc)) from None
    if once:
        click.echo(f"sent {counts.sent}, retrying {counts.retrying}, dead {counts.dead}")


@cli.command()
@click.pass_context
def clock(ctx: click.Context) -> None:
    """Run the scheduler: each programme's round at its time (run exactly one clock)."""
    from jobs.clock import run_clock

    run_clock(_app(ctx))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", "with_demo", is_flag=True, help="Demo mode: demo people and today's round.")
@click.option("--people", default=40, show_default=True, type=click.IntRange(2, 100_000))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, with_demo: bool, people: int) -> None:
    """Web, clock and outbox worker in one process, for a single host."""
    from fika.serve import serve_forever

    if with_demo:
        ctx.meta["fika.overrides"] = {"FIKA_ENV": "demo"} if _demo_default() else None
    app = _app(ctx)
    upgrade_database(app)
    if with_demo:
        from fika.demo import run_demo

        with app.app_context():
            click.echo(run_demo(people, 7))
    serve_forever(app, host, port)


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Programmes with their next break, the last rounds, and the outbox by status."""
    from fika.tables import status_report

    with _app(ctx).app_context():
        click.echo(status_report(datetime.now(UTC)))


cli.add_command(import_command)
cli.add_command(admin_group)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="fika")


if __name__ == "__main__":  # pragma: no cover
    main()
