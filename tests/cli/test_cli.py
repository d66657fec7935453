"""The ``fika`` command end to end: demo, round, plan, status, and one-line errors with exit 2."""

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner

from fika.cli import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fika(database_url, tmp_path, monkeypatch):
    """Invoke ``fika`` in-process against a fresh database, as an operator would."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIKA_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FIKA_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("FIKA_ENV", "test")

    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


@time_machine.travel(datetime(2026, 11, 30, 6, 0, tzinfo=UTC), tick=True)  # a Monday morning
def test_demo_end_to_end_twice_makes_one_round_and_no_duplicates(fika, tmp_path):
    first = fika("demo", "--people", "12")
    assert first.exit_code == 0, first.output
    assert "demo organisation: 12 people (12 new)" in first.output
    assert "6 groups, 0 unmatched" in first.output
    assert "deliveries: sent 12, retrying 0, dead 0" in first.output
    assert first.output.count("why: ") == 6
    assert len(list((tmp_path / "outbox").glob("*.ics"))) == 6
    second = fika("demo", "--people", "12")
    assert second.exit_code == 0, second.output
    assert "(0 new)" in second.output and "already ran" in second.output
    status = fika("status")
    assert "Daily digital coffee break [#1]: plans" in status.output
    assert "6 groups" in status.output and "sent 12" in status.output


@time_machine.travel(datetime(2026, 11, 28, 12, 0, tzinfo=UTC), tick=True)  # a Saturday
def test_demo_on_a_weekend_plans_the_next_working_day(fika):
    result = fika("demo", "--people", "4")
    assert result.exit_code == 0, result.output
    assert "no break today (Saturday); the demo plans the next one, Monday 30 November" in (
        result.output
    )
    assert "on 2026-11-30: 2 groups, 0 unmatched" in result.output


def test_round_dry_run_then_real_then_noop(fika):
    fika("demo", "--people", "6")  # people + today's round
    preview = fika("round", "--date", "2030-01-07", "--dry-run")
    assert preview.exit_code == 0 and "preview: 3 groups for 6 people" in preview.output
    real = fika("round", "--date", "2030-01-07")
    assert real.exit_code == 0 and "3 groups, 0 unmatched" in real.output
    again = fika("round", "--date", "2030-01-07")
    assert again.exit_code == 0 and "already ran, nothing to do" in again.output


def test_round_prints_a_summary_and_the_first_groups_all_and_json_print_every_group(fika):
    fika("demo", "--people", "30")
    short = fika("round", "--date", "2030-01-07", "--dry-run")
    assert short.exit_code == 0, short.output
    assert "preview: 15 groups for 30 people" in short.output
    assert "groups: 15 (15 of 2); placed 30, unmatched 0" in short.output
    assert "repeats within cooldown: 0; cross-department " in short.output
    assert short.output.count("why: ") == 10
    assert "... and 5 more groups (--all prints every group, --json all data)" in short.output

    everything = fika("round", "--date", "2030-01-07", "--dry-run", "--all")
    assert everything.output.count("why: ") == 15 and "more groups" not in everything.output

    data = json.loads(fika("round", "--date", "2030-01-07", "--dry-run", "--json").output)
    assert data["created"] is False and data["round_id"] is None
    assert data["summary"]["groups"] == 15 and data["summary"]["placed"] == 30
    assert data["summary"]["sizes"] == {"2": 15}
    assert 0 <= data["summary"]["hybrid_share"] <= 1
    assert len(data["groups"]) == 15
    members = [m["id"] for g in data["groups"] for m in g["members"]]
    assert len(members) == len(set(members)) == 30
    first = data["groups"][0]
    assert first["slot"]["start"].endswith("Z") and first["slot"]["end"] > first["slot"]["start"]
    assert first["reasons"] and {"name", "department", "timezone"} <= set(first["members"][0])

    real = json.loads(fika("round", "--date", "2030-01-07", "--json").output)
    assert real["created"] is True and isinstance(real["round_id"], int)
    # The preview and the run use the same seed: the same groups.
    assert [g["members"] for g in real["groups"]] == [g["members"] for g in data["groups"]]
    again = json.loads(fika("round", "--date", "2030-01-07", "--json").output)
    assert again["created"] is False and again["groups"] == [] and again["summary"] is None
    assert "already ran" in again["message"]


def test_round_for_an_unknown_programme_lists_the_ones_that_exist(fika):
    fika("db", "upgrade")
    result = CliRunner().invoke(cli, ["round", "--programme", "Nope"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "fika: --programme: no programme named 'Nope'; there are: 'Daily digital coffee break'"
    )
    assert "db upgrade" not in result.output


def test_round_help_explains_the_seed():
    result = CliRunner().invoke(cli, ["round", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--seed INTEGER Tie-break seed" in text and "reproducible previews" in text
    assert "--all" in text and "--json" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("round", "--date", "2030-13-01"), "--date: '2030-13-01' is not a date (YYYY-MM-DD)"),
        (("round", "--programme", "Nope"), "--programme: no programme named 'Nope'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(fika, args, message):
    fika("db", "upgrade")
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fika: {message}")


def run_fika(*args, input=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "fika", *args],
        input=input,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_plan_reads_stdin_and_prints_json():
    request = {
        "date": "2026-11-30",
        "participants": [
            {"id": "a", "department": "Sales"},
            {"id": "b", "department": "Research"},
            {"id": "c", "department": "Legal"},
        ],
    }
    result = run_fika("plan", input=json.dumps(request))
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [sorted(g["members"]) for g in plan["groups"]] == [["a", "b", "c"]]
    assert plan["unmatched"] == []


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        ("{not json", "stdin: not valid JSON"),
        ('{"date": "2026-02-30", "participants": []}', "date"),
        (
            '{"date": "2026-11-30", "participants": [{"id": "a", "department": "x", '
            '"timezone": "Europe/Stokholm"}]}',
            "participants[0].timezone",
        ),
    ],
)
def test_plan_bad_input_exits_2_with_one_line(stdin, needle):
    result = run_fika("plan", input=stdin)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("fika: ")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_production_start_without_secret_refuses_naming_it(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "FIKA_INSTANCE_PATH": str(tmp_path), "HOME": str(tmp_path)}
    result = run_fika("status", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("fika: FIKA_SECRET_KEY is not set")
    assert len(result.stderr.strip().splitlines()) == 1


@time_machine.travel(datetime(2026, 11, 30, 17, 0, tzinfo=UTC), tick=True)  # Monday 18:00 CET
def test_demo_after_hours_plans_the_next_working_day_with_breaks_ahead(fika, tmp_path):
    from sqlalchemy import select

    from core.db import db
    from core.models import Group
    from web import create_app

    result = fika("demo", "--people", "12")
    assert result.exit_code == 0, result.output
    assert (
        "today's break (10:00 Europe/Stockholm) is over; the demo plans the next one, "
        "Tuesday 1 December"
    ) in result.output
    assert "on 2026-12-01: 6 groups, 0 unmatched" in result.output
    app = create_app()
    with app.app_context():
        starts = list(db.session.scalars(select(Group.start_at)))
        db.session.remove()
        db.engine.dispose()
    assert len(starts) == 6 and all(start > datetime.now(UTC) for start in starts)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 30, 7, 59, tzinfo=UTC), date(2026, 11, 30)),  # 08:59: an hour ahead
        (datetime(2026, 11, 30, 8, 30, tzinfo=UTC), date(2026, 12, 1)),  # too late to plan
        (datetime(2026, 12, 4, 22, 0, tzinfo=UTC), date(2026, 12, 7)),  # Friday night: Monday
        (datetime(2027, 1, 5, 12, 0, tzinfo=UTC), date(2027, 1, 7)),  # 6 Jan: Epiphany in Sweden
        (datetime(2026, 12, 24, 12, 0, tzinfo=UTC), date(2026, 12, 28)),  # Christmas Day: Monday
    ],
)
def test_demo_day_is_the_next_programme_day_whose_break_is_ahead(now, expected):
    from datetime import time

    from core.models import WEEKDAYS, Programme
    from fika.demo import demo_day

    programme = Programme(
        days=list(WEEKDAYS[:5]),
        local_time=time(10),
        timezone="Europe/Stockholm",
        lead_minutes=60,
        active=True,
        cadence="weekly",
    )
    assert demo_day(programme, now) == expected


def test_plan_reads_a_file_argument_and_dash_for_stdin(tmp_path):
    request = {
        "date": "2026-11-30",
        "participants": [
            {"id": "a", "department": "Sales"},
            {"id": "b", "department": "Research"},
        ],
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    from_file = run_fika("plan", str(path))
    assert from_file.returncode == 0, from_file.stderr
    assert [sorted(g["members"]) for g in json.loads(from_file.stdout)["groups"]] == [["a", "b"]]
    from_stdin = run_fika("plan", "-", input=json.dumps(request))
    assert from_stdin.returncode == 0
    assert json.loads(from_stdin.stdout)["groups"] == json.loads(from_file.stdout)["groups"]


def test_plan_with_a_missing_file_exits_2_with_one_line(tmp_path):
    result = run_fika("plan", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"fika: REQUEST: cannot read {str(tmp_path / 'nope.json')!r} (No such file or directory)"
    ]


def test_plan_help_shows_an_example_request_that_works(tmp_path):
    help_text = CliRunner().invoke(cli, ["plan", "--help"]).output
    assert "fika plan request.json" in help_text
    start = help_text.index("{")
    end = help_text.index("]}", start) + 2
    example = json.loads(help_text[start:end])
    assert len(example["participants"]) == 2
    (tmp_path / "request.json").write_text(help_text[start:end])
    result = run_fika("plan", str(tmp_path / "request.json"))
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["groups"]) == 1


@pytest.mark.parametrize("command", [["db", "--help"], ["db", "upgrade", "--help"]])
def test_db_help_is_plain_text(command):
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0
    assert "``" not in result.output
    assert "fika db upgrade" in result.output or "REVISION" in result.output


def test_outside_demo_mode_the_links_say_how_to_make_the_demo_admin_an_admin(app):
    from fika.demo import ensure_demo_people, sign_in_lines
    from tests.conftest import settings_of

    settings = settings_of(app)
    with app.app_context():
        ensure_demo_people(4, 7)
        lines = sign_in_lines(settings)
    assert lines[1] == "  demo admin: add admin@example.org to FIKA_ADMIN_EMAILS to sign in as it"
    assert lines[2].startswith("  demo person (") and f"{settings.base_url}/me/sign-in/" in lines[2]


LOADED_MIGRATIONS = """
import sys
from click.testing import CliRunner
from fika.cli import cli
from web import create_app

create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "FIKA_ENV": "test"})
assert CliRunner().invoke(cli, ["round", "--help"]).exit_code == 0
print(sorted(m for m in ("alembic", "flask_migrate") if m in sys.modules))
"""


def test_commands_other_than_the_migrations_never_import_alembic(tmp_path):
    """Alembic (through Flask-Migrate) is a large part of a command's start-up: `fika round`
    and the app itself leave it unimported until a migration runs."""
    env = {"PATH": "/usr/bin:/bin", "FIKA_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", LOADED_MIGRATIONS], capture_output=True, text=True, cwd=ROOT,
        env=env, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]", done.stderr


def _schema_version(database_url: str) -> str | None:
    import sqlalchemy as sa

    from core.settings import normalise_database_url

    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def test_db_lists_and_runs_flask_migrates_commands(fika, database_url):
    """Flask-Migrate's commands under `fika db`, loaded when asked for, run as before."""
    listed = fika("db", "--help").output
    for name in ("upgrade", "downgrade", "current", "history", "heads", "migrate", "check"):
        assert f"  {name} " in listed, listed
    assert "stamp" in listed
    assert fika("db", "upgrade").exit_code == 0
    assert fika("db", "current").exit_code == 0
    assert fika("db", "heads").exit_code == 0
    assert fika("db", "downgrade").exit_code == 0  # one step
    assert _schema_version(database_url) == "0011"
    assert fika("db", "stamp", "0012").exit_code == 0
    assert _schema_version(database_url) == "0012"


def test_flask_db_commands_still_come_with_the_app(app, database_url):
    """`flask --app web db …` (the app's own CLI) binds Flask-Migrate when it is used."""
    runner = app.test_cli_runner()
    assert "downgrade" in runner.invoke(args=["db", "--help"]).output
    assert runner.invoke(args=["db", "stamp", "0011"]).exit_code == 0
    assert _schema_version(database_url) == "0011"
