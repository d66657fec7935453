"""``fika slack manifest [--json]`` and ``fika teams package [--output PATH]``: the chat apps.

Both fill in this deployment's settings (``FIKA_BASE_URL``, and for Teams the bot's app id), so
what an admin pastes into Slack or uploads to Teams names the routes this Fika serves. A setting
they cannot use exits 2 with one line naming it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

import click

from fika.context import Failure, runtime_for


def _fika_version() -> str:
    """This Fika's version: the Teams app's by default (Teams wants a new one per change)."""
    try:
        return package_version("fika")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "1.0.0"


@click.group("slack")
def slack_group() -> None:
    """The Slack app: its manifest, and syncing linked channels."""


@slack_group.command("manifest")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
@click.pass_context
def slack_manifest_command(ctx: click.Context, as_json: bool) -> None:
    """Print the app manifest to paste into Slack's "Create an app" > "From an app manifest"."""
    from integrations.base import ConfigError
    from integrations.slack_manifest import render, slack_manifest

    settings = runtime_for(ctx).settings
    try:
        manifest = slack_manifest(settings.base_url)
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    click.echo(render(manifest, as_json=as_json))


@slack_group.command("sync")
@click.option("--programme", "name", default=None, help="Only this programme (its name).")
@click.pass_context
def slack_sync_command(ctx: click.Context, name: str | None) -> None:
    """Sync linked programmes with their Slack channels now (the clock does it every hour)."""
    from core.slack_sync import linked_programmes, member_source, slack_configured, sync_programme

    runtime = runtime_for(ctx)
    settings = runtime.settings
    if not slack_configured(settings):
        raise Failure("FIKA_SLACK_BOT_TOKEN: required to read Slack channels")
    failed = False
    with runtime.unit_of_work():
        programmes = linked_programmes(name)
        if not programmes:
            which = f"programme {name!r} is not" if name else "no programme is"
            raise Failure(f"{which} switched on and linked to a Slack channel")
        for programme in programmes:
            result = sync_programme(settings, programme, member_source(settings))
            skipped = ", ".join(f"{k} {v}" for k, v in sorted(result.skipped.items())) or "none"
            click.echo(
                f"{result.programme} ({result.channel}): {result.members} members, "
                f"{len(result.joined)} joined, {len(result.left)} left, skipped: {skipped}"
            )
            if not result.complete:
                failed = True
                click.echo(f"  stopped early, nobody removed: {result.error}", err=True)
    if failed:
        raise SystemExit(1)


@click.group("teams")
def teams_group() -> None:
    """The Microsoft Teams app: its package, for the Teams admin center."""


@teams_group.command("package")
@click.option(
    "--output",
    default="fika-teams.zip",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the zip.",
)
@click.option(
    "--version",
    "app_version",
    default=None,
    help="The app's version, MAJOR.MINOR.PATCH (default: Fika's); raise it for each upload.",
)
@click.pass_context
def teams_package_command(ctx: click.Context, output: Path, app_version: str | None) -> None:
    """Write the Teams app package: manifest.json (schema 1.29) and the two icons."""
    from integrations.base import ConfigError
    from integrations.teams_app import (
        APP_ID_SETTING,
        messaging_endpoint,
        teams_manifest,
        write_package,
    )

    settings = runtime_for(ctx).settings
    try:
        manifest = teams_manifest(
            settings.channel_settings.get(APP_ID_SETTING),
            settings.base_url,
            settings.org_name,
            app_version or _fika_version(),
        )
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    try:
        write_package(output, manifest)
    except OSError as exc:
        raise Failure(f"--output: cannot write {str(output)!r} ({exc.strerror or exc})") from None
    click.echo(
        f"wrote {output}: Teams app {manifest['version']} for bot {manifest['bots'][0]['botId']} "
        f"on {manifest['validDomains'][0]}"
    )
    click.echo(f"set the bot's messaging endpoint to {messaging_endpoint(settings.base_url)}")
