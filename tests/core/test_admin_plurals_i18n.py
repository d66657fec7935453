"""The admin side's plural strings in English, Swedish and German, through core.i18n.

"1 group" / "2 groups" in every language (no "1 grupper"), the import summary and the round
outcome, each rendered inside ``core.i18n.using`` as the outbox and the CLI do.
"""

from __future__ import annotations

import pytest

from core.i18n import ngettext, using
from core.people_import import ImportReport, RowError
from core.programmes import ProgrammeSettings, settings_problems

GROUPS = {
    "en": ("1 group", "2 groups"),
    "sv": ("1 grupp", "2 grupper"),
    "de": ("1 Gruppe", "2 Gruppen"),
}
PEOPLE = {
    "en": ("1 person", "5 people"),
    "sv": ("1 person", "5 personer"),
    "de": ("1 Person", "5 Personen"),
}


@pytest.mark.parametrize("language", ["en", "sv", "de"])
def test_one_group_and_two_groups_in_every_language(language):
    with using(language):
        assert ngettext("%(num)d group", "%(num)d groups", 1) == GROUPS[language][0]
        assert ngettext("%(num)d group", "%(num)d groups", 2) == GROUPS[language][1]
        assert ngettext("%(num)d person", "%(num)d people", 1) == PEOPLE[language][0]
        assert ngettext("%(num)d person", "%(num)d people", 5) == PEOPLE[language][1]


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("en", "1 row: created 1", "3 rows: would create 2"),
        ("sv", "1 rad: skapade 1", "3 rader: skulle skapa 2"),
        ("de", "1 Zeile: 1 angelegt", "3 Zeilen: würde 2 anlegen"),
    ],
)
def test_the_import_summary_counts_rows_in_the_reader_language(language, one, many):
    with using(language):
        assert ImportReport(rows=1, created=1, dry_run=False).summary().startswith(one)
        assert ImportReport(rows=3, created=2, updated=1).summary().startswith(many)


def test_row_errors_and_programme_problems_are_translated_inside_using():
    error = RowError(4, "language", "x")
    with using("sv"):
        assert str(error) == "rad 4, kolumn language: x"
        problems = settings_problems(ProgrammeSettings(name="Fika", days=[], language="fr"))
        assert problems["days"] == "Välj minst en dag."
        assert problems["language"].startswith("Okänt språk; välj något av en, sv, de")
    with using("de"):
        assert str(RowError(1, "", "y")) == "Zeile 1: y"
    assert settings_problems(ProgrammeSettings(name="Fika", language=None)) == {}
    assert settings_problems(ProgrammeSettings(name="Fika", language="de")) == {}
