"""The app factory and settings: defaults, overrides, and refusal to start without a secret."""

import pytest

from core.settings import (
    DEMO_ADMIN_EMAIL,
    SettingsError,
    is_demo_instance,
    load_settings,
    mark_demo_instance,
    normalise_database_url,
    served_base_url,
)
from web import create_app


def test_defaults_come_from_environment(tmp_path):
    settings = load_settings({}, instance_path=str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'fika.sqlite3'}"
    assert settings["FIKA_OUTBOX_DIR"] is None
    assert settings["FIKA_DEFAULT_OUTBOX_DIR"] == str(tmp_path / "outbox")
    assert settings["FIKA_SMTP_URL"] is None
    assert "{room}" in settings["FIKA_VIDEO_URL_TEMPLATE"]
    assert settings["FIKA_VIDEO_URL_TEMPLATE"].startswith("https://meet.jit.si/")


def test_every_documented_variable_is_read(tmp_path):
    env = {
        "DATABASE_URL": "postgres://u:p@db:5432/fika",
        "FIKA_SECRET_KEY": "s3cret",
        "FIKA_BASE_URL": "https://fika.example.org/",
        "FIKA_TIMEZONE": "America/New_York",
        "FIKA_OUTBOX_DIR": "/var/fika/outbox",
        "FIKA_SMTP_URL": "smtp://mail:25",
        "FIKA_MAIL_FROM": "Coffee <coffee@example.org>",
        "FIKA_VIDEO_URL_TEMPLATE": "https://video.example.org/{room}",
    }
    settings = load_settings(env, instance_path=str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db:5432/fika"
    assert settings["SECRET_KEY"] == "s3cret"
    assert settings["FIKA_BASE_URL"] == "https://fika.example.org"
    assert settings["FIKA_TIMEZONE"] == "America/New_York"
    assert settings["FIKA_OUTBOX_DIR"] == "/var/fika/outbox"
    assert settings["FIKA_SMTP_URL"] == "smtp://mail:25"
    assert settings["FIKA_MAIL_FROM"] == "Coffee <coffee@example.org>"
    assert settings["FIKA_VIDEO_URL_TEMPLATE"] == "https://video.example.org/{room}"
    assert settings["FIKA_PROXY_FIX"] == 0
    assert load_settings({"FIKA_PROXY_FIX": "2"}, str(tmp_path))["FIKA_PROXY_FIX"] == 2


@pytest.mark.parametrize("bad", ["-1", "yes", "1.5"])
def test_unreadable_proxy_count_names_the_variable(tmp_path, bad):
    with pytest.raises(SettingsError, match="FIKA_PROXY_FIX"):
        load_settings({"FIKA_PROXY_FIX": bad}, str(tmp_path))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql+psycopg://a@h/d", "postgresql+psycopg://a@h/d"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_normalised(given, expected):
    assert normalise_database_url(given) == expected


def test_production_without_secret_key_refuses_and_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FIKA_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(SettingsError, match="FIKA_SECRET_KEY"):
        create_app()


def test_demo_mode_generates_a_stable_key(tmp_path, monkeypatch):
    monkeypatch.setenv("FIKA_INSTANCE_PATH", str(tmp_path))
    first = create_app({"FIKA_ENV": "demo"})
    second = create_app({"FIKA_ENV": "demo"})
    assert first.config["SECRET_KEY"] and first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"FIKA_TIMEZONE": "Europe/Stokholm"}, "FIKA_TIMEZONE"),
        ({"FIKA_VIDEO_URL_TEMPLATE": "https://meet.example.org/fixed"}, "FIKA_VIDEO_URL_TEMPLATE"),
        ({"FIKA_ENV": "staging"}, "FIKA_ENV"),
        ({"FIKA_SMTP_URL": "smtpx://mail:25"}, "FIKA_SMTP_URL"),
        (
            {
                "FIKA_GRAPH_TENANT_ID": "t",
                "FIKA_GRAPH_CLIENT_ID": "c",
                "FIKA_GRAPH_ORGANISER": "o@x",
            },
            "FIKA_GRAPH_CLIENT_SECRET",
        ),
        ({"FIKA_SLACK_SIGNING_SECRET": "s"}, "FIKA_SLACK_BOT_TOKEN"),
        ({"FIKA_LOG_LEVEL": "loud"}, "FIKA_LOG_LEVEL"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, override, named):
    config = {"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path), **override}
    with pytest.raises(SettingsError, match=named):
        create_app(config)


def test_test_config_overrides_environment(app):
    assert app.testing
    assert app.config["FIKA_BASE_URL"] == "https://fika.example.org"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("0.0.0.0", 8123, "http://127.0.0.1:8123"),
        ("", 80, "http://127.0.0.1:80"),
        ("::", 9000, "http://[::1]:9000"),
        ("fika.lan", 8000, "http://fika.lan:8000"),
    ],
)
def test_served_base_url_is_an_address_a_browser_opens(host, port, expected):
    assert served_base_url(host, port, {}) == expected


def test_a_set_base_url_wins_over_the_address_served():
    assert served_base_url("0.0.0.0", 8123, {"FIKA_BASE_URL": "https://fika.example.org"}) is None


def test_demo_mode_makes_the_demo_admin_an_admin(tmp_path):
    config = {"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)}
    demo = create_app({**config, "FIKA_ENV": "demo", "FIKA_ADMIN_EMAILS": "boss@example.org"})
    production = create_app(config)
    assert demo.extensions["fika.settings"].admin_emails == (
        "admin@example.org",
        "boss@example.org",
    )
    assert DEMO_ADMIN_EMAIL not in production.extensions["fika.settings"].admin_emails


def test_the_demo_marker_applies_only_to_its_database_and_an_unset_fika_env(tmp_path):
    env = {"FIKA_INSTANCE_PATH": str(tmp_path)}
    assert not is_demo_instance(env)
    url = load_settings(env)["SQLALCHEMY_DATABASE_URI"]
    mark_demo_instance(url, env)
    assert is_demo_instance(env)
    assert not is_demo_instance({**env, "FIKA_ENV": "production"})
    assert not is_demo_instance({**env, "DATABASE_URL": "postgresql://db/fika"})
    assert not is_demo_instance({**env, "FIKA_PROXY_FIX": "many"})  # named later, by the app
