"""The channel catalogue: every channel Fika can deliver through, one entry each.

An entry says what a channel is without building it: its name (the ``Delivery.channel`` of its
rows), whom one message goes to (one person, one group, or a whole chat channel for notices),
the prefix of its settings, whether the settings turn it on, how to check and build it from
them, the namespace of the ids it remembers, and whether it reads free/busy. So listing the
channels a deployment uses (:func:`enabled`, on every change that writes to the outbox) builds
none of them and reads no key file; the dispatcher builds them once (:func:`build`).

Exactly one channel sends the invitations, so nobody gets two events for one break: the first
of Microsoft Graph (``FIKA_GRAPH_*``: Exchange mails them), Google (``FIKA_GOOGLE_*``) and email
(``FIKA_SMTP_URL``) that is set, else the outbox folder, so a fresh install shows its invites
somewhere without any server. The outbox folder is also written whenever ``FIKA_OUTBOX_DIR`` is
set explicitly (a local copy), and CalDAV (``FIKA_CALDAV_URL``) keeps each group's event in a
shared calendar (it notifies nobody, so it never replaces the invitation channel). Slack and
Teams carry a card per group; their webhooks carry the notices (the announcement after a round,
the nudge before a room opens). Half-configured services fail at start-up with the missing
setting named (:func:`check`), not the night of the first round.

A new channel is one module in ``integrations/`` and one :class:`Entry` in :data:`CATALOGUE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from integrations.base import Channel, ConfigError
from integrations.caldav import CalDavChannel
from integrations.email import EmailChannel, SmtpSettings
from integrations.google import DEFAULT_BASE_URL as GOOGLE_BASE_URL
from integrations.google import GoogleChannel, GoogleSettings
from integrations.graph import DEFAULT_AUTHORITY, GraphChannel, GraphSettings
from integrations.graph import DEFAULT_BASE_URL as GRAPH_BASE_URL
from integrations.outbox_dir import OutboxDirChannel
from integrations.slack import DEFAULT_API_URL, SlackChannel, SlackWebhookChannel
from integrations.teams import (
    DEFAULT_SERVICE_URL,
    TeamsBotChannel,
    TeamsWorkflowChannel,
    default_authority,
)

#: The ``FIKA_*`` settings by name (empty or blank strings count as unset).
Settings = Mapping[str, str | None]
#: Where a channel remembers the ids another service gave it: namespace -> persistent mapping.
Memory = Callable[[str], MutableMapping[str, str]]
BusySource = Callable[
    [Sequence[str], datetime, datetime], dict[str, list[tuple[datetime, datetime]]]
]
Audience = Literal["person", "group", "channel"]
DEFAULT_OUTBOX_DIR = "instance/outbox"

GRAPH_REQUIRED = (
    "FIKA_GRAPH_TENANT_ID",
    "FIKA_GRAPH_CLIENT_ID",
    "FIKA_GRAPH_CLIENT_SECRET",
    "FIKA_GRAPH_ORGANISER",
)
GOOGLE_REQUIRED = ("FIKA_GOOGLE_SERVICE_ACCOUNT_FILE", "FIKA_GOOGLE_SUBJECT")
SLACK_REQUIRED = ("FIKA_SLACK_BOT_TOKEN", "FIKA_SLACK_SIGNING_SECRET")
TEAMS_BOT_REQUIRED = (
    "FIKA_TEAMS_BOT_APP_ID",
    "FIKA_TEAMS_BOT_APP_PASSWORD",
    "FIKA_TEAMS_BOT_TENANT_ID",
)
TEAMS_BOT_OPTIONAL = ("FIKA_TEAMS_BOT_SERVICE_URL", "FIKA_TEAMS_BOT_AUTHORITY")


# --- reading settings ------------------------------------------------------------------------


def _get(settings: Settings, name: str) -> str | None:
    """A setting's value, with empty or blank strings meaning "not set"."""
    value = settings.get(name)
    return value.strip() if value and value.strip() else None


def _any(*names: str) -> Callable[[Settings], bool]:
    """Wanted when any of ``names`` is set (a half configuration is :func:`check`'s to refuse)."""
    return lambda settings: any(_get(settings, name) for name in names)


def _require_all(settings: Settings, names: Sequence[str], service: str) -> dict[str, str] | None:
    """None when none of ``names`` is set; all of them when all are; else name the first gap."""
    present = {name: _get(settings, name) for name in names}
    if not any(present.values()):
        return None
    for name, value in present.items():
        if value is None:
            given = ", ".join(n for n, v in present.items() if v)
            raise ConfigError(f"{name}: required for {service} (because {given} is set)")
    return present  # type: ignore[return-value]


def _url(settings: Settings, name: str, default: str | None = None) -> str | None:
    """An http(s) URL setting, checked so a typo is a start-up error, not a failed round."""
    value = _get(settings, name) or default
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: expected an http(s) URL")  # not echoed: it may be a secret
    return value


# --- the services' settings ------------------------------------------------------------------


def graph_settings(settings: Settings) -> GraphSettings | None:
    """The Graph settings, None when Graph is not configured at all."""
    values = _require_all(settings, GRAPH_REQUIRED, "Microsoft Graph")
    if values is None:
        return None
    organiser = values["FIKA_GRAPH_ORGANISER"]
    if "@" not in organiser:
        raise ConfigError(f"FIKA_GRAPH_ORGANISER: expected a mailbox address, got {organiser!r}")
    return GraphSettings(
        tenant_id=values["FIKA_GRAPH_TENANT_ID"],
        client_id=values["FIKA_GRAPH_CLIENT_ID"],
        client_secret=values["FIKA_GRAPH_CLIENT_SECRET"],
        organiser=organiser,
        base_url=_url(settings, "FIKA_GRAPH_BASE_URL", GRAPH_BASE_URL) or GRAPH_BASE_URL,
        authority=_url(settings, "FIKA_GRAPH_AUTHORITY", DEFAULT_AUTHORITY) or DEFAULT_AUTHORITY,
    )


def google_settings(settings: Settings) -> GoogleSettings | None:
    """The Google settings (key file read and checked now), None when Google is not set."""
    values = _require_all(settings, GOOGLE_REQUIRED, "Google Calendar")
    if values is None:
        return None
    return GoogleSettings.load(
        values["FIKA_GOOGLE_SERVICE_ACCOUNT_FILE"],
        values["FIKA_GOOGLE_SUBJECT"],
        calendar_id=_get(settings, "FIKA_GOOGLE_CALENDAR_ID") or "primary",
        base_url=_url(settings, "FIKA_GOOGLE_BASE_URL", GOOGLE_BASE_URL) or GOOGLE_BASE_URL,
    )


def _email(settings: Settings) -> EmailChannel:
    smtp = SmtpSettings.from_url(_get(settings, "FIKA_SMTP_URL") or "")
    mail_from = _get(settings, "FIKA_MAIL_FROM")
    if not mail_from:
        raise ConfigError("FIKA_MAIL_FROM: required when FIKA_SMTP_URL is set")
    name, address = parseaddr(mail_from)
    if "@" not in address:
        raise ConfigError(f"FIKA_MAIL_FROM: expected an email address, got {mail_from!r}")
    return EmailChannel(smtp, address, name or "Fika")


def _caldav(settings: Settings) -> CalDavChannel:
    url = _get(settings, "FIKA_CALDAV_URL")
    username = _get(settings, "FIKA_CALDAV_USERNAME")
    password = _get(settings, "FIKA_CALDAV_PASSWORD")
    if url is None:
        raise ConfigError("FIKA_CALDAV_URL: required when FIKA_CALDAV_USERNAME is set")
    _url(settings, "FIKA_CALDAV_URL")
    if username and not password:
        raise ConfigError("FIKA_CALDAV_PASSWORD: required when FIKA_CALDAV_USERNAME is set")
    if password and not username:
        raise ConfigError("FIKA_CALDAV_USERNAME: required when FIKA_CALDAV_PASSWORD is set")
    return CalDavChannel(url, username, password)


def _slack(settings: Settings, memory: Memory | None = None) -> SlackChannel:
    values = _require_all(settings, SLACK_REQUIRED, "Slack")
    if values is None:  # only FIKA_SLACK_API_URL is set
        raise ConfigError(
            "FIKA_SLACK_BOT_TOKEN: required for Slack (because FIKA_SLACK_API_URL is set)"
        )
    api_url = _url(settings, "FIKA_SLACK_API_URL", DEFAULT_API_URL) or DEFAULT_API_URL
    ids = memory("slack_user") if memory else None
    posts = memory("slack_post") if memory else None  # group UID -> "<channel> <ts>"
    return SlackChannel(values["FIKA_SLACK_BOT_TOKEN"], api_url, ids, posts=posts)


def _teams(settings: Settings, memory: Memory | None = None) -> Channel:
    """The Teams bot (a 1:1 card per member) when it is set up, else the Workflows webhook."""
    webhook = _url(settings, "FIKA_TEAMS_WEBHOOK_URL")
    bot = _require_all(settings, TEAMS_BOT_REQUIRED, "the Teams bot")
    if bot is None:
        stray = [name for name in TEAMS_BOT_OPTIONAL if _get(settings, name)]
        if stray:
            raise ConfigError(
                f"{TEAMS_BOT_REQUIRED[0]}: required for the Teams bot "
                f"(because {', '.join(stray)} is set)"
            )
        assert webhook is not None  # wanted: bot settings or a webhook
        return TeamsWorkflowChannel(webhook)
    tenant = bot["FIKA_TEAMS_BOT_TENANT_ID"]
    return TeamsBotChannel(
        bot["FIKA_TEAMS_BOT_APP_ID"],
        bot["FIKA_TEAMS_BOT_APP_PASSWORD"],
        tenant,
        _url(settings, "FIKA_TEAMS_BOT_SERVICE_URL", DEFAULT_SERVICE_URL) or DEFAULT_SERVICE_URL,
        memory("teams_conversation") if memory else {},
        authority=_url(settings, "FIKA_TEAMS_BOT_AUTHORITY", default_authority(tenant)),
    )


def _outbox_dir(settings: Settings) -> OutboxDirChannel:
    folder = _get(settings, "FIKA_OUTBOX_DIR") or _get(settings, "FIKA_DEFAULT_OUTBOX_DIR")
    return OutboxDirChannel(folder or DEFAULT_OUTBOX_DIR)


# --- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One channel as the catalogue lists it, without building it."""

    name: str
    #: Whom one message goes to: one "person", one "group", or a whole chat "channel" (notices).
    audience: Audience
    settings_prefix: str
    #: Whether the settings turn the channel on; reads strings only, builds nothing.
    wanted: Callable[[Settings], bool]
    #: The channel, built from the settings (and its memory of ids, when it keeps one).
    build: Callable[[Settings, Memory | None], Channel]
    #: The ``ExternalId`` namespace it remembers ids in, if any.
    id_namespace: str | None = None
    #: Fetches free/busy times for the planner (the calendar services).
    busy: Callable[[Settings], BusySource] | None = None
    #: One of the channels that send *the* invitation: only the first one wanted runs.
    sends_invitations: bool = False
    #: Runs when no invitation channel does, so a fresh install writes its invites somewhere.
    fallback: bool = False

    @property
    def reads_free_busy(self) -> bool:
        """Whether the planner asks this channel for people's busy times."""
        return self.busy is not None


CATALOGUE: tuple[Entry, ...] = (
    Entry(
        "graph", "group", "FIKA_GRAPH_", _any(*GRAPH_REQUIRED),
        lambda s, memory: GraphChannel(graph_settings(s), memory and memory("graph_event")),
        id_namespace="graph_event",
        busy=lambda s: GraphChannel(graph_settings(s)).fetch_busy,
        sends_invitations=True,
    ),
    Entry(
        "google", "group", "FIKA_GOOGLE_", _any(*GOOGLE_REQUIRED),
        lambda s, memory: GoogleChannel(google_settings(s)),
        busy=lambda s: GoogleChannel(google_settings(s)).fetch_busy,
        sends_invitations=True,
    ),
    Entry(
        "email", "person", "FIKA_SMTP_", _any("FIKA_SMTP_URL"),
        lambda s, memory: _email(s), sends_invitations=True,
    ),
    Entry(
        "outbox", "person", "FIKA_OUTBOX_", _any("FIKA_OUTBOX_DIR"),
        lambda s, memory: _outbox_dir(s), fallback=True,
    ),
    Entry(
        "caldav", "group", "FIKA_CALDAV_",
        _any("FIKA_CALDAV_URL", "FIKA_CALDAV_USERNAME", "FIKA_CALDAV_PASSWORD"),
        lambda s, memory: _caldav(s),
    ),
    Entry(
        "slack", "group", "FIKA_SLACK_",
        _any(*SLACK_REQUIRED, "FIKA_SLACK_API_URL"), _slack, id_namespace="slack_user",
    ),
    Entry(
        "teams", "group", "FIKA_TEAMS_",
        _any(*TEAMS_BOT_REQUIRED, *TEAMS_BOT_OPTIONAL, "FIKA_TEAMS_WEBHOOK_URL"),
        _teams, id_namespace="teams_conversation",
    ),
    Entry(
        "slack_webhook", "channel", "FIKA_SLACK_WEBHOOK_", _any("FIKA_SLACK_WEBHOOK_URL"),
        lambda s, memory: SlackWebhookChannel(_url(s, "FIKA_SLACK_WEBHOOK_URL") or ""),
    ),
    Entry(
        "teams_webhook", "channel", "FIKA_TEAMS_WEBHOOK_", _any("FIKA_TEAMS_WEBHOOK_URL"),
        lambda s, memory: TeamsWorkflowChannel(
            _url(s, "FIKA_TEAMS_WEBHOOK_URL") or "", name="teams_webhook"
        ),
    ),
)  # fmt: skip

BY_NAME: dict[str, Entry] = {entry.name: entry for entry in CATALOGUE}


def enabled(settings: Settings) -> list[Entry]:
    """The entries these settings turn on, in catalogue order; builds nothing."""
    inviting = next((e for e in CATALOGUE if e.sends_invitations and e.wanted(settings)), None)
    chosen = []
    for entry in CATALOGUE:
        if entry.sends_invitations:
            on = entry is inviting
        else:
            on = entry.wanted(settings) or (entry.fallback and inviting is None)
        if on:
            chosen.append(entry)
    return chosen


def check(settings: Settings) -> None:
    """Raise ConfigError naming the first unusable setting; builds every wanted channel once.

    Channels that do not run are checked too (email settings while Graph sends the invites:
    other mail uses them), and Graph and Google together are refused.
    """
    if BY_NAME["graph"].wanted(settings) and BY_NAME["google"].wanted(settings):
        graph_settings(settings)
        google_settings(settings)
        raise ConfigError(
            "FIKA_GOOGLE_SERVICE_ACCOUNT_FILE: configure either Microsoft Graph or Google, "
            "not both (each would send its own invitation)"
        )
    for entry in CATALOGUE:
        if entry.wanted(settings):
            close(entry.build(settings, None))


def build(settings: Settings, memory: Memory | None = None) -> dict[str, Channel]:
    """The enabled channels, built, by name (the dispatcher does this once per worker)."""
    return {entry.name: entry.build(settings, memory) for entry in enabled(settings)}


def busy_source(settings: Settings) -> BusySource | None:
    """The free/busy fetcher of the enabled calendar service, or None without one.

    The planner calls it with the participants' emails and the round's day (UTC bounds) and
    treats a DeliveryError as "no busy times known".
    """
    entry = next((e for e in enabled(settings) if e.busy is not None), None)
    return entry.busy(settings) if entry is not None else None


def close(channel: Channel) -> None:
    """Release what a channel holds (pooled connections), if it holds anything."""
    release = getattr(channel, "close", None)
    if callable(release):
        release()
