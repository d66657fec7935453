"""The templates' ``_()`` and ``gettext()`` call the catalogue directly (``web.i18n``); what they
give is what Jinja's new-style gettext gives: translated, escaped values, always formatted."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from core.i18n import using
from web.i18n import _lookup_gettext, _lookup_ngettext

TEMPLATE = (
    '{{ _("Skip to content") }}|{{ gettext("Your name") }}|'
    '{{ _("You\'re in, %(name)s!", name=name) }}|'
    '{{ _("The invite goes to %(email)s. You will be matched with someone from another '
    'department, mixing people in the office and at home.", email=("<strong>"|safe) ~ email ~ '
    '("</strong>"|safe)) }}|{{ _("Unknown %(x)s", x=name) }}'
)


def jinja_newstyle(autoescape: bool) -> Environment:
    """Jinja's own new-style gettext over the same catalogue lookups."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    env.install_gettext_callables(_lookup_gettext, _lookup_ngettext, newstyle=True)
    return env


@pytest.mark.parametrize("language", ["en", "sv", "de"])
def test_the_pages_gettext_gives_what_jinjas_new_style_gives(app, language):
    values = {"name": "<Ana & 'Ben'>", "email": "a&b@example.org"}
    with app.test_request_context("/"), using(language):
        for autoescape in (True, False):
            ours = app.jinja_env.overlay(autoescape=autoescape).from_string(TEMPLATE)
            theirs = jinja_newstyle(autoescape).from_string(TEMPLATE)
            assert ours.render(values) == theirs.render(values)
        page = app.jinja_env.from_string(TEMPLATE).render(values)
        assert "&lt;Ana &amp; &#39;Ben&#39;&gt;" in page and "<strong>a&amp;b@" in page
        if language == "sv":
            assert "Hoppa till innehållet" in page
