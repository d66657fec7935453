"""``fika import`` and ``fika admin token``: all-or-nothing imports, one-line errors, tokens."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fika.cli import cli

GOOD = (
    "email,name,department,office,timezone\n"
    "ada@example.org,Ada Lovelace,Research,Stockholm,Europe/Stockholm\n"
    "bo@example.org,Bo Ek,Sales,,Europe/Oslo\n"
)


@pytest.fixture
def fika(database_url, tmp_path, monkeypatch):
    """Run ``fika`` in-process against a fresh database with every table created."""
    from core.db import db
    from web import create_app

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIKA_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FIKA_ENV", "test")
    app = create_app()
    with app.app_context():
        db.create_all()
        db.engine.dispose()

    def run(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    def query(statement):
        with app.app_context():
            try:
                return db.session.scalar(statement)
            finally:
                db.session.remove()
                db.engine.dispose()

    run.query = query
    return run


def people_count(fika) -> int:
    from core.models import Person

    return fika.query(select(func.count(Person.id)))


def test_dry_run_then_import_then_unchanged(fika, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    dry = fika("import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run: 2 rows: would create 2, would update 0, unchanged 0, errors 0" in dry.output
    assert people_count(fika) == 0
    real = fika("import", str(path))
    assert real.exit_code == 0 and "imported: 2 rows: created 2" in real.output
    assert people_count(fika) == 2
    again = fika("import", str(path))
    assert "created 0, updated 0, unchanged 2" in again.output
    from core.models import AuditLog

    assert fika.query(select(func.count(AuditLog.id)).where(AuditLog.actor == "cli")) == 2


def test_bad_rows_exit_2_listing_each_and_write_nothing(fika, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(
        GOOD + ",No Email,Sales,,\nx@example.org,X,Ops,,Mars/Base\nada@example.org,A,B,,\n",
        encoding="utf-8",
    )
    result = fika("import", str(path))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert "people.csv: line 4, column email: email is missing" in lines
    assert "people.csv: line 5, column timezone: unknown time zone 'Mars/Base'" in "\n".join(lines)
    assert "people.csv: line 6, column email: duplicate of line 2" in lines
    assert lines[-1] == (
        "fika: people.csv: 3 problem(s); nothing was imported (fix the file and run again)"
    )
    assert "Traceback" not in result.output
    assert people_count(fika) == 0


def test_wrong_encoding_and_missing_file_are_one_line(fika, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((GOOD + "jo@example.org,José,Ops,,\n").encode("latin-1"))
    result = fika("import", str(path))
    assert result.exit_code == 2
    assert "latin.csv: line 4, column name: not UTF-8 text (byte 0xE9)" in result.output
    missing = fika("import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2
    assert missing.output.strip().startswith("fika: FILE: cannot read")


def test_token_create_prints_once_stores_hash_and_revoke(fika):
    from core.api_tokens import hash_token
    from core.models import ApiToken

    created = fika("admin", "token", "create", "--name", "Workday")
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("fika_") and len(secret) > 40
    stored = fika.query(select(ApiToken.token_hash).where(ApiToken.name == "Workday"))
    assert stored == hash_token(secret) and secret not in stored
    listed = fika("admin", "token", "list")
    assert "Workday" in listed.output and secret not in listed.output
    revoked = fika("admin", "token", "revoke", "--name", "Workday")
    assert revoked.exit_code == 0 and "revoked 1 token(s)" in revoked.output
    assert fika.query(select(ApiToken.revoked_at).where(ApiToken.name == "Workday"))
    again = fika("admin", "token", "revoke", "--name", "Workday")
    assert again.exit_code == 2 and "no active token named 'Workday'" in again.output
    blank = fika("admin", "token", "create", "--name", "  ")
    assert blank.exit_code == 2 and blank.output.startswith("fika: --name:")
    both = fika("admin", "token", "revoke")
    assert both.exit_code == 2 and "exactly one of --name" in both.output


def test_control_characters_are_refused_with_line_and_column(fika, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(b'email,name,department\nada@example.org,"Ada\r\nLovelace",Re\x00search\n')
    result = fika("import", str(path))
    assert result.exit_code == 2
    assert "line 2, column name: must not contain line breaks" in result.output
    assert "line 2, column department: must not contain line breaks" in result.output
    assert people_count(fika) == 0


def test_a_cell_longer_than_the_csv_module_reads_is_a_line_and_column(fika, tmp_path):
    """A 2 MB cell once ended the import with csv's "field larger than field limit"."""
    path = tmp_path / "people.csv"
    path.write_bytes(b"email,name,department\nada@example.org," + b"A" * 2_000_000 + b",Research\n")
    result = fika("import", str(path))
    assert result.exit_code == 2
    assert "people.csv: line 2, column name: longer than 200 characters" in result.output
    assert "Traceback" not in result.output and "_csv" not in result.output
    assert people_count(fika) == 0
