"""The channel catalogue: which channels settings turn on, built or only listed, and the
start-up errors that name the bad setting."""

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations import catalogue
from integrations.base import ConfigError
from integrations.caldav import CalDavChannel
from integrations.catalogue import busy_source
from integrations.email import EmailChannel
from integrations.google import GoogleChannel
from integrations.graph import GraphChannel
from integrations.outbox_dir import OutboxDirChannel
from tests.integrations.builders import make_invite, messages_for

SMTP = {"FIKA_SMTP_URL": "smtp+starttls://u:p@smtp.example.org:587",
        "FIKA_MAIL_FROM": "Fika Team <fika@example.org>"}  # fmt: skip
GRAPH = {
    "FIKA_GRAPH_TENANT_ID": "tenant",
    "FIKA_GRAPH_CLIENT_ID": "client",
    "FIKA_GRAPH_CLIENT_SECRET": "secret",
    "FIKA_GRAPH_ORGANISER": "fika@contoso.example",
}
CALDAV = {"FIKA_CALDAV_URL": "https://dav.example.org/fika/breaks/",
          "FIKA_CALDAV_USERNAME": "fika", "FIKA_CALDAV_PASSWORD": "pw"}  # fmt: skip


@pytest.fixture(scope="module")
def google_key_json() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {"type": "service_account", "client_email": "bot@p.example", "private_key": pem}
    )


def kinds(channels) -> list[type]:
    return [type(c) for c in channels]


def calendar_channels(settings, *, id_store=None) -> list:
    """The built channels, in catalogue order (with ``id_store`` as every channel's memory)."""
    memory = (lambda namespace: id_store) if id_store is not None else None
    return list(catalogue.build(settings, memory).values())


def test_nothing_configured_writes_to_the_outbox_folder():
    (channel,) = calendar_channels({})
    assert isinstance(channel, OutboxDirChannel) and str(channel.path) == "instance/outbox"
    assert busy_source({}) is None


def test_blank_values_count_as_unset():
    assert kinds(calendar_channels({"FIKA_SMTP_URL": "  ", "FIKA_GRAPH_TENANT_ID": ""})) == [
        OutboxDirChannel
    ]


def test_smtp_replaces_the_outbox_unless_the_folder_is_set_explicitly(tmp_path):
    (email,) = calendar_channels(SMTP)
    assert isinstance(email, EmailChannel)
    assert (email.mail_from, email.mail_from_name) == ("fika@example.org", "Fika Team")
    assert email.settings.security == "starttls"
    both = calendar_channels({**SMTP, "FIKA_OUTBOX_DIR": str(tmp_path)})
    assert kinds(both) == [EmailChannel, OutboxDirChannel]


def test_graph_sends_the_invitations_and_provides_free_busy():
    store: dict[str, str] = {}
    channels = calendar_channels({**SMTP, **GRAPH}, id_store=store)
    assert kinds(channels) == [GraphChannel]  # no second invitation by email
    assert channels[0].id_store is store
    assert callable(busy_source(GRAPH))


def test_google_sends_the_invitations_and_provides_free_busy(google_key_json):
    settings = {"FIKA_GOOGLE_SERVICE_ACCOUNT_FILE": google_key_json,
                "FIKA_GOOGLE_SUBJECT": "fika@corp.example"}  # fmt: skip
    (channel,) = calendar_channels(settings)
    assert isinstance(channel, GoogleChannel) and channel.settings.calendar_id == "primary"
    assert callable(busy_source(settings))


def test_caldav_is_added_next_to_the_invitation_channel():
    assert kinds(calendar_channels(CALDAV)) == [OutboxDirChannel, CalDavChannel]
    assert kinds(calendar_channels({**SMTP, **CALDAV})) == [EmailChannel, CalDavChannel]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (
            {"FIKA_SMTP_URL": "imap://mail.example.org", "FIKA_MAIL_FROM": "f@x.org"},
            "FIKA_SMTP_URL",
        ),
        ({"FIKA_SMTP_URL": "smtp://mail.example.org"}, "FIKA_MAIL_FROM"),
        ({**SMTP, "FIKA_MAIL_FROM": "not an address"}, "FIKA_MAIL_FROM"),
        ({**GRAPH, "FIKA_GRAPH_CLIENT_SECRET": None}, "FIKA_GRAPH_CLIENT_SECRET"),
        ({"FIKA_GRAPH_TENANT_ID": "t"}, "FIKA_GRAPH_CLIENT_ID"),
        ({**GRAPH, "FIKA_GRAPH_ORGANISER": "fika"}, "FIKA_GRAPH_ORGANISER"),
        ({**GRAPH, "FIKA_GRAPH_BASE_URL": "graph.local"}, "FIKA_GRAPH_BASE_URL"),
        ({**GRAPH, "FIKA_GRAPH_AUTHORITY": "ftp://x"}, "FIKA_GRAPH_AUTHORITY"),
        ({"FIKA_GOOGLE_SUBJECT": "a@b.example"}, "FIKA_GOOGLE_SERVICE_ACCOUNT_FILE"),
        ({"FIKA_GOOGLE_SERVICE_ACCOUNT_FILE": "/x.json"}, "FIKA_GOOGLE_SUBJECT"),
        (
            {"FIKA_GOOGLE_SERVICE_ACCOUNT_FILE": "/missing.json", "FIKA_GOOGLE_SUBJECT": "a@b.c"},
            "FIKA_GOOGLE_SERVICE_ACCOUNT_FILE",
        ),
        ({**CALDAV, "FIKA_CALDAV_PASSWORD": ""}, "FIKA_CALDAV_PASSWORD"),
        ({"FIKA_CALDAV_USERNAME": "u"}, "FIKA_CALDAV_URL"),
        ({**CALDAV, "FIKA_CALDAV_URL": "dav.example.org"}, "FIKA_CALDAV_URL"),
    ],
)
def test_bad_settings_fail_at_start_naming_the_setting(settings, named):
    with pytest.raises(ConfigError, match=f"^{named}: "):
        catalogue.check(settings)


def test_graph_and_google_together_are_refused(google_key_json):
    settings = {**GRAPH, "FIKA_GOOGLE_SERVICE_ACCOUNT_FILE": google_key_json,
                "FIKA_GOOGLE_SUBJECT": "fika@corp.example"}  # fmt: skip
    with pytest.raises(ConfigError, match="either Microsoft Graph or Google"):
        catalogue.check(settings)


def test_channels_from_settings_deliver_to_a_real_smtp_server(smtp_server, tmp_path):
    settings = {"FIKA_SMTP_URL": smtp_server.url(), "FIKA_MAIL_FROM": "fika@example.org",
                "FIKA_OUTBOX_DIR": str(tmp_path)}  # fmt: skip
    messages = messages_for(make_invite())
    for channel in calendar_channels(settings):
        assert channel.send(messages) == [None, None, None], channel.name
    assert len(smtp_server.messages) == 3
    assert len(list(tmp_path.glob("*.txt"))) == 3


def test_listing_springs_no_builder_of_any_channel(monkeypatch, tmp_path):
    """``enabled`` reads strings only: a Google key file that is not there yet, a Graph secret
    nobody checked, every builder switched to a trap — listing still names them all."""
    built = []
    for entry in catalogue.CATALOGUE:
        trap = catalogue.Entry(
            **{**vars(entry), "build": lambda s, m, n=entry.name: built.append(n)}
        )
        monkeypatch.setitem(catalogue.BY_NAME, entry.name, trap)
    monkeypatch.setattr(catalogue, "CATALOGUE", tuple(catalogue.BY_NAME.values()))
    settings = {
        **SMTP,
        **CALDAV,
        "FIKA_GOOGLE_SERVICE_ACCOUNT_FILE": str(tmp_path / "missing-key.json"),
        "FIKA_GOOGLE_ORGANISER": "fika@p.example",
        "FIKA_SLACK_BOT_TOKEN": "xoxb-1",
        "FIKA_SLACK_WEBHOOK_URL": "https://hooks.slack.example/x",
    }
    names = [entry.name for entry in catalogue.enabled(settings)]
    assert names == ["google", "caldav", "slack", "slack_webhook"]
    assert built == []
    catalogue.build(settings)  # the same traps do fire when the channels are built
    assert built == names
