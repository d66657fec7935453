"""What people want to learn and can share: the CSV import's columns and the people API's fields.

``learn_topics`` is ``Preference.topics`` and ``share_topics`` ``Preference.share_topics``; in a
file, a cell lists topics separated by ``;``, and the older ``topics`` column is read as
``learn_topics``. Absent, null or an empty cell leaves what is stored; ``[]`` clears (API).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.api_tokens import create_token
from core.db import db
from core.models import Person
from core.people_import import check_csv, template_csv

HEADER = "email,name,department,learn_topics,share_topics\n"


def run(text: str):
    report, _ = check_csv(text.encode(), "Europe/Stockholm", dry_run=False)
    db.session.commit()
    return report


def topics_of(email: str) -> tuple[list, list]:
    db.session.expire_all()
    person = db.session.scalar(select(Person).where(Person.email == email))
    return person.preference.topics, person.preference.share_topics


def test_the_csv_import_reads_learn_and_share_topics(app):
    with app.app_context():
        report = run(
            HEADER + "ada@example.org,Ada,Research,Python; statistics ;python,Mathematics\n"
            "bo@example.org,Bo,Sales,,\n"
        )
        assert report.ok and report.created == 2, report.errors
        assert topics_of("ada@example.org") == (["Python", "statistics"], ["Mathematics"])
        assert topics_of("bo@example.org") == ([], [])
        # A changed cell updates; an empty one leaves what is stored.
        again = run(HEADER + "ada@example.org,Ada,Research,Rust,\n")
        assert (again.updated, again.unchanged) == (1, 0)
        assert topics_of("ada@example.org") == (["Rust"], ["Mathematics"])
        same = run(HEADER + "ada@example.org,Ada,Research,Rust,Mathematics\n")
        assert same.unchanged == 1
        # The older column name.
        legacy = run("email,name,department,topics\nada@example.org,Ada,Research,Go;Rust\n")
        assert legacy.ok and legacy.ignored_columns == []
        assert topics_of("ada@example.org") == (["Go", "Rust"], ["Mathematics"])
        assert "learn_topics,share_topics" in template_csv().splitlines()[0]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("x" * 61, "at most 60 characters"),
        (";".join(f"t{n}" for n in range(11)), "at most 10 topics"),
        ("a\x07b", "a topic"),
    ],
)
def test_bad_topic_cells_are_reported_and_nothing_written(app, cell, reason):
    with app.app_context():
        report = run(HEADER + f'ada@example.org,Ada,Research,"{cell}",\n')
        assert not report.ok and report.created == 0
        (error,) = report.errors
        assert (error.line, error.column) == (2, "learn_topics") and reason in error.reason


def test_the_people_api_sets_and_shows_both_lists(app):
    with app.app_context():
        _, secret = create_token("HR", "test")
        db.session.commit()
    client, auth = app.test_client(), {"Authorization": f"Bearer {secret}"}
    body = {"name": "Ada", "department": "Research", "learn_topics": ["Python", "SQL"]}
    made = client.put("/api/v1/people/ada@example.org", json=body, headers=auth)
    assert made.status_code == 201, made.json
    assert made.json["learn_topics"] == ["Python", "SQL"] and made.json["share_topics"] == []
    changed = client.put(
        "/api/v1/people/ada@example.org",
        json={"name": "Ada", "department": "Research", "share_topics": ["Python"]},
        headers=auth,
    )
    assert changed.json["learn_topics"] == ["Python", "SQL"]
    assert changed.json["share_topics"] == ["Python"]
    cleared = client.put(
        "/api/v1/people/ada@example.org",
        json={"name": "Ada", "department": "Research", "learn_topics": []},
        headers=auth,
    )
    assert cleared.json["learn_topics"] == [] and cleared.json["share_topics"] == ["Python"]
    for bad in ("Python", ["a,b"], [1], ["x" * 61], [""] * 11):
        refused = client.put(
            "/api/v1/people/ada@example.org",
            json={"name": "Ada", "department": "Research", "share_topics": bad},
            headers=auth,
        )
        assert refused.status_code == 422, bad
        assert refused.json["errors"][0]["field"] == "share_topics"
    document = client.get("/api/openapi.json").json["components"]["schemas"]
    assert {"learn_topics", "share_topics"} <= set(document["PersonInput"]["properties"])
    assert {"learn_topics", "share_topics"} <= set(document["Person"]["required"])


JOIN = {
    "name": "Ana Berg",
    "email": "ana.berg@example.org",
    "department": "Research",
    "office": "Stockholm",
    "timezone": "Europe/Stockholm",
}


def test_the_join_form_asks_what_to_learn_and_share(app):
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert 'for="topics"' in page and 'for="share_topics"' in page
    bad = client.post("/", data={**JOIN, "topics": ",".join(f"t{n}" for n in range(11))})
    assert bad.status_code == 400 and "at most 10 topics" in bad.get_data(as_text=True)
    joined = client.post(
        "/", data={**JOIN, "topics": "Python, statistics, python", "share_topics": "Rust"}
    )
    assert joined.status_code == 200
    with app.app_context():
        assert topics_of("ana.berg@example.org") == (["Python", "statistics"], ["Rust"])
