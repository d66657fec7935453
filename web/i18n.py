"""Which language a web page speaks, and the template helpers that speak it.

Flask-Babel asks :func:`select_language` once per request. On the admin's pages, the admin's
own language switch (``session["language"]``, ``POST /admin/language``) wins. Otherwise the first
of these that names a language Fika speaks (``core.i18n.LANGUAGES``) wins:

1. the signed-in person's own choice (``Person.language``, set on the join form or /me);
2. the choosers registered with :func:`add_language_chooser`, in order (a public hook);
3. the language chosen for this browser session, ``session["language"]`` (the admin's own
   language switch stores it there; it counts for any visitor);
4. the browser's ``Accept-Language``;
5. the organisation's language, ``FIKA_LANGUAGE`` (default ``en``).

A person's own choice comes first because it is the one they made about themselves and it is
the language their invites and emails arrive in; a session choice still lets anyone who chose
nothing (and every admin who is not a person) pick a language for this browser.

Templates get core.i18n's ``_``, ``gettext`` and ``ngettext`` (new-style: ``%(name)s``
placeholders filled from keyword arguments, autoescaped), ``page_language()`` for
``<html lang>``, and the filters ``|datetime``, ``|date`` and ``|time``, which format an instant
with Babel in the page's locale and the reader's zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from flask import Flask, current_app, g, request, session
from flask_babel import Babel, refresh
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from core import i18n
from core.i18n import normalise
from integrations.reasons import translate_reason
from integrations.starters import translate_starter

#: Where the choosers registered by :func:`add_language_chooser` are kept on the app.
CHOOSERS = "fika.language_choosers"
#: The session key of a language chosen for this browser (the admin's language switch).
SESSION_KEY = "language"

#: Named formats for the filters, per language; anything else is passed to Babel as a pattern
#: (``"short"``, ``"medium"``, ``"long"``, ``"full"`` or a CLDR pattern such as ``"d MMM"``).
#: "day" is how people's pages name a break's day: "Monday 7 December", "måndag 7 december",
#: "Montag, 7. Dezember".
DATE_FORMATS: dict[str, dict[str, str]] = {
    "day": {"en": "EEEE d MMMM", "sv": "EEEE d MMMM", "de": "EEEE, d. MMMM"},
    "day_year": {"en": "EEEE d MMMM y", "sv": "EEEE d MMMM y", "de": "EEEE, d. MMMM y"},
    "day_month": {"en": "d MMMM", "sv": "d MMMM", "de": "d. MMMM"},
    "long_date": {"en": "d MMMM y", "sv": "d MMMM y", "de": "d. MMMM y"},
}
TIME_FORMATS: dict[str, dict[str, str]] = {
    "clock": {"en": "HH:mm", "sv": "HH:mm", "de": "HH:mm"},
}
#: "daytime" = "day" and "clock": "måndag 7 december 09:00", "Montag, 7. Dezember, 09:00".
DATETIME_FORMATS: dict[str, dict[str, str]] = {
    "daytime": {
        "en": "EEEE d MMMM, HH:mm",
        "sv": "EEEE d MMMM HH:mm",
        "de": "EEEE, d. MMMM, HH:mm",
    },
}

LanguageChooser = Callable[[], str | None]


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` and give the templates core.i18n's functions and filters."""
    Babel(
        app,
        locale_selector=select_language,
        default_translation_directories=str(i18n.TRANSLATIONS_DIR),
        default_domain=i18n.DOMAIN,
        configure_jinja=False,  # the templates use core.i18n (it also reads the .po files)
    )
    app.extensions.setdefault(CHOOSERS, [])
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # Jinja's new-style wrappers fill in the placeholders (escaping the values); they get the
    # bare catalogue lookups, so a placeholder is never filled twice.
    app.jinja_env.install_gettext_callables(
        _lookup_gettext, _lookup_ngettext, newstyle=True, pgettext=_lookup_pgettext
    )
    # ``_()`` and ``gettext()``, the templates' most frequent calls (dozens per page), straight
    # to the catalogue: the same new-style result without the extension's two extra calls.
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)
    app.jinja_env.globals.update(
        page_language=i18n.current_language,
        current_language=i18n.current_language,
        language_names=i18n.LANGUAGE_NAMES,
        # The admin pages' dates: "Monday 7 December" / "måndag 7 december" / "Montag,
        # 7. Dezember"; and "7 December 2026" / "7 december 2026" / "7. Dezember 2026".
        format_day=lambda day: date_filter(day, format="day"),
        format_long_date=lambda day: date_filter(day, format="long_date"),
    )
    app.jinja_env.filters.update(
        datetime=datetime_filter,
        date=date_filter,
        time=time_filter,
        # Reasons and conversation starters are stored as the planner wrote them (English) and
        # read in the page's language: {{ reason|reason }}, {{ group.starter|starter }}.
        reason=translate_reason,
        starter=translate_starter,
    )


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, message: str, /, **variables: object) -> str:
    """``{{ _("Hello, %(name)s", name=...) }}``: what Jinja's new-style ``gettext`` gives (the
    translation, as Markup when autoescaping, always formatted with the escaped ``variables``),
    called directly instead of through ``jinja2.ext``'s alias and wrapper."""
    text = i18n.translations(i18n.current_language()).gettext(message)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def _lookup_gettext(message: str) -> str:
    return i18n.translations(i18n.current_language()).gettext(message)


def _lookup_ngettext(singular: str, plural: str, num: int) -> str:
    return i18n.translations(i18n.current_language()).ngettext(singular, plural, num)


def _lookup_pgettext(context: str, message: str) -> str:
    return i18n.translations(i18n.current_language()).pgettext(context, message)


def add_language_chooser(app: Flask, chooser: LanguageChooser) -> None:
    """Consult ``chooser`` after the person's own language and before the session's choice.

    ``chooser()`` runs inside the request and returns a language code, or None to pass.
    """
    app.extensions.setdefault(CHOOSERS, []).append(chooser)


def select_language() -> str:
    """The page's language (see the module docstring for the order)."""
    switched = session.get(SESSION_KEY)
    if request.blueprint == "admin" and isinstance(switched, str) and normalise(switched):
        return normalise(switched)  # the admin's own switch wins on the admin's pages
    own = normalise(_person_language())
    if own:
        return own
    for chooser in current_app.extensions.get(CHOOSERS, ()):
        chosen = normalise(chooser())
        if chosen:
            return chosen
    chosen = (
        normalise(session.get(SESSION_KEY)) if isinstance(session.get(SESSION_KEY), str) else None
    )
    if chosen:
        return chosen
    for asked, _quality in request.accept_languages:  # best first; "sv-SE" counts as "sv"
        browser = normalise(asked)
        if browser:
            return browser
    return normalise(current_app.config.get("FIKA_LANGUAGE")) or i18n.DEFAULT_LANGUAGE


def refresh_language() -> None:
    """Choose the page's language again (after the person changed their own)."""
    refresh()
    g.pop(i18n.PAGE_LANGUAGE, None)


def _person_language() -> str | None:
    """The signed-in person's own choice; None when nobody is signed in or they chose none."""
    from web.auth import current_person

    if "person_id" not in session:
        return None  # no query for anonymous visitors
    try:
        person = current_person()
    except SQLAlchemyError:  # the database is down: the 503 page still gets a language
        return None
    return person.language if person is not None else None


def _zone(zone: tzinfo | str | None) -> tzinfo | None:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def _pattern(formats: dict[str, dict[str, str]], name: str) -> str:
    named = formats.get(name)
    return named.get(i18n.current_language(), named["en"]) if named else name


def datetime_filter(value: datetime, zone: tzinfo | str | None = None, format: str = "daytime"):
    """``{{ instant|datetime(person.timezone) }}``: the instant in the reader's zone and locale."""
    return format_datetime(
        value, _pattern(DATETIME_FORMATS, format), tzinfo=_zone(zone), locale=i18n.locale()
    )


def date_filter(value: date | datetime, zone: tzinfo | str | None = None, format: str = "day"):
    """``{{ day|date }}`` or ``{{ instant|date(zone) }}`` (the day in that zone)."""
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(_zone(zone))
    return format_date(value, _pattern(DATE_FORMATS, format), locale=i18n.locale())


def time_filter(value: datetime | time, zone: tzinfo | str | None = None, format: str = "clock"):
    """``{{ instant|time(zone) }}``: the clock time in that zone ("09:00")."""
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(_zone(zone))
    return format_time(value, _pattern(TIME_FORMATS, format), locale=i18n.locale())
