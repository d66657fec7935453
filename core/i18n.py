"""The languages Fika speaks, and the one place strings shown to people are translated.

Every string a person or an admin reads goes through :func:`gettext` / :func:`ngettext` (or
:func:`lazy_gettext` for strings defined at import time, such as form labels). Which language
they come out in is decided once per context:

* inside :func:`using` (the outbox rendering one recipient's message, a shared channel message
  in a programme's language), the locale given there;
* otherwise, in a web request, the locale Flask-Babel selected for the request (the person's
  own choice, then ``Accept-Language``, then ``FIKA_LANGUAGE``);
* otherwise the organisation's default, ``FIKA_LANGUAGE`` (``en``).

The catalogues are ``core/translations/<locale>/LC_MESSAGES/messages.po``, compiled to ``.mo``
on install and again at start-up when a ``.po`` is newer (:func:`compile_catalogues`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import LazyProxy, NullTranslations, Translations

#: The languages Fika ships, English first (the language the source strings are written in).
LANGUAGES: tuple[str, ...] = ("en", "sv", "de")
#: Each language's own name, for the language picker.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "sv": "Svenska", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).with_name("translations")
DOMAIN = "messages"

_forced: ContextVar[str | None] = ContextVar("fika_locale", default=None)


def normalise(language: str | None) -> str | None:
    """``"sv-SE"``/``"sv_se"``/``"SV"`` → ``"sv"``; None for anything Fika does not speak."""
    if not language:
        return None
    code = language.strip().replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def default_language() -> str:
    """The organisation's language: ``FIKA_LANGUAGE`` when Fika speaks it, else English."""
    return normalise(os.environ.get("FIKA_LANGUAGE")) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The language strings come out in right now (see the module docstring)."""
    forced = _forced.get()
    if forced:
        return forced
    try:
        from flask import g, has_request_context

        if has_request_context():
            # A page asks dozens of times (every string of its template): the answer is kept
            # for the request, on flask.g beside Flask-Babel's own choice of locale
            # (web.i18n.refresh_language drops both).
            language = g.get(PAGE_LANGUAGE)
            if language is not None:
                return language
            from flask_babel import get_locale

            locale = get_locale()
            if locale is not None:
                language = normalise(str(locale)) or default_language()
                setattr(g, PAGE_LANGUAGE, language)
                return language
    except ImportError:  # pragma: no cover - flask is a dependency; pure core use still works
        pass
    return default_language()


#: Where :func:`current_language` keeps a request's language (``flask.g``).
PAGE_LANGUAGE = "fika_page_language"


@contextmanager
def using(language: str | None) -> Iterator[str]:
    """Render everything inside in ``language`` (falling back to the default); yields it."""
    code = normalise(language) or default_language()
    token = _forced.set(code)
    try:
        yield code
    finally:
        _forced.reset(token)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of ``language`` (null translations for English).

    The compiled ``.mo`` when it is at least as new as its ``.po``; otherwise the ``.po`` is
    compiled in memory, so a checkout whose catalogues were just edited never shows stale text.
    """
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return NullTranslations()
    folder = TRANSLATIONS_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if not po.exists():
        return NullTranslations()
    return Translations(io.BytesIO(compile_po(po)), domain=DOMAIN)


def compile_po(po: Path) -> bytes:
    """The ``.mo`` bytes of one catalogue (fuzzy entries left out, as ``pybabel compile`` does)."""
    with po.open("rb") as fp:
        catalog = read_po(fp)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def gettext(message: str, **variables: object) -> str:
    """``message`` in the current language, ``%(name)s`` placeholders filled from ``variables``."""
    text = translations(current_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """The form for ``num``; ``%(num)d`` is available in both forms."""
    variables.setdefault("num", num)
    return translations(current_language()).ngettext(singular, plural, num) % variables


def pgettext(context: str, message: str, **variables: object) -> str:
    """``message`` disambiguated by ``context`` (the same English word, two translations)."""
    text = translations(current_language()).pgettext(context, message)
    return text % variables if variables else text


def lazy_gettext(message: str, **variables: object) -> LazyProxy:
    """Translated when used, not when defined: for labels built at import time."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables: object) -> LazyProxy:
    return LazyProxy(ngettext, singular, plural, num, enable_cache=False, **variables)


_ = gettext


def locale(language: str | None = None) -> Locale:
    """The Babel locale for ``language`` (default: the current language)."""
    return Locale.parse(normalise(language) or current_language())


# --- dates, times and numbers as people read them ----------------------------------------------
# One shape per language, used by invites, emails and chat alike: "måndag 7 december 09:00",
# "Montag, 7. Dezember, 09:00". English keeps the short shape its readers already know
# ("Wed 12 Mar 2025, 14:00", as before languages).
WHEN_PATTERNS: dict[str, str] = {
    "en": "EEE dd MMM y, HH:mm",  # as strftime("%a %d %b %Y, %H:%M") wrote it
    "sv": "EEEE d MMMM HH:mm",
    "de": "EEEE, d. MMMM, HH:mm",
}
DAY_PATTERNS: dict[str, str] = {"en": "EEE dd MMM y", "sv": "EEEE d MMMM", "de": "EEEE, d. MMMM"}
#: Inside a sentence ("Great, you're in for Wednesday 2 January at 10:00"), English spells the
#: day out; Swedish and German use the same shapes as everywhere else.
SENTENCE_WHEN: dict[str, str] = {**WHEN_PATTERNS, "en": "EEEE d MMMM 'at' HH:mm"}
SENTENCE_DAY: dict[str, str] = {**DAY_PATTERNS, "en": "EEEE d MMMM"}


def format_when(
    moment: datetime, zone: tzinfo, language: str | None = None, *, sentence: bool = False
) -> str:
    """``moment`` (aware) as a reader in ``zone`` says it, e.g. "måndag 7 december 09:00"
    (``sentence``: the shape inside a sentence, :data:`SENTENCE_WHEN`)."""
    code = normalise(language) or current_language()
    pattern = (SENTENCE_WHEN if sentence else WHEN_PATTERNS)[code]
    return format_datetime(moment.astimezone(zone), pattern, locale=locale(code))


def format_span(start: datetime, end: datetime, zone: tzinfo, language: str | None = None) -> str:
    """A break from ``start`` to ``end`` in ``zone``: "måndag 7 december 09:00–09:30"."""
    code = normalise(language) or current_language()
    until = format_time(end.astimezone(zone), "HH:mm", locale=locale(code))
    return f"{format_when(start, zone, code)}–{until}"


def format_day(
    day: date, language: str | None = None, *, sentence: bool = False, year: bool = False
) -> str:
    """A calendar day: "måndag 7 december", "Montag, 7. Dezember", "Mon 07 Dec 2026"
    (``sentence``: "Monday 7 December" in English; ``year``: the year added in words' order)."""
    code = normalise(language) or current_language()
    pattern = (SENTENCE_DAY if sentence else DAY_PATTERNS)[code]
    if year and "y" not in pattern:
        pattern += " y"
    return format_date(day, pattern, locale=locale(code))


def format_number(number: float, language: str | None = None) -> str:
    """A number with the reader's decimal sign: "0,5" in Swedish and German."""
    return format_decimal(number, locale=locale(language))


def N_(message: str) -> str:  # noqa: N802 - the name pybabel extracts by default
    """Mark ``message`` for the catalogue without translating it: a constant stored or compared
    in English (a conversation starter, a reason) and translated with :func:`gettext` when shown."""
    return message
