"""Parts of the people's pages that are built once per language, not per request.

/me's learning-team checkboxes are exactly what the team preferences form renders, ticked as
the person chose, in their language; the join form's language menu speaks the page's language.
"""

from __future__ import annotations

from itertools import product

from markupsafe import escape

from core.db import db
from core.i18n import using
from core.models import Person
from tests.core.helpers import add_person
from web.account.teams import TeamPreferencesForm


def fresh_form_html(app, language: str, ambassador: bool, opt_out: bool) -> list[str]:
    """The two labels' contents as a form built for this request renders them (the old way)."""
    with app.test_request_context("/me"), using(language):
        form = TeamPreferencesForm(
            formdata=None, show_as_ambassador=ambassador, digest_opt_out=opt_out
        )
        return [
            f"<label>{field()} {escape(field.label.text)}</label>"
            for field in (form.show_as_ambassador, form.digest_opt_out)
        ]


def test_the_checkboxes_are_those_the_form_renders_for_each_choice(app, client):
    with app.app_context():
        person_id = add_person("ana.berg@example.org", "Research").id
    with client.session_transaction() as session:
        session["person_id"] = person_id
    choices = [(False, False), (True, False), (False, True), (True, True)]
    seen = set()
    for language, (ambassador, opt_out) in product(["en", "sv", "de"], choices):
        with app.app_context():
            person = db.session.get(Person, person_id)
            person.language = language
            person.preference.show_as_ambassador = ambassador
            person.preference.digest_opt_out = opt_out
            db.session.commit()
        page = client.get("/me").get_data(as_text=True)
        expected = fresh_form_html(app, language, ambassador, opt_out)
        for label in expected:
            assert label in page
        assert ("checked" in expected[0]) is ambassador and ("checked" in expected[1]) is opt_out
        seen.add(expected[0].split("> ", 1)[1])
    assert len(seen) == 3  # each language's own label


def test_the_language_menu_speaks_the_page_language_each_time(app):
    from web.forms import language_choices

    for language, automatic in [("sv", "Automatiskt"), ("en", "Automatic"), ("de", "Automatisch")]:
        with app.test_request_context("/"), using(language):
            assert language_choices()[0][1].startswith(automatic)
