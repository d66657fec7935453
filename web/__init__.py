"""The Flask application: ``create_app`` builds it from settings and registers the blueprints."""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core.db import db
from core.settings import finalise, load_settings
from web import i18n, transactions
from web.config import EXTENSION
from web.extensions import csrf, migrations

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, then ``config`` overrides (tests, CLI).

    Refuses to start (``SettingsError``) when a setting is unusable, naming the variable.
    """
    settings = load_settings()
    if config:
        settings.update(config)
    instance_path = settings["INSTANCE_PATH"]
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=False)
    app.config.update(settings)
    app.extensions[EXTENSION] = finalise(app.config, instance_path)
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["DEBUG"] = bool(app.config.get("FIKA_DEBUG"))

    db.init_app(app)
    transactions.init_app(app)  # after db.init_app: reads end with COMMIT (see the module)
    migrations.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    csrf.init_app(app)

    from web import account, errors, input_rules, optin, security, unsubscribe
    from web.account import oidc

    input_rules.init_app(app)  # before the blueprints: their <int:…> rules use its converter

    app.register_blueprint(optin.bp)
    app.register_blueprint(unsubscribe.bp)
    from web import admin, api

    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(account.bp)
    from web import chat

    app.register_blueprint(chat.bp)
    from web.checkin import bp as checkin_bp

    app.register_blueprint(checkin_bp)
    from web.teams import bp as teams_bp

    app.register_blueprint(teams_bp)
    app.jinja_env.filters["zone"] = ZoneInfo  # {{ instant.astimezone(person.timezone|zone) }}
    i18n.init_app(app)  # Flask-Babel, the page language, gettext/ngettext and date filters
    oidc.init_app(app)
    errors.register(app)
    security.init_app(app)  # after the blueprints: it wraps their views in rate limits
    _trust_proxies(app)
    _configure_logging(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind FIKA_PROXY_FIX reverse proxies, take the client's address and scheme from them.

    ProxyFix reads only the last N entries of X-Forwarded-For and X-Forwarded-Proto (the ones
    our own proxies appended), so a client cannot choose its address by sending the header
    itself; rate limits then key on the real client. X-Forwarded-Host is not trusted: links
    are built from FIKA_BASE_URL, and not every proxy overwrites that header.
    """
    proxies = app.config["FIKA_PROXY_FIX"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


#: Pooled server connections older than this are replaced at checkout (a clock check, no query).
POOL_RECYCLE_SECONDS = 180


def _engine_options(config) -> dict:
    """SQLite waits for a busy writer instead of failing; server databases recycle connections.

    ``pool_recycle`` instead of ``pool_pre_ping``: pre-ping costs a ``SELECT 1`` round trip on
    every checkout, that is on every request. A connection is never idle longer than it is
    old, so recycling at three minutes never reuses one that a middlebox dropped for idleness
    (Azure's load balancer after 4 minutes, AWS NAT after 350 s). What pre-ping also covered,
    a database restart, now fails the first query on a dead connection once: that request gets
    a 503 "try again" (``web.errors``), SQLAlchemy discards the whole pool, and the following
    requests reconnect.
    """
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_recycle": POOL_RECYCLE_SECONDS}


#: Libraries whose INFO lines drown the start-up output; shown only at FIKA_LOG_LEVEL=debug.
CHATTY_LOGGERS = ("apscheduler", "alembic")


def _configure_logging(app: Flask) -> None:
    """One line per event, with a stable prefix, so logs can be grepped and shipped.

    FIKA_LOG_LEVEL sets the level. Below debug, the scheduler's and the migrations' own INFO
    lines are left out (one line per round and a delivery summary is what an operator reads);
    SQL statements are never logged, even at debug.
    """
    level = getattr(logging, app.extensions[EXTENSION].log_level.upper())
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("fika").setLevel(level)
    chatty = logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
