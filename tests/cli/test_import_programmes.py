"""``fika programmes import``: exit 0 and a summary, 1 listing bad rows, 2 for a bad file."""

from __future__ import annotations

from sqlalchemy import select

from core.models import AuditLog, Programme
from tests.cli.test_import import fika  # noqa: F401 - the fixture
from tests.web.test_import_programmes import GOOD


def test_dry_run_then_import_then_update(fika, tmp_path):  # noqa: F811
    path = tmp_path / "programmes.csv"
    path.write_text(GOOD, encoding="utf-8")
    dry = fika("programmes", "import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run: 2 rows: would create 2, would update 0" in dry.output
    assert fika.query(select(Programme.id).where(Programme.name == "Friday fika")) is None
    real = fika("programmes", "import", str(path))
    assert real.exit_code == 0 and "imported: 2 rows: created 2" in real.output, real.output
    channel = select(Programme.slack_channel_id).where(Programme.name == "Friday fika")
    assert fika.query(channel) == "C0FIKA1"
    path.write_text("name,slack_channel\nFriday fika,G0NEW\n", encoding="utf-8")
    update = fika("programmes", "import", str(path))
    assert "created 0, updated 1" in update.output and fika.query(channel) == "G0NEW"
    actor = select(AuditLog.actor).where(AuditLog.action == "programmes.import")
    assert fika.query(actor) == "cli"


def test_bad_rows_exit_1_listing_each_and_write_nothing(fika, tmp_path):  # noqa: F811
    path = tmp_path / "programmes.csv"
    path.write_text(GOOD + "Lunch,,,,,,,,,,#lunch,,,\nTea,,,,25:00,,,,,,,,,\n", encoding="utf-8")
    result = fika("programmes", "import", str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("programmes.csv: line 4, column slack_channel: ") for line in lines)
    assert "programmes.csv: line 5, column local_time: '25:00' is not a time" in result.output
    assert "2 problem(s); nothing was imported" in result.output
    assert fika.query(select(Programme.id).where(Programme.name == "Friday fika")) is None


def test_a_missing_file_or_bad_header_exits_2_with_one_line(fika, tmp_path):  # noqa: F811
    missing = fika("programmes", "import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and len(missing.output.splitlines()) == 1
    assert missing.output.startswith("fika: FILE: cannot read")
    path = tmp_path / "programmes.csv"
    path.write_text("title,days\nX,mon\n", encoding="utf-8")
    header = fika("programmes", "import", str(path))
    assert header.exit_code == 2 and header.output.splitlines() == [
        "fika: programmes.csv: line 1, column name: required column is missing"
    ]
