"""Which calendar channels to use, decided from the ``FIKA_*`` settings in one place.

Exactly one channel sends the invitations, so nobody gets two events for one break:

1. Microsoft Graph when ``FIKA_GRAPH_*`` is set (Exchange mails the invitations),
2. else Google when ``FIKA_GOOGLE_*`` is set (Google mails them),
3. else email when ``FIKA_SMTP_URL`` is set,
4. else the outbox folder (``FIKA_OUTBOX_DIR``, default ``instance/outbox``), so a fresh
   install shows its invites somewhere without any server.

On top of that, the outbox folder is also written whenever ``FIKA_OUTBOX_DIR`` is set explicitly
(a local copy for audit or debugging), and CalDAV, when ``FIKA_CALDAV_URL`` is set, keeps each
group's event in a shared calendar collection (it notifies nobody, so it never replaces the
invitation channel). Half-configured services fail at start-up with the missing setting named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from integrations.base import Channel, ConfigError
from integrations.caldav import CalDavChannel
from integrations.email import EmailChannel, SmtpSettings
from integrations.google import DEFAULT_BASE_URL as GOOGLE_BASE_URL
from integrations.google import GoogleChannel, GoogleSettings
from integrations.graph import DEFAULT_AUTHORITY, GraphChannel, GraphSettings
from integrations.graph import DEFAULT_BASE_URL as GRAPH_BASE_URL
from integrations.outbox_dir import OutboxDirChannel

Settings = Mapping[str, str | None]
BusySource = Callable[
    [Sequence[str], datetime, datetime], dict[str, list[tuple[datetime, datetime]]]
]
DEFAULT_OUTBOX_DIR = "instance/outbox"

GRAPH_REQUIRED = (
    "FIKA_GRAPH_TENANT_ID",
    "FIKA_GRAPH_CLIENT_ID",
    "FIKA_GRAPH_CLIENT_SECRET",
    "FIKA_GRAPH_ORGANISER",
)
GOOGLE_REQUIRED = ("FIKA_GOOGLE_SERVICE_ACCOUNT_FILE", "FIKA_GOOGLE_SUBJECT")


def _get(settings: Settings, name: str) -> str | None:
    """A setting's value, with empty or blank strings meaning "not set"."""
    value = settings.get(name)
    return value.strip() if value and value.strip() else None


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


def _http_url(settings: Settings, name: str, default: str) -> str:
    value = _get(settings, name) or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: expected an http(s) URL, got {value!r}")
    return value


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
        base_url=_http_url(settings, "FIKA_GRAPH_BASE_URL", GRAPH_BASE_URL),
        authority=_http_url(settings, "FIKA_GRAPH_AUTHORITY", DEFAULT_AUTHORITY),
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
        base_url=_http_url(settings, "FIKA_GOOGLE_BASE_URL", GOOGLE_BASE_URL),
    )


def _email_channel(settings: Settings, smtp_url: str) -> EmailChannel:
    smtp = SmtpSettings.from_url(smtp_url)
    mail_from = _get(settings, "FIKA_MAIL_FROM")
    if not mail_from:
        raise ConfigError("FIKA_MAIL_FROM: required when FIKA_SMTP_URL is set")
    name, address = parseaddr(mail_from)
    if "@" not in address:
        raise ConfigError(f"FIKA_MAIL_FROM: expected an email address, got {mail_from!r}")
    return EmailChannel(smtp, address, name or "Fika")


def _caldav_channel(settings: Settings) -> CalDavChannel | None:
    url = _get(settings, "FIKA_CALDAV_URL")
    username = _get(settings, "FIKA_CALDAV_USERNAME")
    password = _get(settings, "FIKA_CALDAV_PASSWORD")
    if url is None:
        if username or password:
            raise ConfigError("FIKA_CALDAV_URL: required when FIKA_CALDAV_USERNAME is set")
        return None
    _http_url(settings, "FIKA_CALDAV_URL", url)
    if username and not password:
        raise ConfigError("FIKA_CALDAV_PASSWORD: required when FIKA_CALDAV_USERNAME is set")
    if password and not username:
        raise ConfigError("FIKA_CALDAV_USERNAME: required when FIKA_CALDAV_PASSWORD is set")
    return CalDavChannel(url, username, password)


def calendar_channels(
    settings: Settings,
    *,
    id_store: MutableMapping[str, str] | None = None,
    default_outbox_dir: str = DEFAULT_OUTBOX_DIR,
) -> list[Channel]:
    """Build the calendar channels the settings ask for (see the module docstring).

    ``id_store`` maps a group's uid to the Graph event id; pass a persistent mapping so events
    can be updated after a restart (without one, the channel finds them by their uid tag).
    Building touches no network: msal and tokens are set up on first use.
    """
    graph = graph_settings(settings)
    google = google_settings(settings)
    if graph and google:
        raise ConfigError(
            "FIKA_GOOGLE_SERVICE_ACCOUNT_FILE: configure either Microsoft Graph or Google, "
            "not both (each would send its own invitation)"
        )
    smtp_url = _get(settings, "FIKA_SMTP_URL")
    # Validate email settings even when Graph or Google sends the invites: other mail uses them.
    email = _email_channel(settings, smtp_url) if smtp_url else None

    channels: list[Channel] = []
    if graph:
        channels.append(GraphChannel(graph, id_store))
    elif google:
        channels.append(GoogleChannel(google))
    elif email:
        channels.append(email)
    outbox_dir = _get(settings, "FIKA_OUTBOX_DIR")
    if outbox_dir or not channels:
        channels.append(OutboxDirChannel(outbox_dir or default_outbox_dir))
    caldav = _caldav_channel(settings)
    if caldav:
        channels.append(caldav)
    return channels


def validate_settings(settings: Settings) -> None:
    """Fail at start-up, with the setting named, instead of at the first delivery."""
    calendar_channels(settings)


def busy_source(settings: Settings) -> BusySource | None:
    """The free/busy fetcher of the configured calendar service, or None without one.

    The planner calls it with the participants' emails and the round's day (UTC bounds) and
    treats a DeliveryError as "no busy times known".
    """
    graph = graph_settings(settings)
    if graph:
        return GraphChannel(graph).fetch_busy
    google = google_settings(settings)
    if google:
        return GoogleChannel(google).fetch_busy
    return None
