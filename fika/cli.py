"""``fika``: serve, demo, round, plan, clock, worker, status, db, and the Slack and Teams apps.

Errors a person can act on exit with status 2 and one line naming the problem; no tracebacks.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import click
from flask import Flask, g
from flask.cli import ScriptInfo

from fika.admin_commands import admin_group, import_command, programmes_group
from fika.chat_apps import slack_group, teams_group
from fika.context import Failure, app_for, make_app, runtime_for

#: Where settings a command changes for its app are kept (read when the app is built).
OVERRIDES = "fika.overrides"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Fika runs hybrid coffee breaks: opt-in, matching, invites and chat messages."""
    from core.settings import is_demo_instance

    ctx.meta[OVERRIDES] = {}
    if is_demo_instance():
        # After `fika demo` here (FIKA_ENV unset): work on the demo with its generated key.
        _override(ctx, FIKA_ENV="demo")
    ctx.obj = ScriptInfo(create_app=lambda: make_app(ctx.meta[OVERRIDES] or None))


def _override(ctx: click.Context, **settings: str) -> None:
    """Change settings of this invocation's app (before it is built)."""
    ctx.meta.setdefault(OVERRIDES, {}).update(settings)


def verbose_option(command):
    """``--verbose``: every delivery and the scheduler's lines (FIKA_LOG_LEVEL=debug)."""

    def set_level(ctx: click.Context, _param, value: bool) -> bool:
        if value:
            _override(ctx, FIKA_LOG_LEVEL="debug")
        return value

    return click.option(
        "--verbose",
        "-v",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=set_level,
        help="Log every delivery and the scheduler's lines (as FIKA_LOG_LEVEL=debug).",
    )(command)


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

    from core.programmes import ensure_default_programme
    from web.config import runtime_of

    with app.app_context():
        upgrade(revision=revision)
        ensure_default_programme(runtime_of(app).settings.timezone)


class MigrationGroup(click.Group):
    """``fika db``: its own ``upgrade``, and Flask-Migrate's commands of :data:`BORROWED`.

    Those are imported when one of them is asked for (or the group's help lists them):
    Flask-Migrate imports Alembic, which every other command would load for nothing.
    """

    BORROWED = ("downgrade", "current", "history", "heads", "migrate", "check", "stamp")

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.BORROWED})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.BORROWED and cmd_name not in self.commands:
            from flask_migrate.cli import db as flask_migrate_group

            for name in self.BORROWED:
                self.add_command(flask_migrate_group.commands[name])
        return super().get_command(ctx, cmd_name)


@cli.group("db", cls=MigrationGroup)
@click.pass_context
def db_command(ctx: click.Context) -> None:
    """Database schema: apply migrations (fika db upgrade), see where you are, make new ones."""
    if ctx.invoked_subcommand in MigrationGroup.BORROWED:
        # Flask-Migrate's commands read the options of its own `db` group from ``g``.
        ctx.with_resource(app_for(ctx).app_context())
        g.directory, g.x_arg = None, ()


@db_command.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migration to stop at.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION and make sure the default programme exists."""
    upgrade_database(app_for(ctx), revision)
    click.echo("database is up to date")


@cli.command()
@click.option("--people", default=40, show_default=True, type=click.IntRange(2, 100_000))
@click.option(
    "--seed", default=7, show_default=True, type=int, help="Seed of the demo organisation."
)
@verbose_option
@click.pass_context
def demo(ctx: click.Context, people: int, seed: int) -> None:
    """Create a demo organisation, plan its next round and print its groups."""
    from fika.demo import run_demo

    app = _demo_app(ctx)
    with app.app_context():
        click.echo(run_demo(runtime_for(ctx).settings, people, seed))


def _demo_app(ctx: click.Context) -> Flask:
    """The app of a demo, its database upgraded.

    Demo mode unless FIKA_ENV says otherwise; then the instance folder notes that its database
    holds the demo, so later commands here (``fika status``) run in demo mode too.
    """
    from core.settings import is_demo_instance, mark_demo_instance

    demo_mode = _env_unset()
    if demo_mode:
        _override(ctx, FIKA_ENV="demo")
    app = app_for(ctx)
    upgrade_database(app)
    if demo_mode and not is_demo_instance():
        mark_demo_instance(runtime_for(ctx).settings.database_url)
    return app


def _env_unset() -> bool:
    """Whether FIKA_ENV is unset (the demo then runs in demo mode)."""
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
@click.option(
    "--seed",
    default=None,
    type=int,
    help="Tie-break seed: the same seed gives the same groups, for reproducible previews "
    "(default: fixed by programme and date, so a preview shows what the real run will do).",
)
@click.option("--all", "show_all", is_flag=True, help="Print every group, not only the first 10.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the round as JSON: summary, groups, unmatched."
)
@click.pass_context
def round_command(
    ctx: click.Context,
    programme_name: str | None,
    day: str | None,
    dry_run: bool,
    seed: int | None,
    show_all: bool,
    as_json: bool,
) -> None:
    """Run (or preview) one round; a second run for the same programme and date does nothing.

    Prints a summary and the first groups; ``--all`` prints every group, ``--json`` the whole
    round for machines.
    """
    import json
    from zoneinfo import ZoneInfo

    from core.i18n import using
    from core.programmes import find_programme, programme_names
    from core.rounds import preview_round, run_round
    from fika.tables import FIRST_GROUPS, groups_table, round_json, round_summary, summary_lines

    parsed = _parse_date(day)
    runtime = runtime_for(ctx)
    with runtime.unit_of_work():
        programme = find_programme(programme_name)
        if programme is None:
            names = programme_names()
            if not names:
                raise Failure("--programme: no programme yet (run `fika db upgrade` first)")
            raise Failure(
                f"--programme: no programme named {programme_name!r}; there are: "
                + ", ".join(repr(n) for n in names)
            )
        when = parsed or datetime.now(UTC).astimezone(ZoneInfo(programme.timezone)).date()
        # The CLI speaks English; each person's messages choose their own language inside.
        with using("en"):
            if dry_run:
                outcome = preview_round(runtime.settings, programme, when, seed=seed)
            else:
                outcome = run_round(runtime.settings, programme, when, seed=seed)
        summary = round_summary(outcome.plan) if outcome.plan is not None else None
        if as_json:
            document = round_json(programme.name, when, outcome, summary)
            click.echo(json.dumps(document, ensure_ascii=False, indent=1))
            return
        click.echo(outcome.message)
        if outcome.plan is not None and summary is not None:
            click.echo(summary_lines(summary))
            limit = None if show_all else FIRST_GROUPS
            click.echo(groups_table(outcome.plan, outcome.people, when, limit))


PLAN_EXAMPLE = """\b
Example (request.json):
  {"date": "2026-11-30", "group_size": 2,
   "participants": [
     {"id": "a", "department": "Sales", "timezone": "Europe/Stockholm"},
     {"id": "b", "department": "Research", "timezone": "Europe/Berlin"}]}

\b
  fika plan request.json
  echo '{"date": "2026-11-30", "participants": []}' | fika plan
"""


@cli.command(epilog=PLAN_EXAMPLE)
@click.argument("request", default="-", metavar="[REQUEST]")
def plan(request: str) -> None:
    """Read a plan request (JSON) from the file REQUEST (none or - for stdin), print the plan
    (JSON) on stdout. No database: the pairing library on its own."""
    from pairing import RequestError, plan_json

    source = "stdin" if request == "-" else request
    try:
        if request == "-":
            text = sys.stdin.read()
        else:
            with open(request, encoding="utf-8") as handle:
                text = handle.read()
        click.echo(plan_json(text))
    except RequestError as exc:
        raise Failure(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise Failure(f"{source}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise Failure(f"REQUEST: cannot read {request!r} ({exc.strerror or exc})") from None


@cli.command()
@verbose_option
@click.option("--once", is_flag=True, help="Send what is due now and exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.pass_context
def worker(ctx: click.Context, once: bool, interval: float) -> None:
    """Deliver the outbox: invites, updates and messages, with retries."""
    from jobs.worker import WorkerBusy, run_worker

    runtime = runtime_for(ctx)
    try:
        counts = run_worker(runtime, once=once, interval=interval)
    except WorkerBusy as exc:
        raise Failure(str(exc)) from None
    if once:
        click.echo(f"sent {counts.sent}, retrying {counts.retrying}, dead {counts.dead}")


@cli.command()
@verbose_option
@click.pass_context
def clock(ctx: click.Context) -> None:
    """Run the scheduler: each programme's round at its time (run exactly one clock)."""
    from jobs.clock import run_clock

    run_clock(runtime_for(ctx))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--demo",
    "with_demo",
    is_flag=True,
    help="Demo mode: demo people, their next round, and sign-in links for a demo admin "
    "and a demo person.",
)
@click.option("--people", default=40, show_default=True, type=click.IntRange(2, 100_000))
@verbose_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, with_demo: bool, people: int) -> None:
    """Web, clock and outbox worker in one process, for a single host.

    Without FIKA_BASE_URL, links in mails and chat point at the address served.
    """
    from core.settings import served_base_url
    from fika.serve import serve_forever

    base_url = served_base_url(host, port)
    if base_url is not None:
        _override(ctx, FIKA_BASE_URL=base_url)
    last_lines: list[str] = []
    if with_demo:
        from fika.demo import run_demo, sign_in_lines

        app = _demo_app(ctx)
        settings = runtime_for(ctx).settings
        with app.app_context():
            click.echo(run_demo(settings, people, 7, groups=False))
            click.echo("the groups: `fika status`, or the admin's Rounds page")
            last_lines = sign_in_lines(settings)
    else:
        app = app_for(ctx)
        upgrade_database(app)
    runtime = runtime_for(ctx)
    verbose = runtime.settings.log_level == "debug"
    serve_forever(app, runtime, host, port, last_lines=last_lines, verbose=verbose)


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Programmes with their next break, the last rounds, and the outbox by status."""
    from fika.tables import status_report

    with app_for(ctx).app_context():
        click.echo(status_report(datetime.now(UTC)))


cli.add_command(import_command)
cli.add_command(programmes_group)
cli.add_command(admin_group)
cli.add_command(slack_group)
cli.add_command(teams_group)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="fika")


if __name__ == "__main__":  # pragma: no cover
    main()
