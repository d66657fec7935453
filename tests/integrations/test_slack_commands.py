"""/fika slash command parsing: every path, and every bad argument with an actionable message."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.slack_commands import Command, CommandError, help_text, parse_command

TODAY = date(2025, 3, 11)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("join", Command("join")),
        ("  JOIN  ", Command("join")),
        ("resume", Command("resume")),
        ("status", Command("status")),
        ("leave", Command("leave")),
        ("help", Command("help")),
        ("", Command("help")),
        ("pause", Command("pause", None)),
        ("pause until 2025-04-01", Command("pause", date(2025, 4, 1))),
        ("pause until 2025-03-12", Command("pause", date(2025, 3, 12))),
        ("pause for 14 days", Command("pause", date(2025, 3, 25))),
        ("Pause For 1 day", Command("pause", date(2025, 3, 12))),
        ("pause for 365 days", Command("pause", date(2026, 3, 11))),
        ("team Rust", Command("team", topic="Rust")),
        ("  Team   Rust  for  Beginners ", Command("team", topic="Rust  for  Beginners")),
        ("team 👩‍💻 pairing", Command("team", topic="👩‍💻 pairing")),
    ],
)
def test_valid_commands(text, expected):
    assert parse_command(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("pause until 2025-03-10", "not after today"),
        ("pause until 2025-03-11", "not after today"),
        ("pause until 2026-03-12", "more than 365 days"),
        ("pause until 2025-02-30", "not a day in the calendar"),
        ("pause until 11/03/2025", "YYYY-MM-DD"),
        ("pause until", "/fika pause for 14 days"),
        ("pause for 0 days", "1 to 365"),
        ("pause for -3 days", "1 to 365"),
        ("pause for 366 days", "1 to 365"),
        ("pause for 1.5 days", "whole number"),
        ("pause for ten days", "whole number"),
        ("pause for 14", "/fika pause for 14 days"),
        ("pause for 14 weeks", "/fika pause for 14 days"),
        ("pause tomorrow", "/fika pause until"),
        ("join now", "takes no arguments"),
        ("status please", "takes no arguments"),
        ("team", "Name the topic"),
        ("team \t ", "Name the topic"),
        ("team Rust\nGo", "one line of plain text"),
        ("team Rust\x00", "one line of plain text"),
        ("team Rust\u2028Go", "one line of plain text"),
    ],
)
def test_bad_arguments_say_what_to_type(text, says):
    with pytest.raises(CommandError) as caught:
        parse_command(text, TODAY)
    assert says in caught.value.message


def test_help_names_the_team_command():
    assert "`/fika team <topic>`" in help_text()


def test_unknown_subcommand_answers_with_help():
    with pytest.raises(CommandError) as caught:
        parse_command("snooze", TODAY)
    assert "`snooze`" in caught.value.message
    assert caught.value.message.endswith(help_text())


def test_echoed_input_is_short_and_cannot_break_code_formatting():
    with pytest.raises(CommandError) as caught:
        parse_command("`" + "x" * 500, TODAY)
    assert "x" * 100 not in caught.value.message
    assert "``" not in caught.value.message
