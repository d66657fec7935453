"""Every setting Fika reads, in one place, from environment variables, as one typed object.

The README lists each one with its default. Nothing else in the code base reads ``os.environ``
for configuration. :func:`load_settings` reads the variables into a flat mapping (the Flask
config the web app is built from, which tests and the CLI may override), :func:`finalise`
checks it and returns :class:`Settings`, the frozen object the core, the jobs and the command
line are handed. Nobody reads settings from ``current_app`` outside the web shell.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.i18n import LANGUAGES
from core.zones import is_zone

#: Modes in which Fika may start without FIKA_SECRET_KEY (a key is generated and kept in the
#: instance folder so sessions survive a restart).
RELAXED_MODES = frozenset({"demo", "development", "test"})

#: The variables a channel reads (integrations/catalogue.py), by prefix or by name.
CHANNEL_PREFIXES = ("FIKA_SLACK_", "FIKA_TEAMS_", "FIKA_GRAPH_", "FIKA_GOOGLE_", "FIKA_CALDAV_")
CHANNEL_NAMES = ("FIKA_SMTP_URL", "FIKA_MAIL_FROM", "FIKA_OUTBOX_DIR", "FIKA_DEFAULT_OUTBOX_DIR")

#: FIKA_LOG_LEVEL's values; "debug" also shows each delivery and the scheduler's own lines.
LOG_LEVELS = ("debug", "info", "warning", "error")

#: In demo mode this address is an admin (no FIKA_ADMIN_EMAILS needed to try the admin).
DEMO_ADMIN_EMAIL = "admin@example.org"

#: The file in the instance folder that says its database is the demo's (``fika demo``).
DEMO_MARKER = "demo-database"


class SettingsError(RuntimeError):
    """A setting is missing or unusable; the message names the variable and why."""


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` spelling Heroku-style platforms hand out.

    SQLAlchemy only knows ``postgresql://``; we also pin the psycopg 3 driver, the one we install.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _number(env: dict[str, str], name: str, default, kind):
    """A positive number setting, or SettingsError naming it."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value <= 0:
        raise SettingsError(f"{name}: expected a positive number, got {raw!r}")
    return value


def _count(env: dict[str, str], name: str, default: int) -> int:
    """A whole number >= 0, or SettingsError naming it."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SettingsError(f"{name}: expected a whole number (0 for none), got {raw!r}")
    return int(raw)


#: Default and bounds of FIKA_OUTBOX_CONNECTIONS.
DEFAULT_CONNECTIONS = 10
MAX_CONNECTIONS = 100


def _connections(value: str | int | None) -> int:
    """FIKA_OUTBOX_CONNECTIONS: a whole number from 1 to MAX_CONNECTIONS, or SettingsError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_CONNECTIONS
    raw = str(value).strip()
    whole = not isinstance(value, bool) and raw.isascii() and raw.isdigit()
    if not whole or not 1 <= int(raw) <= MAX_CONNECTIONS:
        raise SettingsError(
            f"FIKA_OUTBOX_CONNECTIONS: expected a whole number from 1 to {MAX_CONNECTIONS} "
            f"(connections per worker), got {value!r}"
        )
    return int(raw)


def _email_list(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """'A@x.org, b@y.org' -> ('a@x.org', 'b@y.org'): trimmed, lower-cased, blanks dropped."""
    items = value.split(",") if isinstance(value, str) else value or ()
    return tuple(sorted({e.strip().lower() for e in items if e.strip()}))


def load_settings(environ: dict[str, str] | None = None, instance_path: str | None = None) -> dict:
    """Read the FIKA_* and DATABASE_URL variables into a Flask config mapping.

    ``environ`` defaults to ``os.environ``; tests pass their own. Validation that needs the
    final mode (the secret key) happens in :func:`finalise`, after test or CLI overrides.
    """
    env = dict(os.environ if environ is None else environ)
    instance = Path(instance_path or env.get("FIKA_INSTANCE_PATH") or Path.cwd() / "instance")
    default_db = f"sqlite:///{instance / 'fika.sqlite3'}"
    settings: dict[str, Any] = {
        "FIKA_ENV": env.get("FIKA_ENV", "production").strip().lower(),
        "FIKA_DEBUG": _flag(env.get("FIKA_DEBUG")),
        "FIKA_LOG_LEVEL": (env.get("FIKA_LOG_LEVEL") or "info").strip().lower(),
        "SECRET_KEY": env.get("FIKA_SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(env.get("DATABASE_URL") or default_db),
        "FIKA_BASE_URL": (env.get("FIKA_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        "FIKA_TIMEZONE": env.get("FIKA_TIMEZONE") or "Europe/Stockholm",
        # The organisation's language (core.i18n.LANGUAGES): pages and messages for anyone who
        # chose none and, on web pages, whose browser asks for none Fika speaks.
        "FIKA_LANGUAGE": (env.get("FIKA_LANGUAGE") or "en").strip().lower(),
        # Unset: invites go to <instance>/outbox only while no mail or calendar service is set.
        "FIKA_OUTBOX_DIR": env.get("FIKA_OUTBOX_DIR") or None,
        "FIKA_DEFAULT_OUTBOX_DIR": str(instance / "outbox"),
        "FIKA_SMTP_URL": env.get("FIKA_SMTP_URL") or None,
        "FIKA_MAIL_FROM": env.get("FIKA_MAIL_FROM") or "Fika <fika@localhost>",
        "FIKA_VIDEO_URL_TEMPLATE": env.get("FIKA_VIDEO_URL_TEMPLATE")
        or "https://meet.jit.si/fika-{room}",
        "FIKA_ORG_NAME": env.get("FIKA_ORG_NAME") or "your organisation",
        # Who may use /admin and the API with a session: emails, compared case-insensitively.
        "FIKA_ADMIN_EMAILS": _email_list(env.get("FIKA_ADMIN_EMAILS")),
        # With OpenID Connect: members of this group claim are admins too (unset: emails only).
        "FIKA_ADMIN_GROUP": (env.get("FIKA_ADMIN_GROUP") or "").strip() or None,
        # The outbox: a transient failure is retried after ~BASE * 2**(attempt-1) seconds (with
        # jitter, never sooner than Retry-After), at most MAX_ATTEMPTS times, then it is dead.
        "FIKA_OUTBOX_MAX_ATTEMPTS": _number(env, "FIKA_OUTBOX_MAX_ATTEMPTS", 8, int),
        "FIKA_OUTBOX_BASE_DELAY": _number(env, "FIKA_OUTBOX_BASE_DELAY", 30.0, float),
        # Seconds a worker holds the rows it claimed; a dead worker's rows are due again then.
        "FIKA_OUTBOX_LEASE": _number(env, "FIKA_OUTBOX_LEASE", 60.0, float),
        # SMTP connections one worker keeps open at once (a relay that takes 100 ms a message
        # passes 10 a second per connection).
        "FIKA_OUTBOX_CONNECTIONS": _connections(env.get("FIKA_OUTBOX_CONNECTIONS")),
        # Single sign-on (OpenID Connect): all three, or none.
        "FIKA_OIDC_ISSUER": (env.get("FIKA_OIDC_ISSUER") or "").rstrip("/") or None,
        "FIKA_OIDC_CLIENT_ID": env.get("FIKA_OIDC_CLIENT_ID") or None,
        "FIKA_OIDC_CLIENT_SECRET": env.get("FIKA_OIDC_CLIENT_SECRET") or None,
        # Rate limits (Flask-Limiter): memory:// counts per process; use Redis with >1 worker.
        "FIKA_RATELIMIT_STORAGE_URI": env.get("FIKA_RATELIMIT_STORAGE_URI") or "memory://",
        "FIKA_RATELIMIT_SIGNIN": env.get("FIKA_RATELIMIT_SIGNIN") or "10 per minute;50 per hour",
        "FIKA_RATELIMIT_FORM": env.get("FIKA_RATELIMIT_FORM") or "30 per minute;300 per hour",
        # Reverse proxies in front of Fika whose X-Forwarded-For/-Proto are trusted (0: none, the
        # headers are ignored). Rate limits then count per real client, not per proxy.
        "FIKA_PROXY_FIX": _count(env, "FIKA_PROXY_FIX", 0),
    }
    # Channel settings are handed to integrations/ untouched; only their presence is checked here.
    for key, value in env.items():
        if key.startswith(CHANNEL_PREFIXES):
            settings[key] = value or None
    settings["INSTANCE_PATH"] = str(instance)
    return settings


@dataclass(frozen=True)
class Settings:
    """This deployment's settings, checked (see :func:`finalise`); the README documents each."""

    env: str
    secret_key: str
    database_url: str
    instance_path: str
    base_url: str
    timezone: str
    mail_from: str
    video_url_template: str
    org_name: str
    default_outbox_dir: str
    outbox_dir: str | None = None
    smtp_url: str | None = None
    debug: bool = False
    log_level: str = "info"
    admin_emails: tuple[str, ...] = ()
    admin_group: str | None = None
    outbox_max_attempts: int = 8
    outbox_base_delay: float = 30.0
    outbox_lease: float = 60.0
    outbox_connections: int = DEFAULT_CONNECTIONS
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    ratelimit_storage_uri: str = "memory://"
    ratelimit_signin: str = "10 per minute;50 per hour"
    ratelimit_form: str = "30 per minute;300 per hour"
    proxy_fix: int = 0
    language: str = "en"
    #: The ``FIKA_*`` variables the channels read, by name, for ``integrations.catalogue``.
    channel_settings: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """The settings in a flat ``FIKA_*`` mapping (the web app's config)."""
        channels = {
            key: value
            for key, value in config.items()
            if key.startswith(CHANNEL_PREFIXES) or key in CHANNEL_NAMES
        }
        return cls(
            env=config.get("FIKA_ENV", "production"),
            debug=bool(config.get("FIKA_DEBUG")),
            log_level=config.get("FIKA_LOG_LEVEL", "info"),
            secret_key=config["SECRET_KEY"],
            database_url=config["SQLALCHEMY_DATABASE_URI"],
            instance_path=config["INSTANCE_PATH"],
            base_url=config["FIKA_BASE_URL"],
            timezone=config["FIKA_TIMEZONE"],
            mail_from=config["FIKA_MAIL_FROM"],
            video_url_template=config["FIKA_VIDEO_URL_TEMPLATE"],
            org_name=config["FIKA_ORG_NAME"],
            default_outbox_dir=config["FIKA_DEFAULT_OUTBOX_DIR"],
            outbox_dir=config.get("FIKA_OUTBOX_DIR"),
            smtp_url=config.get("FIKA_SMTP_URL"),
            admin_emails=_admins(config),
            admin_group=config.get("FIKA_ADMIN_GROUP"),
            outbox_max_attempts=int(config.get("FIKA_OUTBOX_MAX_ATTEMPTS") or 8),
            outbox_base_delay=float(config.get("FIKA_OUTBOX_BASE_DELAY") or 30.0),
            outbox_lease=float(config.get("FIKA_OUTBOX_LEASE") or 60.0),
            outbox_connections=_connections(config.get("FIKA_OUTBOX_CONNECTIONS")),
            oidc_issuer=config.get("FIKA_OIDC_ISSUER"),
            oidc_client_id=config.get("FIKA_OIDC_CLIENT_ID"),
            oidc_client_secret=config.get("FIKA_OIDC_CLIENT_SECRET"),
            ratelimit_storage_uri=config["FIKA_RATELIMIT_STORAGE_URI"],
            ratelimit_signin=config["FIKA_RATELIMIT_SIGNIN"],
            ratelimit_form=config["FIKA_RATELIMIT_FORM"],
            proxy_fix=config.get("FIKA_PROXY_FIX", 0),
            language=config.get("FIKA_LANGUAGE", "en"),
            channel_settings=MappingProxyType(channels),
        )

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is a SQLite file (one worker at a time)."""
        return self.database_url.startswith("sqlite")


def _admins(config: Mapping[str, Any]) -> tuple[str, ...]:
    """FIKA_ADMIN_EMAILS, plus the demo admin in demo mode."""
    admins = _email_list(config.get("FIKA_ADMIN_EMAILS"))
    if config.get("FIKA_ENV") == "demo":
        admins = _email_list((*admins, DEMO_ADMIN_EMAIL))
    return admins


def served_base_url(host: str, port: int, environ: Mapping[str, str] | None = None) -> str | None:
    """The base URL of links when ``fika serve`` serves ``host:port`` and FIKA_BASE_URL is unset.

    None when FIKA_BASE_URL is set (it wins: behind a proxy the public address differs). A
    wildcard address (0.0.0.0, ::) is not one a browser can open, so links use the loopback.
    """
    env = os.environ if environ is None else environ
    if env.get("FIKA_BASE_URL"):
        return None
    host = host.strip().strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:  # an IPv6 literal goes in brackets in a URL
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _demo_marker(environ: Mapping[str, str] | None) -> tuple[Path, str]:
    """Where the demo marker lives and the database URL it must name, for these variables."""
    config = load_settings(dict(os.environ if environ is None else environ))
    return Path(config["INSTANCE_PATH"]) / DEMO_MARKER, config["SQLALCHEMY_DATABASE_URI"]


def mark_demo_instance(database_url: str, environ: Mapping[str, str] | None = None) -> None:
    """Note in the instance folder that ``database_url`` holds the demo (see below)."""
    path, _ = _demo_marker(environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(database_url + "\n")


def is_demo_instance(environ: Mapping[str, str] | None = None) -> bool:
    """Whether commands run here work on the demo: FIKA_ENV unset and the demo's database in use.

    So ``fika status`` after ``fika demo`` in the same folder uses the demo's generated key,
    while a folder with FIKA_ENV set, or pointed at another database, is left alone.
    """
    env = os.environ if environ is None else environ
    if env.get("FIKA_ENV"):
        return False
    try:
        path, database_url = _demo_marker(env)
        return path.read_text().strip() == database_url
    except (OSError, SettingsError):  # a bad setting is named when the app is built
        return False


def finalise(config: dict, instance_path: str) -> Settings:
    """Check settings that depend on the final mode; raise SettingsError if one is unusable.

    Fills in the generated secret key of a relaxed mode (in place), then returns the settings.
    """
    mode = config.get("FIKA_ENV", "production")
    if mode not in {"production", *RELAXED_MODES}:
        raise SettingsError(
            f"FIKA_ENV: unknown mode {mode!r} (use production, development, demo or test)"
        )
    if not is_zone(config["FIKA_TIMEZONE"]):
        raise SettingsError(
            f"FIKA_TIMEZONE: unknown time zone {config['FIKA_TIMEZONE']!r} "
            "(use an IANA name such as Europe/Stockholm)"
        )
    proxies = config.get("FIKA_PROXY_FIX", 0)
    if not isinstance(proxies, int) or isinstance(proxies, bool) or proxies < 0:
        raise SettingsError(
            f"FIKA_PROXY_FIX: expected a whole number (0 for none), got {proxies!r}"
        )
    level = config.get("FIKA_LOG_LEVEL", "info")
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"FIKA_LOG_LEVEL: unknown level {level!r} (use {', '.join(LOG_LEVELS)})"
        )
    language = config.get("FIKA_LANGUAGE", "en")
    if language not in LANGUAGES:
        raise SettingsError(
            f"FIKA_LANGUAGE: unknown language {language!r} (use {', '.join(LANGUAGES)})"
        )
    template = config["FIKA_VIDEO_URL_TEMPLATE"]
    if "{room}" not in template:
        raise SettingsError("FIKA_VIDEO_URL_TEMPLATE: must contain {room}")
    config["FIKA_OUTBOX_CONNECTIONS"] = _connections(config.get("FIKA_OUTBOX_CONNECTIONS"))
    _check_channels(config)
    _check_sign_in(config)
    if not config.get("SECRET_KEY"):
        if mode in RELAXED_MODES or config.get("FIKA_DEBUG"):
            config["SECRET_KEY"] = _instance_secret(Path(instance_path))
        else:
            raise SettingsError(
                "FIKA_SECRET_KEY is not set: set it to a long random string "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or run with FIKA_ENV=demo for a local trial"
            )
    return Settings.from_config(config)


def _check_channels(config: dict) -> None:
    """Half-configured mail, calendar or chat settings fail at start, naming the setting."""
    from integrations import catalogue
    from integrations.base import ConfigError

    try:
        catalogue.check(config)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None


def _check_sign_in(config: dict) -> None:
    """Half-configured single sign-on or unreadable rate limits fail at start, naming it."""
    from limits import parse_many

    names = ("FIKA_OIDC_ISSUER", "FIKA_OIDC_CLIENT_ID", "FIKA_OIDC_CLIENT_SECRET")
    given = [n for n in names if config.get(n)]
    if given and len(given) != len(names):
        missing = ", ".join(n for n in names if n not in given)
        raise SettingsError(f"{missing}: required when {given[0]} is set (single sign-on)")
    issuer = config.get("FIKA_OIDC_ISSUER")
    if issuer and not issuer.startswith(("https://", "http://")):
        raise SettingsError(f"FIKA_OIDC_ISSUER: expected an https:// URL, got {issuer!r}")
    for name in ("FIKA_RATELIMIT_SIGNIN", "FIKA_RATELIMIT_FORM"):
        try:
            parse_many(config[name])
        except ValueError:
            raise SettingsError(
                f"{name}: cannot read {config[name]!r} (write e.g. '10 per minute;50 per hour')"
            ) from None
    uri = config["FIKA_RATELIMIT_STORAGE_URI"]
    if "://" not in uri:
        raise SettingsError(
            f"FIKA_RATELIMIT_STORAGE_URI: expected e.g. memory:// or redis://host:6379, got {uri!r}"
        )


def _instance_secret(instance: Path) -> str:
    """A generated key kept in the instance folder, so demo sessions and links survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
