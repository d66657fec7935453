"""``fika slack manifest`` and ``fika teams package``: what an admin pastes into Slack or uploads
to Teams names this deployment's routes, and the Teams package passes Microsoft's schema."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft4Validator

from fika.cli import cli
from web import create_app

ROOT = Path(__file__).resolve().parents[2]
TEAMS_SCHEMA = ROOT / "tests" / "data" / "teams-manifest-1.29.json"
BASE = "https://coffee.example.org/fika"
APP_ID = "0b5a2c1e-1111-4d2a-9c3b-123456789abc"
TEAMS_BOT = {
    "FIKA_TEAMS_BOT_APP_ID": APP_ID,
    "FIKA_TEAMS_BOT_APP_PASSWORD": "a-client-secret",
    "FIKA_TEAMS_BOT_TENANT_ID": "contoso.onmicrosoft.com",
}
#: The bot scopes the README documents, each for a call Fika makes (see the manifest's comments).
DOCUMENTED_SCOPES = [
    "chat:write",
    "commands",
    "im:write",
    "mpim:write",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
]


@pytest.fixture
def fika(tmp_path, monkeypatch):
    """Run ``fika`` in-process with a deployment's settings (no database needed)."""
    monkeypatch.setenv("FIKA_ENV", "test")
    monkeypatch.setenv("FIKA_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fika.sqlite3'}")
    monkeypatch.setenv("FIKA_BASE_URL", BASE + "/")
    monkeypatch.chdir(tmp_path)

    def run(*args: str, **env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return run


def one_line_failure(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fika: "), result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]


# --- Slack ----------------------------------------------------------------------------------


def slack_urls(manifest: dict) -> dict[str, str]:
    settings = manifest["settings"]
    [command] = manifest["features"]["slash_commands"]
    return {
        "slash command": command["url"],
        "interactivity": settings["interactivity"]["request_url"],
        "events": settings["event_subscriptions"]["request_url"],
    }


def test_the_slack_manifest_names_routes_this_fika_serves_on_its_base_url(fika, tmp_path):
    result = fika("slack", "manifest")
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(result.output)
    urls = slack_urls(manifest)
    app = create_app(
        {"FIKA_BASE_URL": BASE, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.db'}"}
    )
    adapter = app.url_map.bind("coffee.example.org", script_name="/fika", url_scheme="https")
    endpoints = {}
    for what, url in urls.items():
        assert url.startswith(BASE + "/slack/"), (what, url)
        endpoint, _ = adapter.match(urlsplit(url).path[len("/fika") :], method="POST")
        endpoints[what] = endpoint
    assert endpoints == {
        "slash command": "chat.slack_commands",
        "interactivity": "chat.slack_actions",
        "events": "chat.slack_events",
    }
    assert "${FIKA_BASE_URL}" not in result.output


def test_the_slack_manifest_asks_for_exactly_the_documented_scopes_and_events(fika):
    manifest = yaml.safe_load(fika("slack", "manifest").output)
    assert manifest["oauth_config"]["scopes"] == {"bot": DOCUMENTED_SCOPES}  # no user scopes
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "member_joined_channel",
        "member_left_channel",
    ]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"] == "Fika"
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/fika"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["org_deploy_enabled"] is False
    # Slack's limits: a name of at most 35 characters, a long description of 175 to 4000.
    info = manifest["display_information"]
    assert len(info["name"]) <= 35 and 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])


def test_every_scope_in_the_manifest_file_says_why_and_the_readme_lists_the_same():
    text = (ROOT / "integrations" / "slack_app_manifest.yaml").read_text(encoding="utf-8")
    scope_lines = re.findall(
        r"^\s+- ([a-z:.]+)(.*)$", text.split("bot:", 1)[1].split("settings:")[0], re.M
    )
    assert [scope for scope, _ in scope_lines] == DOCUMENTED_SCOPES
    assert all(comment.strip().startswith("#") and len(comment) > 15 for _, comment in scope_lines)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for scope in DOCUMENTED_SCOPES:
        assert f"`{scope}`" in readme


def test_json_is_the_same_manifest(fika):
    as_yaml = yaml.safe_load(fika("slack", "manifest").output)
    result = fika("slack", "manifest", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == as_yaml


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8000", "http://coffee.example.org", "https://x.org/?a=1"]
)
def test_a_base_url_slack_cannot_call_exits_2_naming_it(fika, base):
    one_line_failure(fika("slack", "manifest", FIKA_BASE_URL=base), "FIKA_BASE_URL", base)


# --- Teams ----------------------------------------------------------------------------------


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA PNG, checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert [k for k, _ in chunks][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 6, 0)  # 8-bit RGBA, not interlaced
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * 4 + 1
    assert len(raw) == stride * height
    pixels = []
    for row in range(height):
        line = raw[row * stride : (row + 1) * stride]
        assert line[0] == 0  # filter "none", the only one the writer uses
        pixels += [tuple(line[i : i + 4]) for i in range(1, len(line), 4)]
    return width, height, pixels


@pytest.fixture(scope="module")
def teams_validator() -> Draft4Validator:
    # No check_schema: the schema's \p{L} patterns (extension functions, unused here) are
    # ECMAScript, not Python; tests/data/README.md says so.
    return Draft4Validator(json.loads(TEAMS_SCHEMA.read_text(encoding="utf-8")))


def test_the_teams_package_validates_against_microsofts_schema(fika, tmp_path, teams_validator):
    result = fika("teams", "package", **TEAMS_BOT)
    assert result.exit_code == 0, result.output
    package = tmp_path / "fika-teams.zip"
    assert f"wrote fika-teams.zip: Teams app 0.1.0 for bot {APP_ID}" in result.output
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color, outline = archive.read("color.png"), archive.read("outline.png")
    assert sorted(e.message for e in teams_validator.iter_errors(manifest)) == []
    assert manifest["$schema"] == (
        "https://developer.microsoft.com/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
    )
    assert manifest["manifestVersion"] == "1.29"
    assert manifest["id"] == APP_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team"}
    assert bot["isNotificationOnly"] is False  # people talk to it: /teams/messages answers
    assert f"messaging endpoint to {BASE}/teams/messages" in result.output
    assert manifest["validDomains"] == ["coffee.example.org"]
    assert manifest["developer"]["privacyUrl"] == BASE + "/me/privacy"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}

    width, height, pixels = read_png(color)
    assert (width, height) == (192, 192)
    assert all(a == 255 for *_, a in pixels)  # full colour: opaque
    assert len(set(pixels)) > 2  # a picture, not a flat square
    width, height, pixels = read_png(outline)
    assert (width, height) == (32, 32)
    assert all(p[:3] == (255, 255, 255) for p in pixels)  # white, more or less opaque
    alphas = [a for *_, a in pixels]
    assert alphas[0] == 0 and max(alphas) == 255  # transparent around a white shape


def test_the_schema_check_is_not_vacuous(teams_validator):
    from integrations.teams_app import teams_manifest

    good = teams_manifest(APP_ID, BASE, "Contoso", "1.2.3")
    assert list(teams_validator.iter_errors(good)) == []
    bad_bot = json.loads(json.dumps(good))
    bad_bot["bots"][0]["botId"] = "not-a-guid"
    no_developer = {k: v for k, v in good.items() if k != "developer"}
    bad_colour = dict(good, accentColor="brown")
    # Not wrong_version: the schema says manifestVersion is "const", a keyword draft-04 does
    # not have, so the validator ignores it; the package test checks the version itself.
    for broken in (bad_bot, no_developer, bad_colour):
        assert list(teams_validator.iter_errors(broken)), broken


def test_output_and_version_options(fika, tmp_path, teams_validator):
    target = tmp_path / "out" / "contoso.zip"
    target.parent.mkdir()
    result = fika("teams", "package", "--output", str(target), "--version", "2.0.1", **TEAMS_BOT)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["version"] == "2.0.1"
    assert list(teams_validator.iter_errors(manifest)) == []
    assert not (tmp_path / "fika-teams.zip").exists()


def test_the_same_settings_give_the_same_bytes(fika, tmp_path):
    fika("teams", "package", "--output", "a.zip", **TEAMS_BOT)
    fika("teams", "package", "--output", "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_without_the_bot_app_id_exits_2_and_writes_nothing(fika, tmp_path):
    one_line_failure(fika("teams", "package"), "FIKA_TEAMS_BOT_APP_ID")
    assert not (tmp_path / "fika-teams.zip").exists()


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        ((), dict(TEAMS_BOT, FIKA_TEAMS_BOT_APP_ID="my-bot"), ["FIKA_TEAMS_BOT_APP_ID", "GUID"]),
        ((), dict(TEAMS_BOT, FIKA_BASE_URL="http://127.0.0.1:8000"), ["FIKA_BASE_URL", "https"]),
        (("--version", "1.0"), TEAMS_BOT, ["version", "1.0"]),
        (("--output", "no/such/folder/x.zip"), TEAMS_BOT, ["--output", "no/such/folder"]),
    ],
)
def test_bad_settings_or_options_exit_2_with_one_line(fika, tmp_path, args, env, words):
    one_line_failure(fika("teams", "package", *args, **env), *words)
    assert not list(tmp_path.glob("*.zip"))
