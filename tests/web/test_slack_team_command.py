"""``/fika team <topic>``: a person starts an open learning team from Slack, signed as Slack signs.

The same core as /me's "Start a learning team" (``core.self_formed.start_team``): open to
others, the default length, the person its first member; the answer is ephemeral and links to
/me. Bad topics answer one ephemeral line and store nothing; someone Fika does not know is told
to type ``/fika join``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from core.db import db
from core.enums import ProgrammeKind
from core.models import Person, Programme
from core.participants import programme_members
from core.self_formed import DEFAULT_WEEKS
from tests.core.helpers import add_person
from tests.web.test_chat_routes import command, slack, slack_app  # noqa: F401 - fixtures

NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)


def started() -> list[Programme]:
    return list(db.session.scalars(select(Programme).where(Programme.started_by.is_not(None))))


@time_machine.travel(NOW)
def test_fika_team_starts_an_open_team_for_the_person(slack_app, slack):  # noqa: F811
    with slack_app.app_context():
        ana = add_person("ana@example.org", "Sales").id
    reply = command(slack_app.test_client(), "team   Rust for beginners ")
    assert reply.startswith("Your team on Rust for beginners is started")
    assert "It is open" in reply and f"{DEFAULT_WEEKS} weeks" in reply
    assert "https://fika.example.org/me#teams-heading" in reply
    assert "\n" not in reply
    with slack_app.app_context():
        [programme] = started()
        assert programme.started_by == ana and programme.open_to_join is True
        assert programme.kind == ProgrammeKind.LEARNING_TEAM
        assert programme.topic == "Rust for beginners"
        assert programme.starts_on == date(2030, 1, 2)
        assert programme.ends_on - programme.starts_on == timedelta(weeks=DEFAULT_WEEKS, days=-1)
        members = programme_members(programme, list(db.session.scalars(select(Person))))
        assert [p.id for p in members] == [ana]


@time_machine.travel(NOW)
def test_the_answer_is_in_the_persons_language(slack_app, slack):  # noqa: F811
    with slack_app.app_context():
        add_person("ana@example.org", "Sales").language = "sv"
        db.session.commit()
    client = slack_app.test_client()
    assert command(client, "team").startswith("Ange ämnet: `/fika team <ämne>`")
    reply = command(client, "team Rust")
    assert reply.startswith("Din grupp om Rust har startat")
    assert f"den pågår i {DEFAULT_WEEKS} veckor" in reply


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("team", "Name the topic: `/fika team <topic>`"),
        ("TEAM   ", "Name the topic"),
        ("team Rust\x07", "one line of plain text"),
        ("team Rust\nand Go", "one line of plain text"),
        ("team " + "x" * 101, "at most 100 characters"),
    ],
    ids=["none", "blank", "bell", "newline", "too-long"],
)
@time_machine.travel(NOW)
def test_a_bad_topic_answers_one_line_and_stores_nothing(slack_app, slack, text, needle):  # noqa: F811
    with slack_app.app_context():
        add_person("ana@example.org", "Sales")
        before = db.session.scalar(select(func.count()).select_from(Programme))
    reply = command(slack_app.test_client(), text)
    assert needle in reply and "\n" not in reply
    with slack_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Programme)) == before
        assert started() == []


@time_machine.travel(NOW)
def test_someone_fika_does_not_know_is_told_to_join_first(slack_app, slack):  # noqa: F811
    reply = command(slack_app.test_client(), "team Rust", user="UNEW4")
    assert "type `/fika join`" in reply
    with slack_app.app_context():
        assert started() == []
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0
