"""``fika import FILE [--dry-run]``, ``fika programmes import FILE`` and ``fika admin token``.

The same checks as the admin upload (``core.people_import``): a file with any bad row writes
nothing, and every problem is printed as ``line N, column C: reason``. Large files show a
progress bar while rows are compared and written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fika.context import Failure, app_for

CLI_ACTOR = "cli"


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
@click.pass_context
def import_command(ctx: click.Context, file: Path, dry_run: bool) -> None:
    """Create or update people from a CSV file (UTF-8), matched by email; all or nothing."""
    from core.db import db
    from core.i18n import using
    from core.people_import import check_csv
    from web.config import runtime_of

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise Failure(f"FILE: cannot read {str(file)!r} ({exc.strerror or exc})") from None
    app = app_for(ctx)
    with app.app_context(), using("en"):  # the CLI speaks English, whatever FIKA_LANGUAGE says
        rows = max(data.count(b"\n") - 1, 1)
        label = "checking" if dry_run else "importing"
        with click.progressbar(length=rows, label=label, file=sys.stderr) as bar:
            report, _ = check_csv(
                data, runtime_of(app).settings.timezone, dry_run=dry_run, progress=bar.update
            )
        if report.errors:
            db.session.rollback()
            for error in report.errors[:200]:
                click.echo(f"{file.name}: {error}", err=True)
            if len(report.errors) > 200:
                click.echo(f"{file.name}: … and {len(report.errors) - 200} more", err=True)
            raise Failure(
                f"{file.name}: {len(report.errors)} problem(s); nothing was imported "
                "(fix the file and run again)"
            )
        if dry_run:
            db.session.rollback()
            click.echo(f"dry run: {report.summary()}; nothing was written")
            return
        report.audit(CLI_ACTOR, file=file.name)
        db.session.commit()
        click.echo(f"imported: {report.summary()}")


@click.group("admin")
def admin_group() -> None:
    """Administration from the command line: API tokens."""


@admin_group.group("token")
def token_group() -> None:
    """Bearer tokens for the JSON API (/api/v1)."""


@token_group.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. 'Workday sync'.")
@click.pass_context
def token_create(ctx: click.Context, name: str) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from core import audit
    from core.api_tokens import create_token
    from core.db import db

    with app_for(ctx).app_context():
        try:
            token, secret = create_token(name, CLI_ACTOR)
        except ValueError as exc:
            raise Failure(f"--{exc}") from None
        db.session.flush()
        audit.record(CLI_ACTOR, "token.create", token_id=token.id, name=token.name)
        db.session.commit()
        click.echo(f"token {token.name!r} (id {token.id}); copy it now, it is not shown again:")
        click.echo(secret)


@token_group.command("revoke")
@click.option("--name", default=None, help="Revoke the active token(s) with this name.")
@click.option("--id", "token_id", default=None, type=int, help="Revoke the token with this id.")
@click.pass_context
def token_revoke(ctx: click.Context, name: str | None, token_id: int | None) -> None:
    """Revoke a token by --name or --id; it stops working at once."""
    from core import audit
    from core.api_tokens import active_tokens_named, revoke
    from core.db import db
    from core.models import ApiToken

    if (name is None) == (token_id is None):
        raise Failure("give exactly one of --name NAME or --id ID")
    with app_for(ctx).app_context():
        if token_id is not None:
            token = db.session.get(ApiToken, token_id)
            if token is None or token.revoked_at is not None:
                raise Failure(f"--id: no active token with id {token_id}")
            tokens = [token]
        else:
            tokens = active_tokens_named(name)
            if not tokens:
                raise Failure(f"--name: no active token named {name!r}")
        for token in tokens:
            revoke(token)
            audit.record(CLI_ACTOR, "token.revoke", token_id=token.id, name=token.name)
        db.session.commit()
        click.echo(
            f"revoked {len(tokens)} token(s): " + ", ".join(f"{t.name} (id {t.id})" for t in tokens)
        )


@token_group.command("list")
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """Tokens with their state (never the secret)."""
    from core.api_tokens import all_tokens

    with app_for(ctx).app_context():
        for token in all_tokens():
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            click.echo(f"{token.id:>4}  {token.prefix}…  {token.name}  ({state})")


@click.group("programmes")
def programmes_group() -> None:
    """Programmes: import them from a CSV file."""


@programmes_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
@click.pass_context
def programmes_import(ctx: click.Context, file: Path, dry_run: bool) -> None:
    """Create or update programmes from a CSV file (UTF-8), matched by name; all or nothing.

    Exit 2 with one line for an unreadable file or a bad header; exit 1 listing the bad rows.
    """
    from sqlalchemy.exc import IntegrityError

    from core.db import db
    from core.i18n import using
    from core.programme_import import check_csv
    from web.config import runtime_of

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise Failure(f"FILE: cannot read {str(file)!r} ({exc.strerror or exc})") from None
    app = app_for(ctx)
    with app.app_context(), using("en"):  # the CLI speaks English, whatever FIKA_LANGUAGE says
        report, _ = check_csv(data, runtime_of(app).settings, CLI_ACTOR, dry_run=dry_run)
        if report.errors:
            db.session.rollback()
            if all(e.line == 1 for e in report.errors):  # the header (or the whole file)
                raise Failure(f"{file.name}: {report.errors[0]}")
            for error in report.errors[:200]:
                click.echo(f"{file.name}: {error}", err=True)
            if len(report.errors) > 200:
                click.echo(f"{file.name}: … and {len(report.errors) - 200} more", err=True)
            click.echo(
                f"{file.name}: {len(report.errors)} problem(s); nothing was imported "
                "(fix the file and run again)",
                err=True,
            )
            ctx.exit(1)
        if dry_run:
            db.session.rollback()
            click.echo(f"dry run: {report.summary()}; nothing was written")
            return
        try:
            db.session.commit()
        except IntegrityError:  # a programme of one of these names was created meanwhile
            db.session.rollback()
            raise Failure(
                f"{file.name}: another programme took one of these names; run again"
            ) from None
        click.echo(f"imported: {report.summary()}")
